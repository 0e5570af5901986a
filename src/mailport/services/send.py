"""Send documents reliably: accept into the outbox, send with retries, file the Sent copy.

Accept (:meth:`OutboxService.submit`): the draft is validated and rendered to its exact wire
bytes by :mod:`mailport.core.message`, then the message, its bytes, its recipients, the
``message.queued`` event and one ``send`` job are committed in **one** transaction — after the
202 nothing can be lost, and a retry after a crash resends byte-identical mail (same Message-ID).

Send (the ``send`` job, :meth:`OutboxService.handle_send`)::

    begin (one transaction)   limits of the account (concurrency, rate, daily cap)
                              -> wait quietly, defer visibly, or  state := sending, event
    SMTP                      pooled session; one transaction for the remaining recipients
    finish (one transaction)  core.outbox.classify_send_outcome -> sent | deferred | failed,
                              per-recipient rows, event, Sent-copy job; the job retries at
                              ``retry_at`` when deferred

A worker killed between the server's 250 and the "finish" commit leaves the message in
``sending``; the job's lease runs out, another worker takes it over and sends again. That is the
one window for a duplicate, and it is bounded by the messages in flight at the crash — losing an
invoice would be worse.

Sent copy (the ``sent_copy`` job, :meth:`OutboxService.handle_sent_copy`): IMAP APPEND to the
``\\Sent`` folder, except for servers that file sent mail themselves. The ``sent_copies`` row is
written as ``started`` *before* the APPEND; a later attempt that finds ``started`` searches the
folder for the Message-ID first, so a crash mid-APPEND never yields two copies.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailport.adapters.dns import Resolver
from mailport.adapters.imap import ImapSession
from mailport.adapters.queue import ClaimedJob, JobQueue
from mailport.adapters.secrets import Secret
from mailport.adapters.smtp import SendResult, SmtpSession
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.outbox_repository import SEND_JOB, OutboxRepository
from mailport.adapters.storage.repositories import AccountRepository
from mailport.adapters.storage.tables import Account
from mailport.adapters.storage.tables_outbox import (
    Message,
    MessageContent,
    MessageRecipient,
    SentCopy,
)
from mailport.clock import Clock
from mailport.core.addresses import parse_address
from mailport.core.events import (
    MessageCancelled,
    MessageDeferred,
    MessageFailed,
    MessageQueued,
    MessageSending,
    payload_for_outcome,
)
from mailport.core.message import (
    Attachment,
    Mailbox,
    MessageDraft,
    build_message,
    sent_copy,
)
from mailport.core.outbox import (
    TERMINAL_STATES,
    DailyCap,
    MessageState,
    Outcome,
    RateLimit,
    RecipientOutcome,
    RecipientResult,
    RecipientStatus,
    RetryPolicy,
    SendLimits,
    check_idempotency,
    classify_send_outcome,
    ensure_cancellable,
    request_fingerprint,
    server_files_sent_copy,
    transition,
    validate_idempotency_key,
)
from mailport.core.verification import AccountConfig
from mailport.errors import (
    Conflict,
    MailportError,
    NetworkError,
    NotFound,
    ProtocolError,
    RemoteAuthError,
    RemoteError,
    StorageError,
    ValidationError,
)
from mailport.ids import new_id
from mailport.services.accounts import AccountService
from mailport.services.domains import DomainNotSendable
from mailport.services.platform import PlatformService, SendPlan, is_platform_sender
from mailport.services.smtp_pool import SmtpPool, pool_key
from mailport.services.webhooks import EventLog
from mailport.settings import Settings
from mailport.worker import Done, Fail, JobResult, Retry

log = logging.getLogger(__name__)

__all__ = [
    "SEND_JOB",
    "SENT_COPY_JOB",
    "MessageView",
    "OutboxService",
    "SendMetrics",
    "SendRequest",
    "Submission",
    "event_seq",
]

SENT_COPY_JOB = "sent_copy"
_SENT_COPY_RETRY = RetryPolicy(min_delay=timedelta(seconds=30), max_delay=timedelta(minutes=30),
                               give_up_after=timedelta(days=1))
_SENT_COPY_MAX_ATTEMPTS = 12
_SLOT_WAIT = timedelta(seconds=2)
# A job claimed a little before ``next_attempt_at`` (clock skew between workers) still runs.
_EARLY = timedelta(seconds=1)

MailboxInput = str | Mailbox


# ---------------------------------------------------------------------------------------------
# Requests and views


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest:
    """What a caller asks to send (the API and the CLI build this).

    ``account_id`` picks the sending mailbox; without it the account whose address is
    ``from_email`` is used, or the tenant's only account. ``from_email`` defaults to the account's own address and must be it
    or a confirmed alias.
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
    method: Literal["account", "platform", "domain"] = "account"
    """``account``: through a connected mailbox; ``platform``/``domain``: through the platform
    transport, From the platform alias or an address at one of the tenant's own domains."""

    def fingerprint(self) -> str:
        """:func:`core.outbox.request_fingerprint` of everything that decides the message."""

        def boxes(values: Sequence[MailboxInput]) -> list[Any]:
            return [[v.address.email, v.name] if isinstance(v, Mailbox) else v for v in values]

        return request_fingerprint({
            "to": boxes(self.to), "cc": boxes(self.cc), "bcc": boxes(self.bcc),
            "reply_to": boxes(self.reply_to), "subject": self.subject, "text": self.text,
            "html": self.html, "headers": dict(self.headers), "metadata": dict(self.metadata),
            "account_id": self.account_id, "from_email": self.from_email,
            "from_name": self.from_name, "method": self.method,
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


@dataclass(frozen=True, slots=True)
class Submission:
    message: MessageView
    replayed: bool  # True: an earlier request with the same Idempotency-Key made this message


# ---------------------------------------------------------------------------------------------
# Metrics


class SendMetrics:
    """Process-local send metrics (the embedded worker's, or one ``mailport worker``'s)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.attempt_seconds = Histogram(
            "mailport_send_attempt_seconds", "Duration of one SMTP attempt (connect to last reply).",
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.latency_seconds = Histogram(
            "mailport_send_latency_seconds", "From accepted (or send_at) to accepted by the server.",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
        )
        self.attempts = Counter(
            "mailport_send_attempts", "SMTP attempts by resulting state and diagnosis code.",
            ["state", "code"], registry=self.registry,
        )


# ---------------------------------------------------------------------------------------------
# Internal records


@dataclass(frozen=True, slots=True)
class _Attempt:
    message_id: str
    tenant_id: str
    account_id: str
    attempt: int
    queued_at: datetime
    previous_delay: timedelta | None
    mail_from: str
    recipients: tuple[str, ...]
    previously_accepted: tuple[str, ...]
    raw: bytes
    header_message_id: str
    metadata: dict[str, str]
    daily: RateLimit | None
    account_version: datetime  # the account row's updated_at: keys the connection cache
    copy_skip: str | None  # why no Sent copy will be made, or None


class _Creds(NamedTuple):
    config: AccountConfig
    password: Secret | None
    token: str | None  # an OAuth access token (XOAUTH2) instead of a password


class FoundCredentials(Protocol):
    @property
    def config(self) -> AccountConfig: ...
    @property
    def password(self) -> Secret | None: ...
    @property
    def token(self) -> str | None: ...


class CredentialSource(Protocol):
    """Where an account's secret comes from (``services.oauth.OAuthService.credentials`` fits):
    its password, or a fresh OAuth access token (a new one when ``rejected_token`` was refused)."""

    async def __call__(self, tenant_id: str, account_id: str, *,
                       rejected_token: str | None = None) -> FoundCredentials: ...


@dataclass(frozen=True, slots=True)
class _CopyPlan:
    tenant_id: str
    account_id: str
    header_message_id: str
    raw: bytes
    sent_at: datetime
    started_before: bool


class OutboxService:
    def __init__(
        self, *, db: Database, queue: JobQueue, accounts: AccountService, events: EventLog,
        clock: Clock, settings: Settings, resolver: Resolver,
        pool: SmtpPool | None = None, metrics: SendMetrics | None = None,
        rng: Callable[[], float] | None = None, make_token: Callable[[], str] | None = None,
        platform: PlatformService | None = None, credentials: CredentialSource | None = None,
    ) -> None:
        self.db = db
        self.platform = platform
        self.credentials = credentials
        self.queue = queue
        self.accounts = accounts
        self.events = events
        self.clock = clock
        self.settings = settings
        self.resolver = resolver
        self.pool = pool or SmtpPool()
        self.metrics = metrics or SendMetrics()
        self.rng = rng or random.Random().random
        self.make_token = make_token or (lambda: secrets.token_hex(16))
        self.policy = RetryPolicy(
            min_delay=timedelta(seconds=settings.send_retry_min_delay),
            max_delay=timedelta(seconds=max(settings.send_retry_max_delay, settings.send_retry_min_delay)),
            give_up_after=timedelta(seconds=settings.send_give_up_after),
        )
        self._connections: dict[str, tuple[datetime, _Creds]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._slots_loop: asyncio.AbstractEventLoop | None = None
        self.on_enqueue: Callable[[], None] | None = None
        """Called on the event loop after :meth:`submit_async` committed a message (the runtime
        points it at the embedded worker's ``wake``, so a message does not wait for a poll)."""

    # -- accept ------------------------------------------------------------------------------

    def submit(self, tenant_id: str, request: SendRequest, *, idempotency_key: str | None = None) -> Submission:
        """Validate, render and commit a message with its ``send`` job; see the module doc."""
        fingerprint: str | None = None
        if idempotency_key is not None:
            validate_idempotency_key(idempotency_key)
            fingerprint = request.fingerprint()
            replay = self._replay(tenant_id, idempotency_key, fingerprint)
            if replay is not None:
                return Submission(message=replay, replayed=True)

        plan = self._platform_plan(tenant_id, request)
        if plan is not None:
            sender_key, sender, reply_to = plan.sender_key, plan.from_, list(plan.reply_to) or request.reply_to
        else:
            account = self._sending_account(tenant_id, request)
            from_email = account.email
            if request.from_email is not None and parse_address(request.from_email, field="from").key != \
                    parse_address(account.email).key:
                # Not the account's own address: only a confirmed alias will do.
                from_email = self.accounts.check_sender(tenant_id, account.id, request.from_email)
            from_name = request.from_name if request.from_name is not None else (account.display_name or "")
            sender_key, reply_to = account.id, request.reply_to
            sender = Mailbox.parse(from_email, name=from_name, field="from")
        now = self.clock.now()
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
        message = Message(
            id=message_id, tenant_id=tenant_id, account_id=sender_key, state=MessageState.QUEUED.value,
            from_email=draft.from_.address.email, subject=draft.subject, header_message_id=built.message_id,
            size=built.size, attachment_count=len(draft.attachments), meta=dict(draft.metadata),
            send_at=send_at, next_attempt_at=send_at or now, attempts=0,
            idempotency_key=idempotency_key, request_fingerprint=fingerprint,
            created_at=now, updated_at=now,
        )
        content = MessageContent(message_id=message_id, raw=built.raw,
                                 envelope=envelope, sent_prefix=prefix)
        recipients = [
            MessageRecipient(message_id=message_id, position=i, address=address, kind=kind,
                             status="pending", updated_at=now)
            for i, (address, kind) in enumerate(kinds)
        ]
        try:
            with self.db.session() as s:
                OutboxRepository(s).add(message, content, recipients)
                self.events.record(s, tenant_id=tenant_id, message_id=message_id, now=now,
                                   payload=MessageQueued(message_id=message_id, account_id=sender_key,
                                                         metadata=dict(draft.metadata),
                                                         recipients=[a for a, _ in kinds],
                                                         send_at=send_at))
                self.queue.enqueue(kind=SEND_JOB, payload={"message_id": message_id, "account_id": sender_key},
                                   now=now,
                                   run_at=send_at or now, tenant_id=tenant_id, dedupe_key=message_id,
                                   session=s)
                view = MessageView.of(message, recipients)
        except StorageError as exc:
            # Two requests with one Idempotency-Key raced; the first one's message wins.
            if idempotency_key is not None and isinstance(exc.__cause__, IntegrityError):
                replay = self._replay(tenant_id, idempotency_key, fingerprint or "")
                if replay is not None:
                    return Submission(message=replay, replayed=True)
            raise
        return Submission(message=view, replayed=False)

    async def submit_async(self, tenant_id: str, request: SendRequest, *,
                           idempotency_key: str | None = None) -> Submission:
        """:meth:`submit` off the event loop, then wake an embedded worker on this loop."""
        submission = await asyncio.to_thread(self.submit, tenant_id, request,
                                              idempotency_key=idempotency_key)
        if self.on_enqueue is not None and not submission.replayed:
            self.on_enqueue()
        return submission

    def _replay(self, tenant_id: str, key: str, fingerprint: str) -> MessageView | None:
        with self.db.session() as s:
            repo = OutboxRepository(s)
            existing = repo.find_by_idempotency_key(tenant_id=tenant_id, key=key)
            if existing is None:
                return None
            check_idempotency(stored_fingerprint=existing.request_fingerprint, fingerprint=fingerprint)
            return MessageView.of(existing, repo.recipients(existing.id))

    def _sending_account(self, tenant_id: str, request: SendRequest) -> Account:
        """The account row (read once, without the secret store: accepting must be cheap)."""
        if request.account_id:
            with self.db.session() as s:
                return AccountRepository(s).get(tenant_id=tenant_id, account_id=request.account_id)
        if request.from_email:
            address = parse_address(request.from_email, field="from")
            with self.db.session() as s:
                found = AccountRepository(s).find_by_email(tenant_id=tenant_id, email=address.email)
            if found is not None:
                return found
            raise ValidationError(
                f"no connected mailbox sends as {request.from_email}; pass the account id",
                code="send.no_account", field="account",
            )
        with self.db.session() as s:
            accounts = AccountRepository(s).list(tenant_id=tenant_id)
        if len(accounts) == 1:  # unambiguous: the tenant's only mailbox
            return accounts[0]
        raise ValidationError("name the sending account (or a from address of one)",
                              code="send.no_account", field="account")

    # -- read / cancel -----------------------------------------------------------------------

    def _platform_plan(self, tenant_id: str, request: SendRequest) -> SendPlan | None:
        """From, Reply-To, signer and return path of a ``platform``/``domain`` message."""
        if request.method == "account":
            return None
        if self.platform is None:
            raise ValidationError("sending by the platform is not configured here", code="config.platform_missing",
                                  field="method")
        if request.account_id:
            raise ValidationError("the platform and domain methods take no account", field="account")
        if request.method == "platform" and request.reply_to:
            raise ValidationError("platform mail replies go to the tenant's confirmed reply address",
                                  field="reply_to")
        return self.platform.plan(tenant_id, method=request.method, from_email=request.from_email,
                                  from_name=request.from_name)

    def get(self, tenant_id: str, message_id: str) -> MessageView:
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.get(tenant_id=tenant_id, message_id=message_id)
            return MessageView.of(message, repo.recipients(message.id), events=repo.events(message.id),
                                  copy=repo.sent_copy(message.id))

    def list(
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
            rows = repo.list(tenant_id=tenant_id, states=states, account_id=account_id,
                             before=cursor, limit=limit)
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
                               seq=event_seq(message.attempts, "between"), payload=MessageCancelled(message_id=message.id,
                                                        account_id=message.account_id,
                                                        metadata=dict(message.meta)))
        return self.get(tenant_id, message_id)

    # -- the ``send`` job --------------------------------------------------------------------

    async def handle_send(self, job: ClaimedJob) -> JobResult:
        message_id = str(job.payload.get("message_id", ""))
        if is_platform_sender(str(job.payload.get("account_id", ""))):
            return await self._send(message_id)  # the platform's relay is not a mailbox with slots
        slot = self._slot(str(job.payload.get("account_id", "")))
        try:
            # This process's share of the account's concurrency: wait briefly for a free slot
            # rather than bouncing the job through the database (the check in ``_begin`` still
            # covers other worker processes).
            await asyncio.wait_for(slot.acquire(), _SLOT_WAIT.total_seconds())
        except TimeoutError:
            return Retry(run_at=self.clock.now() + _SLOT_WAIT * (1 + self.rng()), error="account.concurrency")
        try:
            return await self._send(message_id)
        finally:
            slot.release()

    def _slot(self, account_id: str) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots_loop is not loop:  # semaphores belong to one event loop
            self._slots, self._slots_loop = {}, loop
        slot = self._slots.get(account_id)
        if slot is None:
            slot = self._slots[account_id] = asyncio.Semaphore(self.settings.send_account_concurrency)
        return slot

    async def _send(self, message_id: str) -> JobResult:
        begun = await asyncio.to_thread(self._begin, message_id)
        if not isinstance(begun, _Attempt):
            return begun
        attempt = begun
        started = time.perf_counter()
        try:
            if is_platform_sender(attempt.account_id):
                results = await self._transmit_platform(attempt)
            else:
                try:
                    creds = await self._connection(attempt)
                except RemoteError as exc:  # e.g. auth.token_invalid: retried until reconnected
                    results = _for_all(attempt.recipients, exc)
                else:
                    results = await self._transmit(attempt, creds)
        except DomainNotSendable as exc:
            outcome = _failed(attempt, exc.code)  # the domain was suspended after accepting
        except NotFound:
            outcome = _failed(attempt, "account.not_found")
        except ValidationError as exc:
            # The server cannot carry this message (size, SMTPUTF8, 8BITMIME): permanent.
            outcome = _failed(attempt, exc.code)
        else:
            outcome = self._classify(attempt, results)
        finally:
            self.metrics.attempt_seconds.observe(time.perf_counter() - started)
        result = await asyncio.to_thread(self._finish, attempt, outcome)
        if not is_platform_sender(attempt.account_id):  # what this send learnt about the mailbox
            await asyncio.to_thread(
                self.accounts.record_outcome, attempt.tenant_id, attempt.account_id, source="send",
                ok=outcome.state is MessageState.SENT, code=outcome.reason,
                server_text=next((o.text for o in outcome.recipients if o.diagnosis == outcome.reason), None))
        return result

    async def _connection(self, attempt: _Attempt, *, rejected_token: str | None = None) -> _Creds:
        """The account's settings and secret. A password is decrypted once per account version
        (a batch for one mailbox does not pay a database read and an AES decryption per
        message); an OAuth access token comes from the token source each time, which refreshes
        it before it expires — or at once when a server just refused ``rejected_token``."""
        cached = self._connections.get(attempt.account_id)
        if cached is not None and cached[0] == attempt.account_version and rejected_token is None:
            return cached[1]
        return await self._credentials_of(attempt.tenant_id, attempt.account_id,
                                          version=attempt.account_version, rejected_token=rejected_token)

    async def _credentials_of(self, tenant_id: str, account_id: str, *, version: datetime | None = None,
                              rejected_token: str | None = None) -> _Creds:
        if self.credentials is not None:
            found = await self.credentials(tenant_id, account_id, rejected_token=rejected_token)
            creds = _Creds(found.config, found.password, found.token)
        else:
            config, password = await asyncio.to_thread(self.accounts.connection, tenant_id, account_id)
            creds = _Creds(config, password, None)
        if creds.token is None and version is not None:
            self._connections[account_id] = (version, creds)
        return creds

    def _limits(self, account: Account) -> SendLimits:
        rate = None
        if self.settings.send_account_rate_per_minute:
            rate = RateLimit(limit=self.settings.send_account_rate_per_minute, period=timedelta(minutes=1))
        daily = DailyCap(limit=account.daily_limit) if account.daily_limit else None
        # Another process holds the account's slots (this one's are counted by ``_slot``): look
        # again soon; the message stays queued and nobody is told.
        return SendLimits(max_concurrent=self.settings.send_account_concurrency, rate=rate, daily=daily,
                          concurrency_backoff=timedelta(seconds=1))

    def _begin(self, message_id: str) -> _Attempt | JobResult:
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.find(message_id)
            if message is None:
                return Fail(error="the message no longer exists")
            state = MessageState(message.state)
            if state in TERMINAL_STATES or state is MessageState.SENT:
                return Done()  # cancelled meanwhile, or finished by a worker that then died
            if message.next_attempt_at is not None and message.next_attempt_at > now + _EARLY:
                return Retry(run_at=message.next_attempt_at)
            account = None if is_platform_sender(message.account_id) else s.get(Account, message.account_id)
            daily: RateLimit | None = None
            if not is_platform_sender(message.account_id):  # platform mail has no mailbox limits
                if account is None or account.tenant_id != message.tenant_id:
                    self._fail_unsendable(s, message, state, "account.not_found", now)
                    return Done()
                limits = self._limits(account)
                daily = limits.daily
                repo.lock_account(account.id)
                rate_count = day_count = 0
                if limits.rate is not None:
                    rate_count = repo.sent_since(account_id=account.id, since=limits.rate.window_start(now))
                if limits.daily is not None:
                    day_count = repo.sent_since(account_id=account.id, since=limits.daily.window_start(now))
                decision = limits.check(
                    in_flight=repo.in_flight(account_id=account.id, now=now, exclude=message.id),
                    now=now, sent_in_rate_window=rate_count, sent_in_day=day_count,
                )
                if not decision.allowed:
                    retry_at = decision.retry_at or now + timedelta(seconds=5)
                    if decision.visible:
                        self._defer_for_limit(s, message, state, retry_at, decision.reason, now)
                    return Retry(run_at=retry_at, error=decision.reason)

            if state is not MessageState.SENDING:  # SENDING: taking over a dead worker's message
                transition(state, MessageState.SENDING)
            attempt_no = message.attempts + 1
            repo.update(message.id, expected_states=[state.value],
                        values={"state": MessageState.SENDING.value, "attempts": attempt_no,
                                "updated_at": now})
            self.events.record(s, tenant_id=message.tenant_id, message_id=message.id, now=now,
                               seq=event_seq(attempt_no, "sending"), payload=MessageSending(message_id=message.id, account_id=message.account_id,
                                                      metadata=dict(message.meta), attempt=attempt_no))
            rows = repo.recipients(message.id)
            content = repo.content(message.id)
            return _Attempt(
                message_id=message.id, tenant_id=message.tenant_id, account_id=message.account_id,
                attempt=attempt_no, queued_at=max(message.created_at, message.send_at or message.created_at),
                previous_delay=(timedelta(seconds=message.last_delay_seconds)
                                if message.last_delay_seconds else None),
                mail_from=str(content.envelope["mail_from"]),
                recipients=tuple(r.address for r in rows if r.status in ("pending", "deferred")),
                previously_accepted=tuple(r.address for r in rows if r.status == "accepted"),
                raw=content.raw, header_message_id=message.header_message_id,
                metadata=dict(message.meta), daily=daily,
                account_version=account.updated_at if account is not None else message.created_at,
                copy_skip=_copy_skip_reason(account) if account is not None else "sent by the platform: no mailbox",
            )

    def _defer_for_limit(self, s: Session, message: Message, state: MessageState, retry_at: datetime,
                         reason: str | None, now: datetime) -> None:
        repo = OutboxRepository(s)
        values: dict[str, Any] = {"next_attempt_at": retry_at, "updated_at": now}
        if state is not MessageState.DEFERRED or message.reason != reason:
            if state is not MessageState.DEFERRED:
                transition(state, MessageState.DEFERRED)
            values.update(state=MessageState.DEFERRED.value, reason=reason)
            self.events.record(s, tenant_id=message.tenant_id, message_id=message.id, now=now,
                               seq=event_seq(message.attempts, "between"), payload=MessageDeferred(message_id=message.id, account_id=message.account_id,
                                                       metadata=dict(message.meta), attempt=message.attempts,
                                                       retry_at=retry_at, reason=reason))
        repo.update(message.id, expected_states=[state.value], values=values)

    def _fail_unsendable(self, s: Session, message: Message, state: MessageState, reason: str,
                         now: datetime) -> None:
        transition(state, MessageState.FAILED)
        OutboxRepository(s).update(message.id, expected_states=[state.value],
                                   values={"state": MessageState.FAILED.value, "reason": reason,
                                           "next_attempt_at": None, "updated_at": now})
        self.events.record(s, tenant_id=message.tenant_id, message_id=message.id, now=now,
                           seq=event_seq(message.attempts, "between"), payload=MessageFailed(message_id=message.id, account_id=message.account_id,
                                                 metadata=dict(message.meta), attempt=message.attempts,
                                                 reason=reason))

    async def _transmit_platform(self, attempt: _Attempt) -> builtins.list[RecipientResult]:
        """Sign and hand over through the platform transport (``platform``/``domain`` methods)."""
        if self.platform is None:
            raise ValidationError("sending by the platform is not configured here", code="config.platform_missing")
        try:
            result = await self.platform.transmit_stored(
                attempt.tenant_id, sender_key=attempt.account_id, mail_from=attempt.mail_from,
                rcpt_to=attempt.recipients, raw=attempt.raw)
        except RemoteError as exc:
            return _for_all(attempt.recipients, exc)
        return _from_send_result(result)

    async def _transmit(self, attempt: _Attempt, creds: _Creds) -> builtins.list[RecipientResult]:
        fresh = refreshed = False
        while True:
            config, password, token = creds
            key = pool_key(attempt.account_id, config.smtp, password.reveal() if password else "", token or "")

            def opener(config: AccountConfig = config, password: Secret | None = password,
                       token: str | None = token) -> Any:
                return SmtpSession.open(config.smtp, password=password, oauth_token=token,
                                        settings=self.settings, resolver=self.resolver, email=config.email)

            try:
                lease = await self.pool.acquire(key, opener, fresh=fresh)
            except RemoteError as exc:
                if isinstance(exc, RemoteAuthError) and token is not None and not refreshed:
                    # Access tokens can die before their announced expiry: refresh once.
                    refreshed = True
                    try:
                        creds = await self._connection(attempt, rejected_token=token)
                    except RemoteError as refresh_error:
                        return _for_all(attempt.recipients, refresh_error)
                    continue
                return _for_all(attempt.recipients, exc)
            reusable = False
            try:
                result = await lease.session.send(attempt.mail_from, attempt.recipients, attempt.raw)
                reusable = True
            except (NetworkError, ProtocolError) as exc:
                # An idle pooled connection the server closed: nothing was sent yet (the failure
                # is at MAIL FROM), so one more try on a fresh connection is safe.
                if lease.reused and exc.stage == "smtp.mail" and not fresh:
                    await self.pool.release(lease, reusable=False)
                    fresh = True
                    continue
                await self.pool.release(lease, reusable=False)
                return _for_all(attempt.recipients, exc)
            except RemoteError as exc:
                # A refusal with a reply leaves the connection usable (aiosmtplib/RSET),
                # except 421, which announces the server is closing it.
                await self.pool.release(lease, reusable=exc.smtp_code not in (None, 421))
                return _for_all(attempt.recipients, exc)
            except BaseException:
                await self.pool.release(lease, reusable=False)
                raise
            await self.pool.release(lease, reusable=reusable)
            return _from_send_result(result)

    def _classify(self, attempt: _Attempt, results: builtins.list[RecipientResult]) -> Outcome:
        return classify_send_outcome(
            results, attempt=attempt.attempt, queued_at=attempt.queued_at, now=self.clock.now(),
            policy=self.policy, rng=self.rng, previous_delay=attempt.previous_delay,
            previously_accepted=attempt.previously_accepted, cap=attempt.daily,
        )

    def _finish(self, attempt: _Attempt, outcome: Outcome) -> JobResult:
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.find(attempt.message_id)
            if message is None:
                return Done()
            transition(MessageState.SENDING, outcome.state)
            repo.update_recipients(message.id, [{
                "address": o.recipient, "status": o.status.value, "smtp_code": o.smtp_code,
                "enhanced_code": o.enhanced_code, "text": o.text[:2000], "diagnosis": o.diagnosis,
                "updated_at": now,
            } for o in outcome.recipients])
            values: dict[str, Any] = {
                "state": outcome.state.value, "reason": outcome.reason, "updated_at": now,
                "next_attempt_at": outcome.retry_at,
                "last_delay_seconds": outcome.delay.total_seconds() if outcome.delay else None,
            }
            if outcome.state is MessageState.SENT:
                values["sent_at"] = now
            if not repo.update(message.id, expected_states=[MessageState.SENDING.value], values=values):
                # Another worker took the message over (our lease ran out mid-send); its result wins.
                log.warning("message %s changed state while being sent; not recording attempt %d",
                            message.id, attempt.attempt)
                return Done()
            payload = payload_for_outcome(outcome, message_id=message.id, account_id=message.account_id,
                                          attempt=attempt.attempt, metadata=attempt.metadata,
                                          header_message_id=attempt.header_message_id)
            self.events.record(s, tenant_id=message.tenant_id, message_id=message.id, now=now,
                               seq=event_seq(attempt.attempt, "outcome"), payload=payload)
            if outcome.state is MessageState.SENT:
                if attempt.copy_skip is not None:
                    self._save_copy(s, message, "skipped", now, detail=attempt.copy_skip)
                else:
                    self.queue.enqueue(kind=SENT_COPY_JOB, payload={"message_id": message.id}, now=now,
                                       tenant_id=message.tenant_id, dedupe_key=message.id, session=s)
        code = outcome.reason or ""
        self.metrics.attempts.labels(state=outcome.state.value, code=code).inc()
        if outcome.state is MessageState.SENT:
            self.metrics.latency_seconds.observe(max(0.0, (now - attempt.queued_at).total_seconds()))
        if outcome.state is MessageState.DEFERRED and outcome.retry_at is not None:
            return Retry(run_at=outcome.retry_at, error=outcome.reason)
        return Done()

    # -- the ``sent_copy`` job ---------------------------------------------------------------

    async def handle_sent_copy(self, job: ClaimedJob) -> JobResult:
        message_id = str(job.payload.get("message_id", ""))
        plan = await asyncio.to_thread(self._plan_copy, message_id)
        if plan is None:
            return Done()
        try:
            config, password, token = await self._credentials_of(plan.tenant_id, plan.account_id)
        except NotFound:
            await asyncio.to_thread(self._copy_state, message_id, "skipped", detail="account removed")
            return Done()
        except RemoteError as exc:
            return await self._copy_failed(message_id, exc)
        if config.imap is None or (password is None and token is None):
            await asyncio.to_thread(self._copy_state, message_id, "skipped",
                                    detail="no IMAP credentials for this account")
            return Done()
        try:
            try:
                return await self._file_copy(message_id, plan, _Creds(config, password, token))
            except RemoteAuthError:
                if token is None:
                    raise
                # A refused access token: one fresh token, as for sending.
                fresh = await self._credentials_of(plan.tenant_id, plan.account_id, rejected_token=token)
                return await self._file_copy(message_id, plan, fresh)
        except MailportError as exc:
            return await self._copy_failed(message_id, exc)

    async def _file_copy(self, message_id: str, plan: _CopyPlan, creds: _Creds) -> JobResult:
        config, password, token = creds
        assert config.imap is not None
        async with ImapSession.open(config.imap, password=password, oauth_token=token,
                                    settings=self.settings, resolver=self.resolver,
                                    email=config.email) as imap:
            folder = await imap.find_special_use("\\Sent")
            if folder is None:
                await asyncio.to_thread(self._copy_state, message_id, "skipped",
                                        detail="the mailbox has no Sent folder")
                return Done()
            await imap.select(folder.name)
            if plan.started_before:
                found = await imap.uid_search_message_id(plan.header_message_id)
                if found:
                    await asyncio.to_thread(self._copy_state, message_id, "done", folder=folder.name,
                                            uid=found[0], detail="found after an interrupted attempt")
                    return Done()
            await asyncio.to_thread(self._copy_state, message_id, "started", folder=folder.name,
                                    count_attempt=True)
            uid = await imap.append(folder.name, plan.raw, flags=["\\Seen"], date=plan.sent_at)
            await asyncio.to_thread(self._copy_state, message_id, "done", folder=folder.name, uid=uid)
            return Done()

    async def _copy_failed(self, message_id: str, exc: MailportError) -> JobResult:
        attempts = await asyncio.to_thread(self._copy_error, message_id, f"[{exc.code}] {exc.message}")
        if attempts >= _SENT_COPY_MAX_ATTEMPTS:
            await asyncio.to_thread(self._copy_state, message_id, "failed",
                                    detail=f"[{exc.code}] {exc.message}")
            return Done()
        retry_at = self.clock.now() + _SENT_COPY_RETRY.delay(attempt=max(attempts, 1), rng=self.rng)
        return Retry(run_at=retry_at, error=exc.code)

    def _plan_copy(self, message_id: str) -> _CopyPlan | None:
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.find(message_id)
            if message is None or message.state != MessageState.SENT.value:
                return None
            copy = repo.sent_copy(message_id)
            if copy is not None and copy.state in ("done", "skipped", "failed"):
                return None
            account = s.get(Account, message.account_id)
            skip = "the account was removed" if account is None else _copy_skip_reason(account)
            if skip is not None:
                self._save_copy(s, message, "skipped", now, detail=skip)
                return None
            content = repo.content(message_id)
            return _CopyPlan(tenant_id=message.tenant_id, account_id=message.account_id,
                             header_message_id=message.header_message_id,
                             raw=content.sent_prefix + content.raw, sent_at=message.sent_at or now,
                             started_before=copy is not None and copy.state == "started")

    def _save_copy(self, s: Session, message: Message, state: str, now: datetime, *,
                   detail: str | None = None) -> None:
        OutboxRepository(s).save_sent_copy(SentCopy(
            message_id=message.id, tenant_id=message.tenant_id,
            header_message_id=message.header_message_id, state=state, attempts=0,
            detail=detail, updated_at=now))

    def _copy_state(self, message_id: str, state: str, *, folder: str | None = None,
                    uid: int | None = None, detail: str | None = None, count_attempt: bool = False) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            row = repo.sent_copy(message_id)
            if row is None:
                message = repo.find(message_id)
                if message is None:
                    return
                row = SentCopy(message_id=message_id, tenant_id=message.tenant_id,
                               header_message_id=message.header_message_id, state=state, attempts=0,
                               updated_at=now)
                s.add(row)
            row.state, row.updated_at = state, now
            if folder is not None:
                row.folder = folder
            if uid is not None:
                row.uid = uid
            if detail is not None:
                row.detail = detail
            if count_attempt:
                row.attempts = (row.attempts or 0) + 1

    def _copy_error(self, message_id: str, detail: str) -> int:
        with self.db.session() as s:
            row = OutboxRepository(s).sent_copy(message_id)
            if row is None:
                return 1
            row.detail, row.updated_at = detail, self.clock.now()
            return int(row.attempts or 1)


# ---------------------------------------------------------------------------------------------
# Helpers


def event_seq(attempts: int, step: Literal["between", "sending", "outcome"]) -> int:
    """A message's events in order without reading the previous one: ``queued`` is 0; after
    ``attempts`` attempts a limit deferral or cancel is ``3a+1``; attempt ``n`` is ``3n-1``
    (sending) and ``3n`` (its outcome)."""
    if step == "between":
        return 3 * attempts + 1
    return 3 * attempts - 1 if step == "sending" else 3 * attempts


def _copy_skip_reason(account: Account) -> str | None:
    """Why this account gets no Sent copy from us, or None when it does."""
    if account.imap is None:
        return "the account has no IMAP settings"
    hosts = [account.smtp.get("host", ""), account.imap.get("host", "")]
    if server_files_sent_copy(provider_id=account.provider_id, hosts=hosts):
        return "the server files sent mail itself"
    return None


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


def _smtp_code(value: int | None) -> int | None:
    return value if value is not None and 200 <= value <= 599 else None


def _for_all(recipients: Sequence[str], exc: RemoteError) -> list[RecipientResult]:
    code = exc.code if exc.code not in ("error", "remote.error", "unknown") else None
    smtp_code = _smtp_code(exc.smtp_code)
    text = exc.server_text or exc.message
    # The adapter keeps the reply code in front ("451 4.3.0 …"); the enhanced code is parsed
    # from the start of the text, so hand it the reply without it.
    if smtp_code is not None and text.startswith(f"{smtp_code} "):
        text = text[4:]
    return list(RecipientResult.for_all(recipients, smtp_code=smtp_code, text=text, diagnosis=code))


def _from_send_result(result: SendResult) -> list[RecipientResult]:
    results: list[RecipientResult] = []
    for r in result.recipients:
        if r.accepted:
            results.append(RecipientResult(recipient=r.address, smtp_code=_smtp_code(result.smtp_code),
                                           text=result.server_text))
        else:
            results.append(RecipientResult(recipient=r.address, smtp_code=_smtp_code(r.smtp_code),
                                           text=r.server_text, diagnosis=r.code))
    return results


def _failed(attempt: _Attempt, reason: str) -> Outcome:
    """A permanent local failure for the remaining recipients (``sent`` still, when earlier
    attempts delivered to some)."""
    outcomes = tuple(
        RecipientOutcome(recipient=r, status=RecipientStatus.FAILED, smtp_code=None,
                         enhanced_code=None, text="", diagnosis=reason)
        for r in attempt.recipients
    )
    if attempt.previously_accepted:
        return Outcome(MessageState.SENT, outcomes, None, None)
    return Outcome(MessageState.FAILED, outcomes, None, reason)
