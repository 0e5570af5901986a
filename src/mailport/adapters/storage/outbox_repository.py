"""Repositories of the outbox: the only code that writes SQL for messages, events and webhooks.

Like :mod:`repositories`, every tenant-facing read filters by ``tenant_id``; the worker's reads
(by message id from its own job) do not, because a job already names exactly one row.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mailport.adapters.queue import CHANNEL, JobQueue
from mailport.adapters.storage.id_lists import PerDialect, one_of
from mailport.adapters.storage.recordset import Columns, json_dicts, json_rows, recordset
from mailport.adapters.storage.repositories import SendingAccountRow
from mailport.adapters.storage.row_insert import RowInsert
from mailport.adapters.storage.row_read import RowRead, RowWrite, TextRows, execute_driver_sql
from mailport.adapters.storage.tables import Account, Job, utc_param
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

__all__ = ["Loaded", "OutboxRepository", "SendingContent", "SendingMessage", "SendingRecipient", "WebhookRepository"]

SEND_JOB = "send"


# The limit counts of all the accounts in a batch of begins, one statement each, built once:
# constructing a select costs more Python time than the database takes to run it.
def _in_flight_many(postgresql: bool, *, by_worker: bool) -> RowRead:
    """The in-flight count per account; ``by_worker``: with how many of them another worker than
    ``b_worker`` holds (else that column repeats the count)."""
    holds = JobQueue.holds_slot(now=bindparam("now"), live_since=bindparam("live_since"))
    if postgresql:
        # Each message's job looked up by its key (a lateral subquery with OFFSET 0 is planned
        # per message, never flattened into a join): on tables PostgreSQL has not analyzed yet —
        # a new installation's first minute at month-end — the planner joined the jobs by kind
        # alone and walked every send job for each message.
        job = (select(Job.locked_by).where(Job.kind == SEND_JOB, Job.dedupe_key == Message.id, holds)
               .offset(0).lateral("job"))
        locked_by: Any = job.c.locked_by
        joined = select(Message.account_id).select_from(Message).join(job, true())
        where: list[ColumnElement[bool]] = []
    else:
        locked_by = Job.locked_by
        joined = select(Message.account_id).select_from(Message).join(
            Job, and_(Job.kind == SEND_JOB, Job.dedupe_key == Message.id))
        where = [holds]
    others = func.count(case((locked_by != bindparam("b_worker"), 1))) if by_worker else func.count()
    return RowRead(
        joined.add_columns(func.count(), others)
        .where(
            one_of(Message.account_id, "b_accounts", postgresql=postgresql),
            Message.state == "sending",
            ~one_of(Message.id, "b_exclude", postgresql=postgresql),
            *where,
        )
        .group_by(Message.account_id)
    )


_IN_FLIGHT_MANY = PerDialect(lambda postgresql: _in_flight_many(postgresql, by_worker=False))
_IN_FLIGHT_BY_WORKER = PerDialect(lambda postgresql: _in_flight_many(postgresql, by_worker=True))
_SENT_SINCE_MANY = PerDialect(lambda postgresql: RowRead(
    select(Message.account_id, func.count())
    .where(one_of(Message.account_id, "b_accounts", postgresql=postgresql), Message.sent_at >= bindparam("since"),
           ~one_of(Message.id, "b_exclude", postgresql=postgresql))
    .group_by(Message.account_id)
))
# Advisory locks taken in the order of the array (a function scan yields it in order).
_LOCK_ACCOUNTS = text("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k")
_RECIPIENTS = cast(Table, MessageRecipient.__table__)
_MESSAGES = cast(Table, Message.__table__)
_EVENTS = cast(Table, Event.__table__)
# The accept path's executemany of plain column values (and the worker's events).
_INSERT_EVENT_ROWS = RowInsert(_EVENTS)
_INSERT_MESSAGES = RowInsert(_MESSAGES)
_INSERT_CONTENTS = RowInsert(cast(Table, MessageContent.__table__))
_INSERT_RECIPIENTS = RowInsert(_RECIPIENTS)
# A plain (not ORM-bulk) UPDATE: the SET values come from the parameters (status, smtp_code, …).
_UPDATE_RECIPIENT = update(_RECIPIENTS).where(
    _RECIPIENTS.c.message_id == bindparam("b_message_id"),
    _RECIPIENTS.c.address == bindparam("b_address"),
)
_UPDATE_RECIPIENTS = RowWrite(_UPDATE_RECIPIENT)


# The worker's batch statements, built once (see ``begin_sending`` and ``finish_sending``).
_BEGIN = PerDialect(lambda postgresql: (
    update(_MESSAGES)
    .where(one_of(_MESSAGES.c.id, "b_ids", postgresql=postgresql), _MESSAGES.c.state == bindparam("b_state"))
    .values(state="sending", attempts=_MESSAGES.c.attempts + 1, updated_at=bindparam("b_now"))
    .returning(_MESSAGES.c.id, _MESSAGES.c.attempts)
))
# The finish's guard where it is not one statement (PostgreSQL's is ``_FINISH_ALL_PG``): SQLite's
# writers take turns, so the rows found in ``sending`` stay so until the batch's UPDATE below.
_STILL_SENDING = RowRead(
    select(_MESSAGES.c.id)
    .where(one_of(_MESSAGES.c.id, "b_ids", postgresql=False), _MESSAGES.c.state == "sending")
)
_FOR_SENDING = PerDialect(lambda postgresql: (
    RowRead(select(*(getattr(Message, f) for f in SendingMessage._fields))
            .where(one_of(Message.id, "b_ids", postgresql=postgresql))),
    RowRead(select(*(getattr(MessageContent, f) for f in SendingContent._fields))
            .where(one_of(MessageContent.message_id, "b_ids", postgresql=postgresql))),
    RowRead(select(*(getattr(MessageRecipient, f) for f in SendingRecipient._fields))
            .where(one_of(MessageRecipient.message_id, "b_ids", postgresql=postgresql))
            .order_by(MessageRecipient.message_id, MessageRecipient.position)),
))
_FINISH = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("b_id"), _MESSAGES.c.state == "sending")
    .values(state=bindparam("b_state"), reason=bindparam("b_reason"), updated_at=bindparam("b_now"),
            next_attempt_at=bindparam("b_next", type_=_MESSAGES.c.next_attempt_at.type),
            last_delay_seconds=bindparam("b_delay", type_=_MESSAGES.c.last_delay_seconds.type),
            sent_at=func.coalesce(bindparam("b_sent_at", type_=_MESSAGES.c.sent_at.type), _MESSAGES.c.sent_at))
)

# The columns of the PostgreSQL batch statements' JSON rows (:mod:`recordset`): SQL name, type,
# and the key of the Python row that holds it.
_OUTCOME_COLUMNS: Columns = (
    ("id", "varchar", "b_id"), ("state", "varchar", "b_state"), ("reason", "varchar", "b_reason"),
    ("now", "timestamptz", "b_now"), ("next", "timestamptz", "b_next"), ("delay", "float8", "b_delay"),
    ("sent_at", "timestamptz", "b_sent_at"))
_RECIPIENT_COLUMNS: Columns = tuple((c, t, c) for c, t in (
    ("message_id", "varchar"), ("address", "varchar"), ("status", "varchar"), ("smtp_code", "integer"),
    ("enhanced_code", "varchar"), ("text", "text"), ("diagnosis", "varchar"), ("updated_at", "timestamptz")))
_EVENT_COLUMNS: Columns = tuple((c, t, c) for c, t in (
    ("id", "varchar"), ("tenant_id", "varchar"), ("message_id", "varchar"), ("type", "varchar"),
    ("data", "text"), ("created_at", "timestamptz"), ("seq", "integer")))
_COPY_COLUMNS: Columns = tuple((c, t, c) for c, t in (
    ("message_id", "varchar"), ("tenant_id", "varchar"), ("header_message_id", "varchar"), ("state", "varchar"),
    ("folder", "varchar"), ("uid", "integer"), ("attempts", "integer"), ("detail", "text"),
    ("updated_at", "timestamptz")))
_JOB_END_COLUMNS: Columns = (
    ("id", "bigint", "id"), ("worker", "varchar", "worker"), ("message_id", "varchar", "message_id"),
    ("state", "varchar", "state"), ("last_error", "text", "last_error"), ("run_at", "timestamptz", "run_at"),
    ("updated_at", "timestamptz", "updated_at"))
_BEGIN_COLUMNS: Columns = (("id", "varchar", "id"), ("state", "varchar", "state"), ("attempts", "integer", "attempts"))

# The outcomes of a batch of attempts, on the messages still ``sending`` (the guard, the row locks
# and the answer of which rows were: one statement, not a locking read and an UPDATE per message).
_OUTCOMES_CTE = (
    "f AS (UPDATE messages AS m SET state = v.state, reason = v.reason, updated_at = v.now, "
    "next_attempt_at = v.next, last_delay_seconds = v.delay, sent_at = coalesce(v.sent_at, m.sent_at) "
    f"FROM {recordset('f', 'v', _OUTCOME_COLUMNS)} "
    "WHERE m.id = v.id AND m.state = 'sending' RETURNING m.id)")


def _events_cte(moved: str) -> str:
    """The CTE ``e`` that stores the event rows (the parameter ``e``, :func:`_event_json`) of the
    messages the CTE ``moved`` returned."""
    return ("e AS (INSERT INTO events (id, tenant_id, message_id, type, data, created_at, seq) "
            "SELECT x.id, x.tenant_id, x.message_id, x.type, CAST(x.data AS json), x.created_at, x.seq "
            f"FROM {recordset('e', 'x', _EVENT_COLUMNS)} "
            f"WHERE x.message_id IN (SELECT id FROM {moved}))")


# PostgreSQL: a whole batch of finishes in one statement — the outcomes (``_OUTCOMES_CTE``), and,
# of the messages that statement found still ``sending``, the recipients' fates, the events, the
# Sent-copy rows and the send jobs' ends (a job whose message was taken over meanwhile ends
# ``done``: the other worker's result wins). Data-modifying CTEs run in one snapshot; each reads
# only ``f``, the outcome's RETURNING. Five executions per batch before (bench/bench_send.py).
_FINISH_ALL_PG = TextRows(text(
    f"WITH {_OUTCOMES_CTE}, "
    "r AS (UPDATE message_recipients AS r SET status = x.status, smtp_code = x.smtp_code, "
    "enhanced_code = x.enhanced_code, text = x.text, diagnosis = x.diagnosis, updated_at = x.updated_at "
    f"FROM {recordset('r', 'x', _RECIPIENT_COLUMNS)} "
    "WHERE r.message_id = x.message_id AND r.address = x.address AND x.message_id IN (SELECT id FROM f)), "
    + _events_cte("f") + ", "
    "c AS (INSERT INTO sent_copies (message_id, tenant_id, header_message_id, state, folder, uid, attempts, "
    f"detail, updated_at) SELECT x.* FROM {recordset('c', 'x', _COPY_COLUMNS)} "
    "WHERE x.message_id IN (SELECT id FROM f) "
    "ON CONFLICT (message_id) DO UPDATE SET tenant_id = excluded.tenant_id, "
    "header_message_id = excluded.header_message_id, state = excluded.state, folder = excluded.folder, "
    "uid = excluded.uid, attempts = excluded.attempts, detail = excluded.detail, updated_at = excluded.updated_at), "
    "j AS (UPDATE jobs AS j SET "
    "state = CASE WHEN x.message_id IN (SELECT id FROM f) THEN x.state ELSE 'done' END, "
    "last_error = CASE WHEN x.message_id IN (SELECT id FROM f) THEN x.last_error END, "
    "run_at = coalesce(CASE WHEN x.message_id IN (SELECT id FROM f) THEN x.run_at END, j.run_at), "
    "updated_at = x.updated_at, locked_by = NULL, locked_until = NULL, renewed_at = NULL "
    f"FROM {recordset('j', 'x', _JOB_END_COLUMNS)} "
    "WHERE j.id = x.id AND j.locked_by = x.worker "
    # the ids once more as one array, which the primary key's index answers: joined to the JSON
    # rows alone, unanalyzed jobs (a new installation's first minute) were hashed from a scan of all
    f"AND j.id = ANY(ARRAY(SELECT k.id FROM {recordset('j', 'k', _JOB_END_COLUMNS[:1])}))) "
    "SELECT id FROM f"
))
# PostgreSQL: a batch of begins reads its messages, contents, recipients and accounts in one
# statement (four before), after taking its accounts' advisory locks (the limit counts that follow
# run after the locks, in a snapshot of their own; these reads may be a moment older, as they were
# when they came before the locks). The ``_BEGIN_ALL_PG`` below then moves the batch to ``sending``
# and stores its events in one statement: each message only while still in the state and attempt
# it was read in, so the events' attempt numbers are known before.
@functools.cache
def _load_locked_pg() -> Any:
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    rec = MessageRecipient
    lock = text("(SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
                "FROM unnest(CAST(:b_keys AS text[])) AS k) >= 0")
    # Driven from the ids, each row looked up by its key in a lateral subquery with OFFSET 0 (planned
    # per id, never flattened into a join): on tables PostgreSQL has not analyzed yet — a new
    # installation's first minute at month-end — the planner hashed a scan of every message and
    # every content for each batch.
    wanted = func.unnest(bindparam("b_ids", type_=ARRAY(String))).table_valued("id").render_derived(name="want")
    message = (select(*(getattr(Message, f) for f in SendingMessage._fields))
               .where(Message.id == wanted.c.id).offset(0).lateral("m"))
    content = (select(MessageContent.raw, MessageContent.envelope)
               .where(MessageContent.message_id == message.c.id).offset(0).lateral("c"))
    account = (select(*(getattr(Account, f) for f in SendingAccountRow._fields))
               .where(Account.id == message.c.account_id).offset(0).lateral("a"))
    in_order = [select(func.array_agg(aggregate_order_by(getattr(rec, column), rec.position)))
                .where(rec.message_id == message.c.id).scalar_subquery().label(f"r_{column}")
                for column in ("address", "status")]
    return (
        select(*(message.c[f] for f in SendingMessage._fields), content.c.raw, content.c.envelope, *in_order,
               *(account.c[f].label(f"a_{f}") for f in SendingAccountRow._fields))
        .select_from(wanted.join(message, true()).outerjoin(content, true()).outerjoin(account, true()))
        .where(lock)
    )

_BEGIN_ALL_PG = TextRows(text(
    "WITH u AS (UPDATE messages AS m SET state = 'sending', attempts = m.attempts + 1, updated_at = :now "
    f"FROM {recordset('u', 'v', _BEGIN_COLUMNS)} "
    "WHERE m.id = v.id AND m.state = v.state AND m.attempts = v.attempts RETURNING m.id), "
    + _events_cte("u") + " "
    "SELECT id FROM u"
))


def _event_json(events: Sequence[Mapping[str, Any]]) -> str:
    """The parameter ``e`` of :func:`_events_cte` for event rows (as :meth:`OutboxRepository.
    add_event_rows` takes them): their data as the text the JSON column's own binding writes
    (``json.dumps``: the engine sets no serializer of its own)."""
    return json_rows([{**e, "data": None if e["data"] is None else json.dumps(e["data"])} for e in events],
                     _EVENT_COLUMNS)


# The bytes of message contents one accept statement carries at most (twice that as hex in its
# JSON): PostgreSQL refuses a value over 1 GB, and a group commit may hold hundreds of large
# messages from several requests at once.
_ACCEPT_STATEMENT_BYTES = 32 * 1024 * 1024


def _by_size(messages: Sequence[Mapping[str, Any]], contents: Sequence[Mapping[str, Any]]
             ) -> list[set[str] | None]:
    """The message ids of each accept statement: ``[None]`` (one statement for everything) in
    the common case, else sets of ids whose contents together stay under
    ``_ACCEPT_STATEMENT_BYTES`` (a larger message alone)."""
    sizes = {c["message_id"]: len(c["raw"] or b"") + len(c.get("sent_prefix") or b"") for c in contents}
    if sum(sizes.values()) <= _ACCEPT_STATEMENT_BYTES:
        return [None]
    chunks: list[set[str] | None] = []
    current: set[str] = set()
    total = 0
    for message in messages:
        size = sizes.get(message["id"], 0)
        if current and total + size > _ACCEPT_STATEMENT_BYTES:
            chunks.append(current)
            current, total = set(), 0
        current.add(message["id"])
        total += size
    chunks.append(current)
    return chunks


# The columns of the accept statement that travel as binary arrays, not in its JSON (a message's
# bytes: :meth:`RowInsert.from_json`).
_BINARY = {"c": ("raw",)}


@functools.lru_cache(maxsize=64)
def _accepted_statement(parts: tuple[str, ...], wake: bool) -> str:
    """One statement of :meth:`OutboxRepository.add_accepted`'s INSERTs (data-modifying CTEs;
    the foreign keys are checked at its end, when every table has its rows), and the workers'
    wake-up with the payload ``%(wake)s`` (delivered at commit, as ``JobQueue``'s own);
    psycopg's placeholders."""
    return f"WITH {', '.join(parts)} SELECT " + (f"pg_notify('{CHANNEL}', %(wake)s)" if wake else "1")


def _sent_copy_upsert(postgresql: bool) -> Any:
    """Insert or replace a Sent-copy row (every column from the parameters)."""
    table = cast(Table, SentCopy.__table__)
    base = (postgresql_insert if postgresql else sqlite_insert)(table)
    return base.on_conflict_do_update(
        index_elements=[table.c.message_id],
        set_={c.key: base.excluded[c.key] for c in table.columns if c.key != "message_id"})


_SENT_COPY_UPSERT = PerDialect(_sent_copy_upsert)
# The worker's statements on SQLite through the driver (:class:`RowWrite`), built once.
_FINISH_MANY = RowWrite(_FINISH)
_BEGIN_RETURNING = PerDialect(lambda postgresql: RowWrite(_BEGIN.for_dialect("postgresql" if postgresql else "sqlite")))
_SENT_COPIES_UPSERT = PerDialect(lambda postgresql: RowWrite(_SENT_COPY_UPSERT.for_dialect(
    "postgresql" if postgresql else "sqlite")))


def _account_key(account_id: str) -> str:
    """The advisory lock's key of an account's limit checks."""
    return f"mailport.account:{account_id}"


class SendingMessage(NamedTuple):
    """The columns of a message the worker reads to send it (a plain row, not an ORM entity)."""

    id: str
    tenant_id: str
    account_id: str
    state: str
    header_message_id: str
    meta: dict[str, Any]
    send_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    last_delay_seconds: float | None
    reason: str | None
    created_at: datetime


class SendingContent(NamedTuple):
    message_id: str
    raw: bytes
    envelope: dict[str, Any]


class SendingRecipient(NamedTuple):
    message_id: str
    address: str
    status: str


class Loaded(NamedTuple):
    """A message as the worker reads it to send it."""

    message: SendingMessage
    content: SendingContent | None
    recipients: list[SendingRecipient]


# binary: the messages' bytes as stored, not as hex text (RowRead.binary)
_LOAD_LOCKED_PG = RowRead(_load_locked_pg(), binary=True)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    # -- messages ----------------------------------------------------------------------------

    def add_many(self, messages: Sequence[dict[str, Any]], contents: Sequence[dict[str, Any]],
                 recipients: Sequence[dict[str, Any]]) -> None:
        """Insert new messages with their bytes and recipients, each row as its column values
        (every row of a table with the same keys): one executemany per table (:class:`RowInsert`).
        Not the ORM's bulk INSERT — that costs more Python per row than SQLite takes to store it,
        and nothing reads these rows back in the transaction that writes them."""
        conn = self.s.connection()
        _INSERT_MESSAGES.execute(conn, messages)
        _INSERT_CONTENTS.execute(conn, contents)
        _INSERT_RECIPIENTS.execute(conn, recipients)

    @property
    def accepts_in_one_statement(self) -> bool:
        """True where :meth:`add_accepted` is one statement (PostgreSQL)."""
        return bool(self.s.get_bind().dialect.name == "postgresql")

    def add_accepted(self, messages: Sequence[dict[str, Any]], contents: Sequence[dict[str, Any]],
                     recipients: Sequence[dict[str, Any]], *, events: Sequence[dict[str, Any]],
                     jobs: Sequence[dict[str, Any]], wake: str | None) -> None:
        """Accepted messages, as :meth:`add_many`, with their ``message.queued`` events (as
        :meth:`add_event_rows`) and their send jobs (:meth:`JobQueue.new_rows`); ``wake``: the
        payload of the workers' wake-up at commit (:meth:`JobQueue.wake_payload`; PostgreSQL's
        ``NOTIFY``; SQLite's embedded worker is woken by the caller). PostgreSQL: one statement,
        each table's rows as one JSON parameter — five executemany round trips and the NOTIFY
        were a fifth of an API process's CPU per accepted message (bench/bench_send.py, session
        12). Elsewhere the executemanys."""
        if not self.accepts_in_one_statement:
            self.add_many(messages, contents, recipients)
            self.add_event_rows(list(events))
            JobQueue.insert_rows(self.s, jobs)
            return
        tables = (("m", _INSERT_MESSAGES, messages, "id"), ("c", _INSERT_CONTENTS, contents, "message_id"),
                  ("r", _INSERT_RECIPIENTS, recipients, "message_id"), ("e", _INSERT_EVENT_ROWS, events, "message_id"),
                  ("j", JobQueue.INSERT_ROWS, jobs, "dedupe_key"))
        chunks = _by_size(messages, contents)
        for n, chunk in enumerate(chunks):
            parts: list[str] = []
            values: dict[str, Any] = {}
            for name, writer, all_rows, key in tables:
                # a part of a large group commit: its messages' rows only
                rows = all_rows if chunk is None else [r for r in all_rows if r[key] in chunk]
                if rows:
                    binary = _BINARY.get(name, ())
                    sql, defaults = writer.from_json(tuple(rows[0]), name, binary=binary)
                    parts.append(f"{name} AS ({sql})")
                    for column in binary:
                        values[f"{name}_{column}"] = [r[column] for r in rows]
                    values[name] = json_dicts([{k: v for k, v in r.items() if k not in binary} for r in rows]
                                              if binary else rows, defaults)
            if parts:
                notify = wake is not None and n == len(chunks) - 1
                if notify:
                    values["wake"] = wake
                execute_driver_sql(self.s, _accepted_statement(tuple(parts), notify), values)

    def add_event_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Events as column values (no ORM objects: a worker writes one per send, twice), in
        one executemany."""
        _INSERT_EVENT_ROWS.execute(self.s.connection(), rows)

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

    def sent_from(self, *, tenant_id: str, account_id: str) -> bool:
        """Whether the tenant has any message whose ``account_id`` is this one (a removed account's
        history stays listable)."""
        query = select(Message.id).where(Message.tenant_id == tenant_id, Message.account_id == account_id).limit(1)
        return self.s.scalars(query).first() is not None

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

    def begin_sending(self, by_state: dict[str, list[str]], *, now: datetime) -> dict[str, int]:
        """Move a batch of messages to ``sending``, each only while still in the state it was
        read in (``by_state``: that state -> ids); one ``UPDATE … RETURNING`` per state read.
        Returns the attempt number of each message that moved."""
        started: dict[str, int] = {}
        begin = _BEGIN_RETURNING.for_session(self.s)
        for state, ids in by_state.items():
            for message_id, attempts in begin.returning(self.s, {"b_ids": ids, "b_state": state, "b_now": now}):
                started[message_id] = int(attempts)
        return started

    def finish_sending(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """SQLite: record a batch of attempts' outcomes on messages still in ``sending`` (keys
        ``b_id``, ``b_state``, ``b_reason``, ``b_now``, ``b_next``, ``b_delay``, ``b_sent_at``):
        one read and one executemany (SQLite's writers take turns, so nothing changes between
        them; PostgreSQL finishes in one statement, :meth:`finish_all`). Returns the ids
        recorded; the others changed meanwhile (another worker took them over) and are left as
        they are."""
        if not rows:
            return set()
        mine = {message_id for message_id, in _STILL_SENDING.all_in(self.s, {"b_ids": [r["b_id"] for r in rows]})}
        if mine:
            _FINISH_MANY.execute_many(self.s, [r for r in rows if r["b_id"] in mine])
        return mine

    @property
    def finishes_in_one_statement(self) -> bool:
        """True where :meth:`finish_all` is one statement (PostgreSQL)."""
        return bool(self.s.get_bind().dialect.name == "postgresql")

    def finish_all(self, rows: Sequence[dict[str, Any]], *, recipients: Sequence[Mapping[str, Any]],
                   events: Sequence[Mapping[str, Any]], copies: Sequence[Mapping[str, Any]],
                   job_ends: Sequence[Mapping[str, Any]]) -> set[str]:
        """PostgreSQL: :meth:`finish_sending` of ``rows``, and for the messages it recorded —
        only those — :meth:`update_recipients_many` of ``recipients``, the ``events`` rows (as
        :meth:`add_event_rows`), :meth:`save_sent_copies` of ``copies`` and the send jobs' ends
        (``job_ends``: ``id``, ``worker``, ``message_id``, and the job's ``state``,
        ``last_error``, ``run_at`` should its message be recorded — ``done`` otherwise;
        ``updated_at``), all in one statement. Returns the ids recorded."""
        if not rows:
            return set()
        return {message_id for message_id, in _FINISH_ALL_PG.all_in(self.s, {
            "f": json_rows(rows, _OUTCOME_COLUMNS), "r": json_rows(recipients, _RECIPIENT_COLUMNS),
            "e": _event_json(events), "c": json_rows(copies, _COPY_COLUMNS),
            "j": json_rows(job_ends, _JOB_END_COLUMNS)})}

    def load_locked_for_sending(self, message_ids: Sequence[str], account_ids: Sequence[str]
                                ) -> tuple[dict[str, Loaded], dict[str, SendingAccountRow]]:
        """PostgreSQL: :meth:`lock_accounts` of ``account_ids``, then :meth:`load_for_sending` of
        the messages and :meth:`AccountRepository.load_for_sending` of their accounts, in one
        statement. The locks are taken only when a message is found."""
        loaded: dict[str, Loaded] = {}
        accounts: dict[str, SendingAccountRow] = {}
        width, account_at = len(SendingMessage._fields), len(SendingMessage._fields) + 4
        rows = _LOAD_LOCKED_PG.all_in(self.s, {"b_ids": list(message_ids),
                                               "b_keys": [_account_key(a) for a in account_ids]})
        for row in rows:
            message = SendingMessage._make(row[:width])
            raw, envelope, addresses, statuses = row[width:account_at]
            content = None if raw is None else SendingContent(message.id, raw, envelope)
            recipients = [SendingRecipient(message.id, address, status)
                          for address, status in zip(addresses or (), statuses or (), strict=True)]
            loaded[message.id] = Loaded(message, content, recipients)
            if row[account_at] is not None:
                account = SendingAccountRow._make(row[account_at:])
                accounts[account.id] = account
        return loaded, accounts

    def begin_all(self, rows: Sequence[tuple[str, str, int]], *, now: datetime,
                  events: Sequence[Mapping[str, Any]]) -> set[str]:
        """PostgreSQL: move each message of ``rows`` — (id, state read, attempts read) — to
        ``sending`` with one more attempt, only while still in that state and attempt, and store
        the ``events`` rows of those that moved (:meth:`add_event_rows`); one statement. Returns
        the ids that moved."""
        if not rows:
            return set()
        moving = [{"id": r[0], "state": r[1], "attempts": r[2]} for r in rows]
        return {message_id for message_id, in _BEGIN_ALL_PG.all_in(self.s, {
            "now": utc_param(now), "u": json_rows(moving, _BEGIN_COLUMNS), "e": _event_json(events)})}

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

    def update_recipients_many(self, outcomes: Sequence[dict[str, Any]]) -> None:
        """Each recipient's fate after an attempt, of many messages in one executemany (keys:
        ``message_id``, ``address`` and the outcome columns)."""
        if outcomes:
            rows = [{**{k: v for k, v in o.items() if k not in ("address", "message_id")},
                     "b_address": o["address"], "b_message_id": o["message_id"]} for o in outcomes]
            _UPDATE_RECIPIENTS.execute_many(self.s, rows)

    def reopen_recipients(self, message_id: str, *, now: datetime) -> None:
        """Every recipient not accepted yet is to be tried again (a "send again")."""
        self.s.execute(
            update(MessageRecipient)
            .where(MessageRecipient.message_id == message_id,
                   MessageRecipient.status.in_(("failed", "deferred")))
            .values(status="pending", smtp_code=None, enhanced_code=None, text=None, diagnosis=None,
                    updated_at=now)
        )

    def load_for_sending(self, message_ids: Sequence[str]) -> dict[str, Loaded]:
        """Messages, their contents and recipients for a batch of sends: three queries for the
        batch, not three per message, read as plain rows (:class:`RowRead`: ORM entities cost
        ten times the read)."""
        ids = {"b_ids": list(message_ids)}
        messages_of, contents_of, recipients_of = _FOR_SENDING.for_session(self.s)
        messages = {m.id: m for m in map(SendingMessage._make, messages_of.all_in(self.s, ids))}
        contents = {c.message_id: c for c in map(SendingContent._make, contents_of.all_in(self.s, ids))}
        recipients: dict[str, list[SendingRecipient]] = {}
        for row in map(SendingRecipient._make, recipients_of.all_in(self.s, ids)):
            recipients.setdefault(row.message_id, []).append(row)
        return {i: Loaded(m, contents.get(i), recipients.get(i, [])) for i, m in messages.items()}

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

    def lock_accounts(self, account_ids: Sequence[str]) -> None:
        """Serialize the limit checks of these accounts across workers until the transaction
        ends (PostgreSQL; SQLite serializes every writer anyway): one statement, the locks taken
        in the order given (callers sort the ids, so two workers cannot deadlock)."""
        if account_ids and self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(_LOCK_ACCOUNTS, {"keys": [_account_key(a) for a in account_ids]})

    def in_flight_many(self, *, account_ids: Sequence[str], now: datetime, exclude: Sequence[str],
                       live_since: datetime, worker: str = "") -> dict[str, tuple[int, int]]:
        """Each account's messages in ``sending`` whose job still holds a slot: its lease valid
        and renewed since ``live_since`` (:func:`mailport.core.leases.holds_slot`); none of the
        ``exclude`` messages counted. Each count comes with how many of those jobs another
        worker than ``worker`` holds (all of them when ``worker`` is not given).

        A crashed worker leaves its message in ``sending`` and its job ``running``; such rows
        stop blocking the account's concurrency as soon as their heartbeat goes silent.
        """
        if not account_ids:
            return {}
        params = {"b_accounts": list(account_ids), "b_exclude": list(exclude), "now": now, "live_since": live_since}
        if worker:
            params["b_worker"] = worker
        rows = (_IN_FLIGHT_BY_WORKER if worker else _IN_FLIGHT_MANY).for_session(self.s).all_in(self.s, params)
        return {account: (int(count), int(others)) for account, count, others in rows}

    def sent_since_many(self, *, account_ids: Sequence[str], since: datetime,
                        exclude: Sequence[str] = ()) -> dict[str, int]:
        """Each account's messages sent since ``since``, none of the ``exclude`` counted."""
        if not account_ids:
            return {}
        rows = _SENT_SINCE_MANY.for_session(self.s).all_in(
            self.s, {"b_accounts": list(account_ids), "since": since, "b_exclude": list(exclude)})
        return {account: int(count) for account, count in rows}

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
        _INSERT_EVENT_ROWS.execute(self.s.connection(), [{
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
        self.s.execute(_SENT_COPY_UPSERT.for_session(self.s), [values])  # the session's: flushes what is pending first

    def save_sent_copies(self, rows: Sequence[dict[str, Any]]) -> None:
        """:meth:`save_sent_copy` of many messages (each row every column's value): one
        executemany of one prepared upsert."""
        _SENT_COPIES_UPSERT.for_session(self.s).execute_many(self.s, rows)


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
