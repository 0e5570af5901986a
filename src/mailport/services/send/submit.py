"""Accepting messages (:meth:`Submissions.submit`) and reading them back (views, cancel).

The draft is validated and rendered to its exact wire bytes by :mod:`mailport.core.message`,
then the message, its bytes, its recipients, the ``message.queued`` event and one ``send`` job
are committed in **one** transaction — after the 202 nothing can be lost, and a retry after a
crash resends byte-identical mail (same Message-ID).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailport.adapters.group_commit import GroupCommit
from mailport.adapters.queue import JobQueue
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.outbox_repository import SEND_JOB, OutboxRepository
from mailport.adapters.storage.repositories import AccountRepository, Sender
from mailport.adapters.storage.tables import Account, Tenant
from mailport.adapters.storage.tables_domains import Domain
from mailport.adapters.storage.tables_outbox import (
    Message,
    MessageRecipient,
    SentCopy,
)
from mailport.clock import Clock
from mailport.core.addresses import parse_address
from mailport.core.events import MessageCancelled, MessageQueued
from mailport.core.message import (
    Attachment,
    Mailbox,
    MessageDraft,
    build_message,
    sent_copy,
)
from mailport.core.outbox import (
    MessageState,
    check_idempotency,
    ensure_cancellable,
    ensure_retryable,
    request_fingerprint,
    validate_idempotency_key,
)
from mailport.errors import Conflict, MailportError, NotFound, StorageError, ValidationError
from mailport.ids import new_id, random_hex
from mailport.services.accounts import AccountService
from mailport.services.platform import PLATFORM_SENDER, PlatformService, SendPlan
from mailport.services.send.sequence import event_seq
from mailport.services.suppression import SuppressionService
from mailport.services.webhooks import EventLog
from mailport.settings import Settings

__all__ = ["MessageView", "SendRequest", "Submission", "Submissions"]

MailboxInput = str | Mailbox
_RECIPIENT_FIELDS = ("address", "kind", "status", "smtp_code", "enhanced_code", "text", "diagnosis")


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest:
    """What a caller asks to send (the API and the CLI build this).

    ``account_id`` picks the sending mailbox; without it the account whose address is
    ``from_email`` is used, or the tenant's only account. ``from_email`` defaults to the account's own
    address and must be it or a confirmed alias.
    """

    to: Sequence[MailboxInput] = ()
    cc: Sequence[MailboxInput] = ()
    bcc: Sequence[MailboxInput] = ()
    reply_to: Sequence[MailboxInput] = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None
    attachments: Sequence[Attachment] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    account_id: str | None = None
    from_email: str | None = None
    from_name: str | None = None
    send_at: datetime | None = None
    method: Literal["account", "platform", "domain"] | None = None
    """``account``: through a connected mailbox; ``platform``/``domain``: through the platform
    transport, From the platform alias or an address at one of the tenant's own domains.
    ``None``: ``account`` when an account or a from address is named, else the tenant's default
    (``PATCH /v1/tenant``)."""
    ignore_suppression: bool = False
    """Send even to addresses on the tenant's suppression list (otherwise refused at accept)."""

    def fingerprint(self) -> str:
        """:func:`core.outbox.request_fingerprint` of everything that decides the message."""

        def boxes(values: Sequence[MailboxInput]) -> list[Any]:
            return [[v.address.email, v.name] if isinstance(v, Mailbox) else v for v in values]

        return request_fingerprint({
            "to": boxes(self.to), "cc": boxes(self.cc), "bcc": boxes(self.bcc),
            "reply_to": boxes(self.reply_to), "subject": self.subject, "text": self.text,
            "html": self.html, "headers": dict(self.headers), "metadata": dict(self.metadata),
            "account_id": self.account_id, "from_email": self.from_email,
            "from_name": self.from_name, "method": self.method or "account",
            "send_at": self.send_at.isoformat() if self.send_at else None,
            "attachments": [[a.filename, a.content_type, a.content] for a in self.attachments],
        })


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: str
    state: str
    account_id: str
    from_email: str
    subject: str
    header_message_id: str
    size: int
    attachment_count: int
    metadata: dict[str, Any]
    send_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    reason: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    recipients: list[dict[str, Any]]
    events: list[dict[str, Any]] | None = None
    sent_copy: dict[str, Any] | None = None

    @classmethod
    def of(cls, m: Message, recipients: Sequence[MessageRecipient], *,
           events: Sequence[Any] | None = None, copy: SentCopy | None = None) -> MessageView:
        return cls(
            id=m.id, state=m.state, account_id=m.account_id, from_email=m.from_email,
            subject=m.subject, header_message_id=m.header_message_id, size=m.size,
            attachment_count=m.attachment_count, metadata=dict(m.meta), send_at=m.send_at,
            next_attempt_at=m.next_attempt_at, attempts=m.attempts, reason=m.reason,
            created_at=m.created_at, updated_at=m.updated_at, sent_at=m.sent_at,
            recipients=[{
                "address": r.address, "kind": r.kind, "status": r.status, "smtp_code": r.smtp_code,
                "enhanced_code": r.enhanced_code, "text": r.text, "diagnosis": r.diagnosis,
            } for r in recipients],
            events=None if events is None else [{
                "id": e.id, "type": e.type, "created_at": _iso(e.created_at), "data": e.data,
            } for e in events],
            sent_copy=None if copy is None else {
                "state": copy.state, "folder": copy.folder, "uid": copy.uid,
                "attempts": copy.attempts, "detail": copy.detail,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "state": self.state, "account_id": self.account_id,
            "from": self.from_email, "subject": self.subject,
            "message_id_header": self.header_message_id, "size": self.size,
            "attachment_count": self.attachment_count, "metadata": self.metadata,
            "send_at": _iso(self.send_at), "next_attempt_at": _iso(self.next_attempt_at),
            "attempts": self.attempts, "reason": self.reason,
            "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at),
            "sent_at": _iso(self.sent_at), "recipients": self.recipients,
        }
        if self.events is not None:
            data["events"] = self.events
        if self.sent_copy is not None:
            data["sent_copy"] = self.sent_copy
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class _Prepared:
    """One message ready to write: its rows as column values (plain Core INSERTs — ORM objects
    cost more to build than SQLite takes to store them) and the view the caller gets."""

    row: dict[str, Any]  # messages
    content: dict[str, Any]  # message_contents
    recipients: list[dict[str, Any]]  # message_recipients
    addresses: list[str]
    view: MessageView
    ignore_suppression: bool = False


@dataclass(frozen=True, slots=True)
class Submission:
    message: MessageView
    replayed: bool  # True: an earlier request with the same Idempotency-Key made this message


class Submissions:
    """Accept, read, list and cancel messages (the API's and CLI's side of the outbox)."""

    def __init__(
        self, *, db: Database, queue: JobQueue, accounts: AccountService, events: EventLog,
        clock: Clock, settings: Settings, platform: PlatformService | None = None,
        make_token: Callable[[], str] | None = None, suppression: SuppressionService | None = None,
    ) -> None:
        self.db = db
        self.suppression = suppression
        self.queue = queue
        self.accounts = accounts
        self.events = events
        self.clock = clock
        self.settings = settings
        self.platform = platform
        self.make_token = make_token or random_hex
        self._group: GroupCommit[tuple[SendRequest, str | None], Submission | MailportError] = GroupCommit(
            lambda tenant_id, items: self.submit_many(tenant_id, items),  # looked up per write
            shared_errors=(StorageError,))

    def submit(self, tenant_id: str, request: SendRequest, *, idempotency_key: str | None = None) -> Submission:
        """Validate, render and commit a message with its ``send`` job; see the module doc."""
        [result] = self.submit_many(tenant_id, [(request, idempotency_key)])
        if isinstance(result, MailportError):
            raise result
        return result

    def submit_many(
        self, tenant_id: str, items: Sequence[tuple[SendRequest, str | None]],
    ) -> list[Submission | MailportError]:
        """Accept several messages: one result per item, in order — a :class:`Submission` or
        the error that item alone would have raised. The valid ones are committed together in
        **one** transaction (one write lock and one fsync for the lot) before this returns.

        Each item has its own idempotency key: a key seen before replays that message; the same
        key twice in one call with the same body is one message (both results name it), with
        different bodies the second is a :class:`~mailport.errors.Conflict`.
        """
        results: list[Submission | MailportError | None] = [None] * len(items)
        now = self.clock.now()
        keyed: dict[str, tuple[int, str]] = {}  # key -> (first index, fingerprint) in this call
        twins: list[tuple[int, int]] = []  # (index, index of the first item with its key)
        fingerprints: dict[int, str] = {}
        for i, (request, key) in enumerate(items):
            if key is None:
                continue
            try:
                validate_idempotency_key(key)
                fingerprints[i] = request.fingerprint()
            except MailportError as exc:
                results[i] = exc
        stored = self._replays(tenant_id, [k for i, (_, k) in enumerate(items)
                                           if k is not None and i in fingerprints])
        prepared: list[tuple[int, _Prepared]] = []
        cache: dict[tuple[str | None, str | None], Sender] = {}
        for i, (request, key) in enumerate(items):
            if results[i] is not None:
                continue
            try:
                fingerprint = fingerprints.get(i)
                if key is not None and fingerprint is not None:
                    if key in stored:
                        view, stored_fingerprint = stored[key]
                        check_idempotency(stored_fingerprint=stored_fingerprint, fingerprint=fingerprint)
                        results[i] = Submission(message=view, replayed=True)
                        continue
                    if key in keyed:
                        first, first_fingerprint = keyed[key]
                        check_idempotency(stored_fingerprint=first_fingerprint, fingerprint=fingerprint)
                        twins.append((i, first))
                        continue
                    keyed[key] = (i, fingerprint)
                prepared.append((i, self._prepare(tenant_id, request, key, fingerprint, now, cache)))
            except MailportError as exc:
                results[i] = exc
        if prepared:
            try:
                with self.db.session() as s:
                    if self.suppression is not None:  # read in the writing transaction
                        checked = [(i, item) for i, item in prepared if not item.ignore_suppression]
                        refusals = self.suppression.refusals(
                            s, tenant_id, [item.addresses for _, item in checked])
                        refused: set[int] = set()
                        for (i, _), refusal in zip(checked, refusals, strict=True):
                            if refusal is not None:
                                results[i] = refusal
                                refused.add(i)
                        prepared = [(i, item) for i, item in prepared if i not in refused]
                    self._store_all(s, tenant_id, [item for _, item in prepared], now)
                for i, item in prepared:
                    results[i] = Submission(message=item.view, replayed=False)
            except StorageError as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
                # Another request with one of these keys committed first: settle item by item.
                for i, item in prepared:
                    results[i] = self._store_alone(tenant_id, item, now)
        for i, first in twins:
            earlier = results[first]
            results[i] = (Submission(message=earlier.message, replayed=True)
                          if isinstance(earlier, Submission) else earlier)
        return [r for r in results if r is not None]

    def _store_alone(self, tenant_id: str, item: _Prepared, now: datetime) -> Submission | MailportError:
        try:
            with self.db.session() as s:
                if self.suppression is not None and not item.ignore_suppression:
                    self.suppression.refuse_suppressed(s, tenant_id, item.addresses)
                self._store_all(s, tenant_id, [item], now)
            return Submission(message=item.view, replayed=False)
        except StorageError as exc:
            key = item.row["idempotency_key"]
            if key is not None and isinstance(exc.__cause__, IntegrityError):
                try:
                    replay = self._replay(tenant_id, key, item.row["request_fingerprint"] or "")
                except MailportError as conflict:
                    return conflict
                if replay is not None:
                    return Submission(message=replay, replayed=True)
            raise

    def _prepare(self, tenant_id: str, request: SendRequest, idempotency_key: str | None,
                 fingerprint: str | None, now: datetime,
                 cache: dict[tuple[str | None, str | None], Sender]) -> _Prepared:
        """Everything of one message but the write: sender, MIME bytes, rows."""
        request = self._with_default_sender(tenant_id, request)
        plan = self._platform_plan(tenant_id, request)
        if plan is not None:
            sender_key, sender, reply_to = plan.sender_key, plan.from_, list(plan.reply_to) or request.reply_to
        else:
            lookup = (request.account_id, request.from_email)
            account = cache.get(lookup)
            if account is None:
                account = cache[lookup] = self._sending_account(tenant_id, request)
            from_email = account.email
            if request.from_email is not None and parse_address(request.from_email, field="from").key != \
                    parse_address(account.email).key:
                # Not the account's own address: only a confirmed alias will do.
                from_email = self.accounts.check_sender(tenant_id, account.id, request.from_email)
            from_name = request.from_name if request.from_name is not None else (account.display_name or "")
            sender_key, reply_to = account.id, request.reply_to
            sender = Mailbox.parse(from_email, name=from_name, field="from")
        draft = MessageDraft.create(
            from_=sender,
            to=request.to, cc=request.cc, bcc=request.bcc, reply_to=reply_to,
            subject=request.subject, text=request.text, html=request.html,
            attachments=request.attachments, headers=request.headers, metadata=request.metadata,
        )
        id_domain = plan.signer.domain if plan is not None else draft.from_.address.ascii_domain
        built = build_message(draft, message_id_domain=id_domain, now=now,
                              make_id=self.make_token, max_bytes=self.settings.max_message_bytes)
        send_at = _check_send_at(request.send_at, now=now)
        copy_bytes = sent_copy(built, draft=draft)
        prefix = copy_bytes[: len(copy_bytes) - len(built.raw)]

        message_id = new_id("msg")
        kinds: list[tuple[str, str]] = []
        seen: set[str] = set()
        for kind, boxes in (("to", draft.to), ("cc", draft.cc), ("bcc", draft.bcc)):
            for box in boxes:
                if box.address.key not in seen:
                    seen.add(box.address.key)
                    kinds.append((box.envelope_address, kind))
        envelope = built.envelope.to_dict()
        if plan is not None:  # VERP: a bounce names this message
            envelope["mail_from"] = plan.envelope_from(message_id)
        queued = MessageState.QUEUED.value
        row: dict[str, Any] = {
            "id": message_id, "tenant_id": tenant_id, "account_id": sender_key, "state": queued,
            "from_email": draft.from_.address.email, "subject": draft.subject,
            "header_message_id": built.message_id, "size": built.size,
            "attachment_count": len(draft.attachments), "meta": dict(draft.metadata), "send_at": send_at,
            "next_attempt_at": send_at or now, "attempts": 0, "last_delay_seconds": None, "reason": None,
            "idempotency_key": idempotency_key, "request_fingerprint": fingerprint,
            "created_at": now, "updated_at": now, "sent_at": None,
        }
        recipients = [{"message_id": message_id, "position": i, "address": address, "kind": kind,
                       "status": "pending", "smtp_code": None, "enhanced_code": None, "text": None,
                       "diagnosis": None, "updated_at": now} for i, (address, kind) in enumerate(kinds)]
        view = MessageView(
            id=message_id, state=queued, account_id=sender_key, from_email=row["from_email"],
            subject=draft.subject, header_message_id=built.message_id, size=built.size,
            attachment_count=row["attachment_count"], metadata=dict(draft.metadata), send_at=send_at,
            next_attempt_at=row["next_attempt_at"], attempts=0, reason=None, created_at=now, updated_at=now,
            sent_at=None, recipients=[{k: r[k] for k in _RECIPIENT_FIELDS} for r in recipients],
        )
        return _Prepared(row=row, content={"message_id": message_id, "raw": built.raw, "envelope": envelope,
                                           "sent_prefix": prefix},
                         recipients=recipients, addresses=[a for a, _ in kinds], view=view,
                         ignore_suppression=request.ignore_suppression)

    def _store_all(self, s: Session, tenant_id: str, items: Sequence[_Prepared], now: datetime) -> None:
        """Write prepared messages in the caller's transaction: their messages, contents,
        recipients, ``message.queued`` events and ``send`` jobs (one statement on PostgreSQL,
        :meth:`OutboxRepository.add_accepted`), then the tenant's webhook deliveries of the events."""
        if not items:  # every item was refused (suppressed): nothing to write
            return
        events = self.events.event_rows(now=now, entries=[
            (tenant_id, i.row["id"], MessageQueued(message_id=i.row["id"], account_id=i.row["account_id"],
                                                   metadata=dict(i.row["meta"]), recipients=i.addresses,
                                                   send_at=i.row["send_at"]), 0) for i in items])
        jobs = self.queue.new_rows([{
            "kind": SEND_JOB, "payload": {"message_id": i.row["id"], "account_id": i.row["account_id"]},
            "tenant_id": tenant_id, "dedupe_key": i.row["id"], "run_at": i.row["send_at"] or now,
        } for i in items], now=now)
        wake = self.queue.wake_payload(jobs, now=now)
        OutboxRepository(s).add_accepted([i.row for i in items], [i.content for i in items],
                                         [r for i in items for r in i.recipients], events=events, jobs=jobs,
                                         wake=wake)
        self.queue.tell_locally(s, wake)  # SQLite's embedded worker (PostgreSQL's hear the NOTIFY above)
        self.events.fan_out(s, events, now=now)

    def _replays(self, tenant_id: str, keys: Sequence[str]) -> dict[str, tuple[MessageView, str]]:
        """Messages earlier requests made with these keys (one query), with their fingerprints."""
        if not keys:
            return {}
        with self.db.reading() as s:
            repo = OutboxRepository(s)
            found = repo.find_by_idempotency_keys(tenant_id=tenant_id, keys=keys)
            recipients = repo.recipients_of([m.id for m in found])
            return {m.idempotency_key or "": (MessageView.of(m, recipients.get(m.id, [])),
                                              m.request_fingerprint or "") for m in found}

    async def submit_async(self, tenant_id: str, request: SendRequest, *,
                           idempotency_key: str | None = None) -> Submission:
        """:meth:`submit` through the group commit (see :class:`GroupCommit`)."""
        [result] = await self.submit_many_async(tenant_id, [(request, idempotency_key)])
        if isinstance(result, MailportError):
            raise result
        return result

    async def submit_many_async(self, tenant_id: str, items: Sequence[tuple[SendRequest, str | None]],
                                ) -> list[Submission | MailportError]:
        """:meth:`submit_many` off the event loop, committed together with whatever other
        requests of this process are waiting (group commit); the commit wakes the workers
        (:meth:`JobQueue.tell_locally`, ``NOTIFY``)."""
        return await self._group.submit(tenant_id, items)

    def _replay(self, tenant_id: str, key: str, fingerprint: str) -> MessageView | None:
        with self.db.session() as s:
            repo = OutboxRepository(s)
            existing = repo.find_by_idempotency_key(tenant_id=tenant_id, key=key)
            if existing is None:
                return None
            check_idempotency(stored_fingerprint=existing.request_fingerprint, fingerprint=fingerprint)
            return MessageView.of(existing, repo.recipients(existing.id))

    def _with_default_sender(self, tenant_id: str, request: SendRequest) -> SendRequest:
        """A message that names neither account, from address nor method goes the way the
        business chose (Settings › E-mail, or ``PATCH /v1/tenant``)."""
        if request.method is not None or request.account_id or request.from_email:
            return replace(request, method=request.method or "account")
        with self.db.session() as s:
            tenant = s.get(Tenant, tenant_id)
            method, account_id = (tenant.default_method, tenant.default_account_id) if tenant else (None, None)
            default_from = tenant.default_from if tenant else None
        if method == "platform":
            return replace(request, method="platform")
        if method == "domain" and default_from:  # the own domain: its route follows the From address
            return replace(request, method="domain", from_email=default_from)
        return replace(request, method="account", account_id=account_id if method == "account" else None)

    def _sending_account(self, tenant_id: str, request: SendRequest) -> Sender:
        """The account row (read once, without the secret store: accepting must be cheap)."""
        if request.account_id:
            return AccountRepository.sender(self.db, tenant_id=tenant_id, account_id=request.account_id)
        if request.from_email:
            address = parse_address(request.from_email, field="from")
            with self.db.reading() as s:
                found = AccountRepository(s).find_by_email(tenant_id=tenant_id, email=address.email)
            if found is not None:
                return _sender(found)
            raise ValidationError(
                f"no connected mailbox sends as {request.from_email}; pass the account id",
                code="send.no_account", field="account",
            )
        with self.db.session() as s:
            accounts = AccountRepository(s).list_for_tenant(tenant_id=tenant_id)
        if len(accounts) == 1:  # unambiguous: the tenant's only mailbox
            return _sender(accounts[0])
        raise ValidationError("name the sending account (or a from address of one)",
                              code="send.no_account", field="account")

    # -- read / cancel -----------------------------------------------------------------------

    def _platform_plan(self, tenant_id: str, request: SendRequest) -> SendPlan | None:
        """From, Reply-To, signer and return path of a ``platform``/``domain`` message."""
        method = request.method
        if method is None or method == "account":
            return None
        if self.platform is None:
            raise ValidationError("sending by the platform is not configured here", code="config.platform_missing",
                                  field="method")
        if request.account_id:
            raise ValidationError("the platform and domain methods take no account", field="account")
        if request.method == "platform" and request.reply_to:
            raise ValidationError("platform mail replies go to the tenant's confirmed reply address",
                                  field="reply_to")
        return self.platform.plan(tenant_id, method=method, from_email=request.from_email,
                                  from_name=request.from_name)

    def get(self, tenant_id: str, message_id: str) -> MessageView:
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.get(tenant_id=tenant_id, message_id=message_id)
            return MessageView.of(message, repo.recipients(message.id), events=repo.events(message.id),
                                  copy=repo.sent_copy(message.id))

    def list_messages(
        self, tenant_id: str, *, states: Sequence[str] = (), account_id: str | None = None,
        limit: int = 50, before: str | None = None,
    ) -> list[MessageView]:
        """Newest first; ``before`` is a message id (the last one of the previous page)."""
        for state in states:
            try:
                MessageState(state)
            except ValueError as exc:
                raise ValidationError(f"unknown status {state!r}", field="status") from exc
        if not 1 <= limit <= 200:
            raise ValidationError("limit must be between 1 and 200", field="limit")
        with self.db.session() as s:
            repo = OutboxRepository(s)
            cursor = None
            if before:
                last = repo.get(tenant_id=tenant_id, message_id=before)
                cursor = (last.created_at, last.id)
            rows = repo.list_messages(tenant_id=tenant_id, states=states, account_id=account_id,
                             before=cursor, limit=limit)
            if account_id is not None and not rows and not _sender_known(s, repo, tenant_id, account_id):
                # As the inbox answers: another tenant's account (or none) is not found, never "no messages".
                raise NotFound("no such account", resource="account")
            recipients = repo.recipients_of([m.id for m in rows])
            return [MessageView.of(m, recipients.get(m.id, [])) for m in rows]

    def cancel(self, tenant_id: str, message_id: str) -> MessageView:
        """Cancel a message that is not being sent or sent yet (409 ``message.not_cancellable``)."""
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.get(tenant_id=tenant_id, message_id=message_id)
            ensure_cancellable(message.state)
            # Guarded: a worker may have claimed it since the read above.
            if not repo.update(message.id, expected_states=[message.state],
                               values={"state": MessageState.CANCELLED.value, "updated_at": now,
                                       "next_attempt_at": None}):
                raise Conflict("the message is being sent right now and can no longer be cancelled",
                               code="message.not_cancellable")
            self.events.record(s, tenant_id=tenant_id, message_id=message.id, now=now,
                               seq=event_seq(message.attempts, "between"),
                               payload=MessageCancelled(message_id=message.id, account_id=message.account_id,
                                                        metadata=dict(message.meta)))
        return self.get(tenant_id, message_id)

    def retry(self, tenant_id: str, message_id: str) -> MessageView:
        """Send a failed or deferred message again now — after the user fixed what made it fail
        (409 ``message.not_retryable`` otherwise). Recipients that accepted it are not sent to
        again; the give-up age counts from now."""
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.get(tenant_id=tenant_id, message_id=message_id)
            ensure_retryable(message.state)
            try:
                repo.content(message.id)
            except NotFound:
                # Retention removed the bytes of this finished message (docs/operations.md).
                raise Conflict("this message's content was removed by the retention policy; "
                               "send the document again as a new message",
                               code="message.not_retryable") from None
            if not repo.update(message.id, expected_states=[message.state], values={
                    "state": MessageState.QUEUED.value, "next_attempt_at": None, "reason": None,
                    "last_delay_seconds": None, "send_at": now, "updated_at": now}):
                raise Conflict("the message is being sent right now", code="message.not_retryable")
            repo.reopen_recipients(message.id, now=now)
            recipients = [r.address for r in repo.recipients(message.id) if r.status == "pending"]
            self.queue.requeue(kind=SEND_JOB, dedupe_key=message.id, now=now, tenant_id=tenant_id,
                               payload={"message_id": message.id, "account_id": message.account_id}, session=s)
            self.events.record(s, tenant_id=tenant_id, message_id=message.id, now=now,
                               seq=event_seq(message.attempts, "between"),
                               payload=MessageQueued(message_id=message.id, account_id=message.account_id,
                                                     metadata=dict(message.meta), recipients=recipients))
        return self.get(tenant_id, message_id)

    async def retry_async(self, tenant_id: str, message_id: str) -> MessageView:
        """:meth:`retry` off the event loop (its commit wakes the workers)."""
        return await asyncio.to_thread(self.retry, tenant_id, message_id)

    # -- the ``send`` job --------------------------------------------------------------------

def _sender(account: Account) -> Sender:
    return Sender(account.id, account.email, account.display_name)


def _check_send_at(send_at: datetime | None, *, now: datetime) -> datetime | None:
    if send_at is None:
        return None
    if send_at.tzinfo is None or send_at.utcoffset() is None:
        raise ValidationError("send_at must include a time zone (e.g. 2026-11-24T09:00:00+01:00)",
                              field="send_at")
    if send_at <= now:
        return None  # in the past: send now
    if send_at - now > timedelta(days=365):
        raise ValidationError("send_at is more than a year ahead", field="send_at")
    return send_at


def _sender_known(s: Session, repo: OutboxRepository, tenant_id: str, account_id: str) -> bool:
    """Whether ``account_id`` is something of the tenant's that messages go out through: one of its
    mailboxes or own domains, the platform, or the sender of any of its messages (removed since)."""
    if account_id == PLATFORM_SENDER:
        return True
    account, domain = s.get(Account, account_id), s.get(Domain, account_id)
    if account is not None and account.tenant_id == tenant_id:
        return True
    if domain is not None and domain.tenant_id == tenant_id:
        return True
    return repo.sent_from(tenant_id=tenant_id, account_id=account_id)
