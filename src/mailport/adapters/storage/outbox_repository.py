"""Repositories of the outbox: the only code that writes SQL for messages, events and webhooks.

Like :mod:`repositories`, every tenant-facing read filters by ``tenant_id``; the worker's reads
(by message id from its own job) do not, because a job already names exactly one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mailport.adapters.queue import JobQueue
from mailport.adapters.storage.tables import Job
from mailport.adapters.storage.tables_outbox import (
    Event,
    Message,
    MessageContent,
    MessageRecipient,
    SentCopy,
    Webhook,
    WebhookDelivery,
)
from mailport.errors import NotFound

__all__ = ["OutboxRepository", "WebhookRepository"]

SEND_JOB = "send"

# The worker's per-message counts, built once: constructing a select costs more Python time
# than SQLite takes to run it.
_IN_FLIGHT = (
    select(func.count())
    .select_from(Message)
    .join(Job, and_(Job.kind == SEND_JOB, Job.dedupe_key == Message.id))
    .where(
        Message.account_id == bindparam("account_id"),
        Message.state == "sending",
        Message.id != bindparam("exclude"),
        JobQueue.holds_slot(now=bindparam("now"), live_since=bindparam("live_since")),
    )
)
_SENT_SINCE = (
    select(func.count())
    .select_from(Message)
    .where(Message.account_id == bindparam("account_id"), Message.sent_at >= bindparam("since"))
)
_RECIPIENTS = cast(Table, MessageRecipient.__table__)
_MESSAGES = cast(Table, Message.__table__)
_EVENTS = cast(Table, Event.__table__)
# Core (table) INSERTs, built once: the accept path's executemany of plain column values.
_INSERT_MESSAGES = _MESSAGES.insert()
_INSERT_CONTENTS = cast(Table, MessageContent.__table__).insert()
_INSERT_RECIPIENTS = _RECIPIENTS.insert()
_INSERT_EVENTS = _EVENTS.insert()
# A plain (not ORM-bulk) UPDATE: the SET values come from the parameters (status, smtp_code, …).
_UPDATE_RECIPIENT = update(_RECIPIENTS).where(
    _RECIPIENTS.c.message_id == bindparam("b_message_id"),
    _RECIPIENTS.c.address == bindparam("b_address"),
)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    # -- messages ----------------------------------------------------------------------------

    def add_many(self, messages: Sequence[dict[str, Any]], contents: Sequence[dict[str, Any]],
                 recipients: Sequence[dict[str, Any]]) -> None:
        """Insert new messages with their bytes and recipients, each row as its column values
        (every row of a table with the same keys): one Core executemany per table. Not the
        ORM's bulk INSERT — that costs more Python per row than SQLite takes to store it, and
        nothing reads these rows back in the transaction that writes them. Empty: nothing (an
        executemany of no rows would be an ``INSERT … DEFAULT VALUES``)."""
        if not messages:
            return
        conn = self.s.connection()
        conn.execute(_INSERT_MESSAGES, list(messages))
        conn.execute(_INSERT_CONTENTS, list(contents))
        if recipients:
            conn.execute(_INSERT_RECIPIENTS, list(recipients))

    def add_events(self, events: Sequence[dict[str, Any]]) -> None:
        """:meth:`add_event` for a batch, each event as its column values (id, tenant_id,
        message_id, type, data, created_at, seq): one executemany."""
        if events:
            self.s.connection().execute(_INSERT_EVENTS, list(events))

    def get(self, *, tenant_id: str, message_id: str) -> Message:
        message = self.s.scalar(
            select(Message).where(Message.tenant_id == tenant_id, Message.id == message_id)
        )
        if message is None:
            raise NotFound("no such message", resource="message")
        return message

    def find(self, message_id: str) -> Message | None:
        """The worker's read: by id only (its job names exactly this message)."""
        return self.s.get(Message, message_id)

    def find_by_idempotency_key(self, *, tenant_id: str, key: str) -> Message | None:
        return self.s.scalar(
            select(Message).where(Message.tenant_id == tenant_id, Message.idempotency_key == key)
        )

    def find_by_idempotency_keys(self, *, tenant_id: str, keys: Sequence[str]) -> list[Message]:
        return list(self.s.scalars(
            select(Message).where(Message.tenant_id == tenant_id, Message.idempotency_key.in_(list(keys)))
        ))

    def list_messages(
        self,
        *,
        tenant_id: str,
        states: Iterable[str] = (),
        account_id: str | None = None,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> Sequence[Message]:
        """Newest first; ``before`` is the (created_at, id) of the last row of the previous page."""
        query = select(Message).where(Message.tenant_id == tenant_id)
        wanted = list(states)
        if wanted:
            query = query.where(Message.state.in_(wanted))
        if account_id is not None:
            query = query.where(Message.account_id == account_id)
        if before is not None:
            created, last_id = before
            query = query.where(
                (Message.created_at < created)
                | and_(Message.created_at == created, Message.id < last_id)
            )
        query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
        return self.s.scalars(query).all()

    def update(self, message_id: str, *, expected_states: Iterable[str], values: dict[str, Any]) -> bool:
        """A guarded state change: only when the row is still in one of ``expected_states``."""
        # Core, not the ORM's bulk UPDATE: nothing in the session mirrors the row, and this is
        # on every send's path twice.
        result = self.s.connection().execute(
            update(_MESSAGES)
            .where(_MESSAGES.c.id == message_id, _MESSAGES.c.state.in_(list(expected_states)))
            .values(**values)
        )
        return bool(result.rowcount)

    def content(self, message_id: str) -> MessageContent:
        content = self.s.get(MessageContent, message_id)
        if content is None:
            raise NotFound("the message's content is missing", resource="message")
        return content

    def recipients(self, message_id: str) -> Sequence[MessageRecipient]:
        return self.s.scalars(
            select(MessageRecipient)
            .where(MessageRecipient.message_id == message_id)
            .order_by(MessageRecipient.position)
        ).all()

    def update_recipients(self, message_id: str, outcomes: Sequence[dict[str, Any]]) -> None:
        """Each recipient's fate after an attempt (keys: address and the outcome columns)."""
        if outcomes:
            rows = [{**{k: v for k, v in o.items() if k != "address"}, "b_address": o["address"],
                     "b_message_id": message_id} for o in outcomes]
            self.s.connection().execute(_UPDATE_RECIPIENT, rows)

    def reopen_recipients(self, message_id: str, *, now: datetime) -> None:
        """Every recipient not accepted yet is to be tried again (a "send again")."""
        self.s.execute(
            update(MessageRecipient)
            .where(MessageRecipient.message_id == message_id,
                   MessageRecipient.status.in_(("failed", "deferred")))
            .values(status="pending", smtp_code=None, enhanced_code=None, text=None, diagnosis=None,
                    updated_at=now)
        )

    def load_for_sending(self, message_ids: Sequence[str]) -> dict[str, tuple[MessageContent, list[MessageRecipient]]]:
        """Messages (into the session: ``find`` then reads no more), their contents and
        recipients for a batch of sends: three queries for the batch, not three per message."""
        ids = list(message_ids)
        list(self.s.scalars(select(Message).where(Message.id.in_(ids))))
        contents = {c.message_id: c for c in self.s.scalars(
            select(MessageContent).where(MessageContent.message_id.in_(ids)))}
        recipients = self.recipients_of(ids)
        return {i: (contents[i], recipients.get(i, [])) for i in ids if i in contents}

    def recipients_of(self, message_ids: Sequence[str]) -> dict[str, list[MessageRecipient]]:
        rows = self.s.scalars(
            select(MessageRecipient)
            .where(MessageRecipient.message_id.in_(list(message_ids)))
            .order_by(MessageRecipient.message_id, MessageRecipient.position)
        ).all()
        grouped: dict[str, list[MessageRecipient]] = {}
        for row in rows:
            grouped.setdefault(row.message_id, []).append(row)
        return grouped

    # -- what the send limits count ----------------------------------------------------------

    def lock_account(self, account_id: str) -> None:
        """Serialize limit checks of one account across workers (PostgreSQL; SQLite serializes
        every writer anyway). Held until the transaction ends."""
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"mailport.account:{account_id}"},
            )

    def in_flight(self, *, account_id: str, now: datetime, exclude: str, live_since: datetime) -> int:
        """The account's other messages in ``sending`` whose job still holds a slot: its lease
        valid and renewed since ``live_since`` (:func:`mailport.core.leases.holds_slot`).

        A crashed worker leaves its message in ``sending`` and its job ``running``; such rows
        stop blocking the account's concurrency as soon as their heartbeat goes silent.
        """
        params = {"account_id": account_id, "exclude": exclude, "now": now, "live_since": live_since}
        return int(self.s.scalar(_IN_FLIGHT, params) or 0)

    def sent_since(self, *, account_id: str, since: datetime) -> int:
        return int(self.s.scalar(_SENT_SINCE, {"account_id": account_id, "since": since}) or 0)

    def count_by_state(self) -> dict[str, int]:
        rows = self.s.execute(select(Message.state, func.count()).group_by(Message.state)).all()
        return {state: int(count) for state, count in rows}

    def count_recipient_outcomes(self) -> dict[tuple[str, str], int]:
        """(status, diagnosis or "") -> recipients, for the outcomes-by-code metric."""
        rows = self.s.execute(
            select(MessageRecipient.status, MessageRecipient.diagnosis, func.count()).group_by(
                MessageRecipient.status, MessageRecipient.diagnosis
            )
        ).all()
        return {(status, diagnosis or ""): int(count) for status, diagnosis, count in rows}

    # -- events ------------------------------------------------------------------------------

    def add_event(self, event: Event) -> None:
        # A plain INSERT: events are never read back in the transaction that writes them, so
        # the unit of work's bookkeeping would be pure overhead on the send path.
        self.s.connection().execute(_INSERT_EVENTS, [{
            "id": event.id, "tenant_id": event.tenant_id, "message_id": event.message_id,
            "type": event.type, "data": event.data, "created_at": event.created_at,
            "seq": event.seq or 0,
        }])

    def events(self, message_id: str) -> Sequence[Event]:
        return self.s.scalars(
            select(Event).where(Event.message_id == message_id).order_by(Event.created_at, Event.seq)
        ).all()

    def event(self, event_id: str) -> Event | None:
        return self.s.get(Event, event_id)

    # -- Sent copies -------------------------------------------------------------------------

    def sent_copy(self, message_id: str) -> SentCopy | None:
        return self.s.get(SentCopy, message_id)

    def save_sent_copy(self, row: SentCopy) -> None:
        """Insert or replace the message's Sent-copy row: one upsert, not a read and a write
        (it is on every sent message's path)."""
        values = {c.key: getattr(row, c.key) for c in SentCopy.__table__.columns}
        values["attempts"] = values["attempts"] or 0
        dialect = self.s.get_bind().dialect.name
        insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert_(SentCopy).values(**values)
        self.s.execute(statement.on_conflict_do_update(
            index_elements=[SentCopy.message_id],
            set_={k: v for k, v in values.items() if k != "message_id"}))


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, webhook: Webhook) -> Webhook:
        self.s.add(webhook)
        self.s.flush()
        return webhook

    def get(self, *, tenant_id: str, webhook_id: str) -> Webhook:
        webhook = self.s.scalar(
            select(Webhook).where(Webhook.tenant_id == tenant_id, Webhook.id == webhook_id)
        )
        if webhook is None:
            raise NotFound("no such webhook", resource="webhook")
        return webhook

    def list_for_tenant(self, *, tenant_id: str) -> Sequence[Webhook]:
        return self.s.scalars(
            select(Webhook)
            .where(Webhook.tenant_id == tenant_id)
            .order_by(Webhook.created_at, Webhook.id)
        ).all()

    def enabled(self, *, tenant_id: str) -> Sequence[Webhook]:
        return self.s.scalars(
            select(Webhook).where(Webhook.tenant_id == tenant_id, Webhook.enabled.is_(True))
        ).all()

    def delete(self, *, tenant_id: str, webhook_id: str) -> None:
        result = self.s.execute(
            delete(Webhook).where(Webhook.tenant_id == tenant_id, Webhook.id == webhook_id)
        )
        if not getattr(result, "rowcount", 0):
            raise NotFound("no such webhook", resource="webhook")

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        self.s.add(delivery)
        self.s.flush()

    def add_deliveries(self, rows: Sequence[dict[str, Any]]) -> None:
        """Many deliveries (column values each) in one INSERT: a batch's events to a tenant's hooks."""
        self.s.execute(insert(WebhookDelivery), rows)

    def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return self.s.get(WebhookDelivery, delivery_id)

    def deliveries(self, *, tenant_id: str, webhook_id: str, limit: int = 50) -> Sequence[WebhookDelivery]:
        return self.s.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        ).all()

    def find(self, webhook_id: str) -> Webhook | None:
        return self.s.get(Webhook, webhook_id)
