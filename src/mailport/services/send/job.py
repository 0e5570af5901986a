"""The ``send`` job: one attempt to hand a stored message to its route.

::

    begin (one transaction)   limits of the account (concurrency, rate, daily cap)
                              -> wait quietly, defer visibly, or  state := sending, event
    transmit                  the sender's :class:`~.transport.Transport` (SMTP, platform, own
                              domain, provider API) -> one result per recipient
    finish (one transaction)  core.outbox.classify_send_outcome -> sent | deferred | failed,
                              per-recipient rows, event, Sent-copy job; the job retries at
                              ``retry_at`` when deferred

A worker that alone holds a mailbox's sends begins up to as many again ahead of its free SMTP
slots (:class:`_Gate`): a begin is a transaction — on PostgreSQL several round trips, on SQLite a
turn at the write lock that the API's accepts also wait for — and a slot freed by the server's
answer then starts its next transaction at once.

A worker killed between the server's 250 and the "finish" commit leaves the message in
``sending``; the job's lease runs out, another worker takes it over and sends again. That is the
one window for a duplicate, and it is bounded by the messages in flight at the crash — losing an
invoice would be worse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar, cast

from sqlalchemy.orm import Session

from mailport.adapters.group_commit import GroupCommit
from mailport.adapters.queue import ClaimedJob, JobQueue, settled_values
from mailport.adapters.secrets import Secret
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.outbox_repository import (
    Loaded,
    OutboxRepository,
    SendingContent,
    SendingMessage,
    SendingRecipient,
)
from mailport.adapters.storage.repositories import AccountRepository, SendingAccountRow
from mailport.adapters.storage.tables import Account
from mailport.adapters.storage.tables_outbox import (
    MessageContent,
    SentCopy,
)
from mailport.clock import Clock
from mailport.core.accountstate import decide
from mailport.core.events import (
    EventPayload,
    MessageDeferred,
    MessageFailed,
    MessageSending,
    payload_for_outcome,
)
from mailport.core.jobs import Done, Fail, JobResult, Retry, Settled
from mailport.core.leases import LeasePolicy
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
    classify_send_outcome,
    transition,
)
from mailport.core.servertext import readable
from mailport.core.suppression import refusal_as_bounce
from mailport.core.verification import AccountConfig
from mailport.errors import NotFound, RemoteError, StorageError, ValidationError
from mailport.services.accounts import AccountService
from mailport.services.domains import DomainNotSendable
from mailport.services.platform import is_platform_sender
from mailport.services.send.metrics import SendMetrics
from mailport.services.send.sequence import event_seq
from mailport.services.send.transport import (
    CredentialSource,
    FoundCredentials,
    Outgoing,
    Sender,
    SendingAccount,
    Transport,
    Transports,
    results_for_error,
)
from mailport.services.suppression import SuppressionService
from mailport.services.webhooks import EventLog
from mailport.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["SENT_COPY_JOB", "SendJob", "sending_account"]

SENT_COPY_JOB = "sent_copy"
# A claimed job waits this long in memory for one of its account's slots in this process before
# going back to the queue: waiting costs nothing (the heartbeat keeps its lease), while every
# bounce through the database costs a write — with hundreds in flight for a few busy mailboxes
# those writes were most of a worker's transactions.
_SLOT_WAIT = timedelta(seconds=20)
# A begin refused because the account's slots are held in another worker process waits here for
# one to free (a slot of this process freeing wakes it at once; another process's is looked for
# again after 20 ms, then 40, … up to half a second) instead of going back to the queue for a
# second or two: the sends of a busy mailbox keep their order and its slots stay busy.
_BUSY = "account.concurrency"
_BUSY_FIRST, _BUSY_LONGEST = 0.02, 0.5
# A job claimed a little before ``next_attempt_at`` (clock skew between workers) still runs.
_EARLY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class _Attempt:
    message_id: str
    tenant_id: str
    sender: Sender
    transport: Transport
    attempt: int
    queued_at: datetime
    previous_delay: timedelta | None
    outgoing: Outgoing
    previously_accepted: tuple[str, ...]
    metadata: dict[str, str]
    daily: RateLimit | None
    copy_skip: str | None  # why no Sent copy will be made, or None
    account_state: tuple[str, str | None] | None = None  # (status, attention code) at begin
    # The account's sends that other worker processes held in flight when this one began (all
    # of its other sends when the begin did not say which worker it is for): see ``_Gate``.
    others: int = 0

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.outgoing.rcpt_to


class _BeginItem(NamedTuple):
    """A send to begin: its message and account; and the worker whose job it is, when it may
    begin ahead of a free SMTP slot (:class:`_Gate`)."""

    message_id: str
    account_id: str
    worker: str | None = None


class _Gate:
    """This process's SMTP transactions of one mailbox, at most its limit less what other worker
    processes held in flight at this process's latest begin of it.

    A send may begin (committed ``sending``) ahead of a free SMTP slot, while another send of
    the mailbox still talks to its server, so that a slot freed by the server's answer starts the
    next transaction at once instead of waiting for a begin's transaction (bench/bench_send.py,
    session 8: the begin was two thirds of a slot's turn on PostgreSQL; session 11: on SQLite the
    slots waited for the write lock behind the API's accepts). Such a begin is
    allowed only while no other worker holds the mailbox's sends (``SendJob._begin_in``), and
    every begin anywhere counts the sends begun here, waiting or not. So whichever process began
    last saw every other process's waiting and talking sends, and keeps its own talking ones
    within the limit less those; the others, beginning nothing since, talk at most as many as
    they had begun: the mailbox's limit holds across processes."""

    def __init__(self, limit: int) -> None:
        self.limit, self.others, self.talking = limit, 0, 0
        self._changed = asyncio.Event()

    def saw(self, others: int) -> None:
        self.others = others
        self._changed.set()

    async def enter(self) -> None:
        while self.talking >= self.limit - self.others:
            self._changed.clear()
            await self._changed.wait()
        self.talking += 1

    def leave(self) -> None:
        self.talking -= 1
        self._changed.set()


@dataclass(frozen=True, slots=True)
class _Ready:
    """A message that may be sent now, before its batch's UPDATE moves it to ``sending``."""

    message: SendingMessage
    state: MessageState
    sender: Sender
    transport: Transport
    limits: SendLimits | None  # the account's, when its route has them
    account_state: tuple[str, str | None] | None


@dataclass(slots=True)
class _Counted:
    """An account's limit counts within one batch of begins (one transaction)."""

    in_flight: int
    rate: int
    day: int
    others: int  # of ``in_flight``, those of other workers (all of them if the worker is unknown)


class _Creds(NamedTuple):
    config: AccountConfig
    password: Secret | None
    token: str | None  # an OAuth access token (XOAUTH2) instead of a password


def sending_account(account: Account | SendingAccountRow) -> SendingAccount:
    return SendingAccount(
        id=account.id, email=account.email, provider_id=account.provider_id,
        auth_kind=account.auth_kind, smtp_host=str(account.smtp.get("host", "")),
        imap_host=None if account.imap is None else str(account.imap.get("host", "")),
        version=account.updated_at, transport=account.transport,
    )


class _BoundCredentials:
    """The account's secret for one attempt (see :class:`~.transport.AccountCredentials`)."""

    def __init__(self, job: SendJob, tenant_id: str, account: SendingAccount) -> None:
        self._job, self._tenant_id, self._account = job, tenant_id, account

    async def __call__(self, *, rejected_token: str | None = None) -> FoundCredentials:
        return await self._job.credentials_for(self._tenant_id, self._account,
                                               rejected_token=rejected_token)


_BEGIN, _FINISH = "begin", "finish"
In = TypeVar("In")
Out = TypeVar("Out")


class _Writes(Generic[In, Out]):
    """The begins (or the finishes) of the group commit they share, tagged with their kind."""

    def __init__(self, group: GroupCommit[tuple[str, Any], Any], kind: str) -> None:
        self._group, self._kind = group, kind

    async def submit(self, key: str, items: Sequence[In]) -> list[Out]:
        return cast(list[Out], await self._group.submit(key, [(self._kind, item) for item in items]))

    async def submit_riding_out(self, key: str, items: Sequence[In]) -> list[Out]:
        return cast(list[Out], await self._group.submit_riding_out(key, [(self._kind, item) for item in items]))


class SendJob:
    """Runs ``send`` jobs: limits, the route's transport, the recorded outcome."""

    def __init__(
        self, *, db: Database, queue: JobQueue, accounts: AccountService, events: EventLog,
        clock: Clock, settings: Settings, transports: Transports,
        metrics: SendMetrics | None = None, rng: Callable[[], float] | None = None,
        credentials: CredentialSource | None = None, suppression: SuppressionService | None = None,
    ) -> None:
        self.db = db
        self.suppression = suppression
        self.queue = queue
        self.accounts = accounts
        self.events = events
        self.clock = clock
        self.settings = settings
        self.transports = transports
        self.metrics = metrics or SendMetrics()
        self.rng = rng or random.Random().random
        self.credentials = credentials
        self.policy = RetryPolicy(
            min_delay=timedelta(seconds=settings.send_retry_min_delay),
            max_delay=timedelta(seconds=max(settings.send_retry_max_delay, settings.send_retry_min_delay)),
            give_up_after=timedelta(seconds=settings.send_give_up_after),
        )
        self.leases = LeasePolicy.for_lease(settings.worker_lease)
        self._connections: dict[str, tuple[datetime, _Creds]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._gates: dict[str, _Gate] = {}
        # Sends of a mailbox that may be begun ahead of a free SMTP slot (``_Gate``). On SQLite
        # too: there a begin waits for the write lock behind the API's accepts, and the
        # mailbox's slots idled meanwhile (bench/bench_send.py, session 11).
        self._ahead = settings.send_account_concurrency
        self._slots_loop: asyncio.AbstractEventLoop | None = None
        self._freed: dict[str, asyncio.Event] = {}  # account -> set when one of its slots here frees
        self._transmitted: dict[str, str] = {}  # message id -> account: answered, outcome not written yet
        # The sends that start together are begun in one transaction; those that end together
        # are recorded in one (group commit).
        # One group commit for both (:meth:`_write_many`).
        writes: GroupCommit[tuple[str, Any], Any] = GroupCommit(self._write_many, shared_errors=(StorageError,))
        self._begins: _Writes[_BeginItem, _Attempt | JobResult] = _Writes(writes, _BEGIN)
        self._finishes: _Writes[tuple[_Attempt, Outcome, ClaimedJob | None], JobResult] = _Writes(writes, _FINISH)

    async def handle_send(self, job: ClaimedJob) -> JobResult:
        message_id = str(job.payload.get("message_id", ""))
        if is_platform_sender(str(job.payload.get("account_id", ""))):
            # the platform's relay is not a mailbox with slots
            return await self._send(message_id, str(job.payload.get("account_id", "")), job)
        account_id = str(job.payload.get("account_id", ""))
        slot = self._slot(account_id)
        gate = self._gates[account_id]
        try:
            # This process's share of the account's concurrency (and of the sends begun ahead of
            # an SMTP slot): wait briefly for a free slot rather than bouncing the job through
            # the database (the check in ``_begin`` still covers other worker processes).
            await asyncio.wait_for(slot.acquire(), _SLOT_WAIT.total_seconds())
        except TimeoutError:
            return Retry(run_at=self.clock.now() + timedelta(seconds=2) * (1 + self.rng()), error=_BUSY)
        released = talking = False

        async def talk(attempt: _Attempt) -> None:  # begun: wait for an SMTP slot
            nonlocal talking
            gate.saw(attempt.others)
            await gate.enter()
            talking = True

        def release() -> None:  # once: when the server answered, or when the job ends
            nonlocal released
            if not released:
                released = True
                if talking:
                    gate.leave()
                slot.release()
                freed = self._freed.pop(account_id, None)
                if freed is not None:
                    freed.set()

        # Begun ahead of a free SMTP slot only where the begin knows whose sends are whose: a
        # claimed job (a send run without a worker's claim begins within the limit alone).
        worker = job.locked_by
        try:
            return await self._send(message_id, account_id, job, transmitted=release,
                                    talk=None if worker is None else talk, worker=worker)
        finally:
            release()

    def _slot(self, account_id: str) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots_loop is not loop:  # semaphores belong to one event loop
            self._slots, self._gates, self._freed, self._slots_loop = {}, {}, {}, loop
        slot = self._slots.get(account_id)
        if slot is None:
            limit = self.settings.send_account_concurrency
            slot = self._slots[account_id] = asyncio.Semaphore(limit + self._ahead)
            self._gates[account_id] = _Gate(limit)
        return slot


    async def _send(self, message_id: str, account_id: str = "", job: ClaimedJob | None = None, *,
                    transmitted: Callable[[], None] | None = None,
                    talk: Callable[[_Attempt], Awaitable[None]] | None = None,
                    worker: str | None = None) -> JobResult:
        begun = await self._begin(_BeginItem(message_id, account_id, worker), wait=transmitted is not None)
        if not isinstance(begun, _Attempt):
            return begun
        attempt = begun
        if talk is not None:
            await talk(attempt)
        started = time.perf_counter()
        box = attempt.sender.mailbox
        creds = None if box is None else _BoundCredentials(self, attempt.tenant_id, box)
        try:
            try:
                results = await attempt.transport.send(attempt.outgoing, sender=attempt.sender,
                                                       credentials=creds)
            except RemoteError as exc:  # e.g. auth.token_invalid: retried until reconnected
                results = results_for_error(attempt.recipients, exc)
        except DomainNotSendable as exc:
            outcome = _failed(attempt, exc.code)  # the domain was suspended after accepting
        except NotFound:
            outcome = _failed(attempt, "account.not_found")
        except ValidationError as exc:
            # The route cannot carry this message (size, SMTPUTF8, 8BITMIME): permanent.
            outcome = _failed(attempt, exc.code)
        else:
            outcome = self._classify(attempt, results)
        finally:
            self.metrics.attempt_seconds.observe(time.perf_counter() - started)
        # The mailbox's slot is free once the server has answered: the next send of this account
        # begins while this outcome is written. Until it is, the message is still ``sending`` in
        # the database, so the begins of this process leave it out of the account's in-flight
        # count and add it to the sent counts (:meth:`_limit_counts`).
        self._transmitted[attempt.message_id] = attempt.sender.key
        if transmitted is not None:
            transmitted()
        try:
            # The server has the message now: its outcome waits out a database outage in memory
            # (this job's lease is renewed meanwhile) rather than be lost and the mail sent again.
            [result] = await self._finishes.submit_riding_out("", [(attempt, outcome, job)])
        finally:
            self._transmitted.pop(attempt.message_id, None)
        if box is not None:
            await self._learn(attempt, box.id, outcome)
        return result

    async def _begin(self, item: _BeginItem, *, wait: bool) -> _Attempt | JobResult:
        """Begin the send (group-committed with the others starting now). With ``wait`` (the
        caller holds one of this process's slots of the account), a refusal because another
        process holds the account's slots is waited out here, up to ``_SLOT_WAIT``."""
        deadline = time.monotonic() + _SLOT_WAIT.total_seconds()
        pause = _BUSY_FIRST
        while True:
            [begun] = await self._begins.submit("", [item])
            if not (wait and isinstance(begun, Retry) and begun.error == _BUSY) or time.monotonic() + pause > deadline:
                return begun
            freed = self._freed.setdefault(item.account_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(freed.wait(), pause * (0.5 + self.rng()))
            pause = min(pause * 2, _BUSY_LONGEST)

    async def _learn(self, attempt: _Attempt, account_id: str, outcome: Outcome) -> None:
        """What this send learnt about the mailbox (its one state: see core.accountstate).
        Best effort: the message's outcome is recorded already, and the next send tells again."""
        ok = outcome.state is MessageState.SENT
        if attempt.account_state is not None:
            # The state read at begin decides the common case (another good send) without a
            # trip to the database; anything that may change it is settled there.
            status, attention = attempt.account_state
            change = decide(status, ok=ok, code=outcome.reason, source="send")
            if change is None or (change.status == status and not change.new_episode
                                  and attention == change.attention_code):
                return
        text = next((o.text for o in outcome.recipients if o.diagnosis == outcome.reason), None)
        try:
            await asyncio.to_thread(self.accounts.record_outcome, attempt.tenant_id, account_id,
                                    source="send", ok=outcome.state is MessageState.SENT,
                                    code=outcome.reason, server_text=text)
        except StorageError as exc:
            log.warning("could not record the state of mailbox %s: %s", account_id, exc.code)

    async def credentials_for(self, tenant_id: str, account: SendingAccount, *,
                              rejected_token: str | None = None) -> FoundCredentials:
        """The account's settings and secret. A password is decrypted once per account version
        (a batch for one mailbox does not pay a database read and an AES decryption per
        message); an OAuth access token comes from the token source each time, which refreshes
        it before it expires — or at once when a server just refused ``rejected_token``."""
        cached = self._connections.get(account.id)
        if cached is not None and cached[0] == account.version and rejected_token is None:
            return cached[1]
        if self.credentials is not None:
            found = await self.credentials(tenant_id, account.id, rejected_token=rejected_token)
            creds = _Creds(found.config, found.password, found.token)
        else:
            config, password = await asyncio.to_thread(self.accounts.connection, tenant_id, account.id)
            creds = _Creds(config, password, None)
        if creds.token is None:
            self._connections[account.id] = (account.version, creds)
        return creds

    def _limits(self, account: SendingAccountRow) -> SendLimits:
        rate = None
        if self.settings.send_account_rate_per_minute:
            rate = RateLimit(limit=self.settings.send_account_rate_per_minute, period=timedelta(minutes=1))
        daily = DailyCap(limit=account.daily_limit) if account.daily_limit else None
        # Another process holds the account's slots (this one's are counted by ``_slot``): look
        # again soon; the message stays queued and nobody is told.
        return SendLimits(max_concurrent=self.settings.send_account_concurrency, rate=rate, daily=daily,
                          concurrency_backoff=timedelta(seconds=1))

    def _begin_many(self, _key: str, items: Sequence[_BeginItem]) -> list[_Attempt | JobResult]:
        """``_begin`` of each (message id, account id), in one transaction of a few statements
        per batch: the loads of messages, contents, recipients and accounts; the accounts'
        limit counts (locked in id order, so two workers beginning overlapping batches on
        PostgreSQL cannot deadlock); one ``UPDATE … RETURNING`` that moves the batch to
        ``sending``; one INSERT of its events."""
        now = self.clock.now()
        with self.db.session() as s:
            return self._begin_in(s, items, now)

    def _begin_in(self, s: Session, items: Sequence[_BeginItem], now: datetime) -> list[_Attempt | JobResult]:
        results: list[_Attempt | JobResult | None] = [None] * len(items)
        repo = OutboxRepository(s)
        # PostgreSQL: the batch's accounts locked and everything read in one statement, and the
        # move to ``sending`` with its events in one more (the limit counts between them).
        one_statement = repo.finishes_in_one_statement
        locked: list[str] = []
        if one_statement:
            locked = sorted({i.account_id for i in items if i.account_id and not is_platform_sender(i.account_id)})
            loaded, accounts = repo.load_locked_for_sending([i.message_id for i in items], locked)
        else:
            loaded = repo.load_for_sending([i.message_id for i in items])
            accounts = AccountRepository(s).load_for_sending(
                [m.message.account_id for m in loaded.values() if not is_platform_sender(m.message.account_id)])
        order = sorted(range(len(items)), key=lambda i: (items[i].account_id, items[i].message_id))
        routed: dict[int, _Ready] = {}
        for i in order:
            found = loaded.get(items[i].message_id)
            planned = self._route(s, None if found is None else found.message, now, accounts)
            if isinstance(planned, _Ready):
                routed[i] = planned
            else:
                results[i] = planned
        worker = next((i.worker for i in items if i.worker is not None), "")
        counted = self._limit_counts(repo, routed.values(), [i.message_id for i in items], now, locked=locked,
                                     worker=worker)
        ready: dict[int, _Ready] = {}
        for i, r in routed.items():
            if r.limits is not None:
                known = counted[r.message.account_id]
                limits = r.limits
                if (items[i].worker is not None and known.others == 0 and limits.max_concurrent is not None
                        and limits.rate is None and limits.daily is None):
                    # No other worker holds the mailbox's sends: this one may begin ahead of
                    # its free SMTP slots, which ``_Gate`` keeps within the limit. (A rate or a
                    # daily cap counts sends as they begin: no sends ahead for those.)
                    limits = replace(limits, max_concurrent=limits.max_concurrent + self._ahead)
                decision = limits.check(in_flight=known.in_flight, now=now, sent_in_rate_window=known.rate,
                                        sent_in_day=known.day)
                if not decision.allowed:
                    retry_at = decision.retry_at or now + timedelta(seconds=5)
                    if decision.visible:
                        self._defer_for_limit(s, r.message, r.state, retry_at, decision.reason, now)
                    results[i] = Retry(run_at=retry_at, error=decision.reason)
                    continue
                known.in_flight += 1  # this one is sending now, for the next in the batch
            ready[i] = r
        others = {a: c.others for a, c in counted.items()}
        if one_statement:
            return self._begin_ready(s, repo, ready, loaded, results, now, others)
        by_state: dict[str, list[str]] = {}
        for r in ready.values():
            by_state.setdefault(r.state.value, []).append(r.message.id)
        started = repo.begin_sending(by_state, now=now) if by_state else {}
        events: list[tuple[str, str | None, EventPayload, int]] = []
        for i, r in ready.items():
            attempt_no = started.get(r.message.id)
            if attempt_no is None:
                results[i] = Retry(run_at=now)  # changed since it was read (cancelled?): look again
                continue
            message = r.message
            events.append(_sending_event(message, attempt_no))
            content = loaded[message.id].content or repo.content(message.id)  # NotFound: no bytes
            results[i] = self._attempt(r, attempt_no, content, loaded[message.id].recipients,
                                       others.get(message.account_id, 0))
        self.events.record_each(s, now=now, entries=events)
        return [r for r in results if r is not None]

    def _begin_ready(self, s: Session, repo: OutboxRepository, ready: dict[int, _Ready], loaded: dict[str, Loaded],
                     results: list[_Attempt | JobResult | None], now: datetime,
                     others: dict[str, int]) -> list[_Attempt | JobResult]:
        """The end of :meth:`_begin_in` in one statement (:meth:`OutboxRepository.begin_all`):
        each message moves to ``sending`` with its next attempt only while still in the state and
        attempt it was read in, so the events are written with it."""
        entries: list[tuple[str, str | None, EventPayload, int]] = []
        for r in ready.values():
            entries.append(_sending_event(r.message, r.message.attempts + 1))
        events = self.events.event_rows(now=now, entries=entries)
        started = repo.begin_all([(r.message.id, r.state.value, r.message.attempts) for r in ready.values()],
                                 now=now, events=events) if ready else set()
        self.events.fan_out(s, [e for e in events if e["message_id"] in started], now=now)
        for i, r in ready.items():
            message = r.message
            if message.id not in started:
                results[i] = Retry(run_at=now)  # changed since it was read (cancelled?): look again
                continue
            content = loaded[message.id].content or repo.content(message.id)  # NotFound: no bytes
            results[i] = self._attempt(r, message.attempts + 1, content, loaded[message.id].recipients,
                                       others.get(message.account_id, 0))
        return [r for r in results if r is not None]

    def _route(self, s: Session, message: SendingMessage | None, now: datetime,
               accounts: dict[str, SendingAccountRow]) -> _Ready | JobResult:
        """Whether the message may go now as far as its state, account and route tell: a
        :class:`_Ready` (its account's limits still to check), or the job's result when not."""
        if message is None:
            return Fail(error="the message no longer exists")
        state = MessageState(message.state)
        if state in TERMINAL_STATES or state is MessageState.SENT:
            return Done()  # cancelled meanwhile, or finished by a worker that then died
        if message.next_attempt_at is not None and message.next_attempt_at > now + _EARLY:
            return Retry(run_at=message.next_attempt_at)
        account = accounts.get(message.account_id)
        if account is not None and account.tenant_id != message.tenant_id:
            account = None
        if account is None and not is_platform_sender(message.account_id):
            self._fail_unsendable(s, message, state, "account.not_found", now)
            return Done()
        sender = Sender(tenant_id=message.tenant_id, key=message.account_id,
                        mailbox=None if account is None else sending_account(account))
        try:
            transport = self.transports.for_sender(sender)
        except ValidationError as exc:
            self._fail_unsendable(s, message, state, exc.code, now)
            return Done()
        if state is not MessageState.SENDING:  # SENDING: taking over a dead worker's message
            transition(state, MessageState.SENDING)
        limits = self._limits(account) if account is not None and transport.mailbox_limits else None
        return _Ready(message=message, state=state, sender=sender, transport=transport, limits=limits,
                      account_state=None if account is None else (
                          account.status, (account.attention or {}).get("code")))

    def _limit_counts(self, repo: OutboxRepository, routed: Iterable[_Ready], batch: Sequence[str],
                      now: datetime, *, locked: Sequence[str] = (), worker: str = "") -> dict[str, _Counted]:
        """The limit counts of the batch's accounts: what they have in flight elsewhere (the
        batch's own messages not counted — a takeover must not count itself — each adds one as
        it begins) and what they sent in their rate and day windows. One statement per count
        for the whole batch; the accounts stay locked to the end of its transaction."""
        windows: dict[str, dict[datetime, list[str]]] = {"rate": {}, "day": {}}
        for r in routed:
            if r.limits is None:
                continue
            account_id = r.message.account_id
            if r.limits.rate is not None:
                windows["rate"].setdefault(r.limits.rate.window_start(now), []).append(account_id)
            if r.limits.daily is not None:
                windows["day"].setdefault(r.limits.daily.window_start(now), []).append(account_id)
        accounts = sorted({r.message.account_id for r in routed if r.limits is not None})
        if not accounts:
            return {}
        transmitted = dict(self._transmitted)  # a copy: the event loop's thread changes it
        answered: dict[str, int] = {}
        for account_id in transmitted.values():
            answered[account_id] = answered.get(account_id, 0) + 1
        repo.lock_accounts([a for a in accounts if a not in locked])  # ``locked``: taken with the reads
        in_flight = repo.in_flight_many(account_ids=accounts, now=now, exclude=[*batch, *transmitted],
                                        live_since=self.leases.live_since(now), worker=worker)
        sent: dict[str, dict[str, int]] = {"rate": {}, "day": {}}
        for kind, starts in windows.items():
            for since, ids in starts.items():
                sent[kind].update(repo.sent_since_many(account_ids=sorted(set(ids)), since=since,
                                                       exclude=list(transmitted)))
        # A message answered but not recorded yet counts as sent once, whether or not its outcome
        # committed since the copy was taken.
        counted: dict[str, _Counted] = {}
        for a in accounts:
            running, others = in_flight.get(a, (0, 0))
            counted[a] = _Counted(in_flight=running, rate=sent["rate"].get(a, 0) + answered.get(a, 0),
                                  day=sent["day"].get(a, 0) + answered.get(a, 0), others=others)
        return counted

    @staticmethod
    def _attempt(r: _Ready, attempt_no: int, content: SendingContent | MessageContent,
                 rows: Sequence[SendingRecipient], others: int) -> _Attempt:
        message = r.message
        return _Attempt(
            message_id=message.id, tenant_id=message.tenant_id, sender=r.sender, transport=r.transport,
            attempt=attempt_no, queued_at=max(message.created_at, message.send_at or message.created_at),
            previous_delay=(timedelta(seconds=message.last_delay_seconds)
                            if message.last_delay_seconds else None),
            outgoing=Outgoing(
                message_id=message.id, header_message_id=message.header_message_id,
                mail_from=str(content.envelope["mail_from"]),
                rcpt_to=tuple(r.address for r in rows if r.status in ("pending", "deferred")),
                raw=content.raw, attempt=attempt_no),
            previously_accepted=tuple(r.address for r in rows if r.status == "accepted"),
            metadata=dict(message.meta), daily=None if r.limits is None else r.limits.daily,
            copy_skip=r.transport.sent_copy_skip(r.sender),
            account_state=r.account_state, others=others,
        )

    def _defer_for_limit(self, s: Session, message: SendingMessage, state: MessageState, retry_at: datetime,
                         reason: str | None, now: datetime) -> None:
        repo = OutboxRepository(s)
        values: dict[str, Any] = {"next_attempt_at": retry_at, "updated_at": now}
        if state is not MessageState.DEFERRED or message.reason != reason:
            if state is not MessageState.DEFERRED:
                transition(state, MessageState.DEFERRED)
            values.update(state=MessageState.DEFERRED.value, reason=reason)
            self.events.record(s, tenant_id=message.tenant_id, message_id=message.id, now=now,
                               seq=event_seq(message.attempts, "between"),
                               payload=MessageDeferred(message_id=message.id, account_id=message.account_id,
                                                       metadata=dict(message.meta), attempt=message.attempts,
                                                       retry_at=retry_at, reason=reason))
        repo.update(message.id, expected_states=[state.value], values=values)

    def _fail_unsendable(self, s: Session, message: SendingMessage, state: MessageState, reason: str,
                         now: datetime) -> None:
        transition(state, MessageState.FAILED)
        OutboxRepository(s).update(message.id, expected_states=[state.value],
                                   values={"state": MessageState.FAILED.value, "reason": reason,
                                           "next_attempt_at": None, "updated_at": now})
        self.events.record(s, tenant_id=message.tenant_id, message_id=message.id, now=now,
                           seq=event_seq(message.attempts, "between"),
                           payload=MessageFailed(message_id=message.id, account_id=message.account_id,
                                                 metadata=dict(message.meta), attempt=message.attempts,
                                                 reason=reason))

    def _classify(self, attempt: _Attempt, results: list[RecipientResult]) -> Outcome:
        return classify_send_outcome(
            results, attempt=attempt.attempt, queued_at=attempt.queued_at, now=self.clock.now(),
            policy=self.policy, rng=self.rng, previous_delay=attempt.previous_delay,
            previously_accepted=attempt.previously_accepted, cap=attempt.daily,
        )

    def _finish_many(self, _key: str,
                     items: Sequence[tuple[_Attempt, Outcome, ClaimedJob | None]]) -> list[JobResult]:
        """Record the outcomes of attempts that ended together, and end their jobs, in one
        transaction of a few statements per batch. Everything written is known from the
        attempts: the messages are not read again; the guard of ``finish_sending`` (``finish_all``) is the
        check that each is still ours to finish. A job's end commits with its message's outcome,
        so a crash after that commit leaves nothing to redo (:class:`Settled`)."""
        now = self.clock.now()
        with self.db.session() as s:
            results, recorded = self._finish_and_settle(s, items, now)
        self._count_recorded(items, recorded, now)
        return results

    def _finish_and_settle(self, s: Session, items: Sequence[tuple[_Attempt, Outcome, ClaimedJob | None]],
                           now: datetime) -> tuple[list[JobResult], set[str]]:
        repo = OutboxRepository(s)
        if repo.finishes_in_one_statement:
            return self._finish_in_one(s, repo, items, now)
        results: list[JobResult] = []
        recorded = self._finish_in(s, [(attempt, outcome) for attempt, outcome, _ in items], now)
        ends: dict[str, list[tuple[int, JobResult]]] = {}
        for attempt, outcome, job in items:
            result = _result_of(outcome, now) if attempt.message_id in recorded else Done()
            if job is not None and job.locked_by is not None:
                ends.setdefault(job.locked_by, []).append((job.id, result))
                results.append(Settled(result))
            else:
                results.append(result)
        for worker_id, rows in ends.items():
            self.queue.settle_many(rows, worker_id=worker_id, now=now, session=s)
        return results, recorded

    def _finish_in_one(self, s: Session, repo: OutboxRepository,
                       items: Sequence[tuple[_Attempt, Outcome, ClaimedJob | None]],
                       now: datetime) -> tuple[list[JobResult], set[str]]:
        """:meth:`_finish_in` and the jobs' ends of :meth:`_finish_and_settle` where the database
        takes them as one statement (PostgreSQL: :meth:`OutboxRepository.finish_all`): every row
        is built for every attempt, and the statement keeps those of the messages it found still
        ``sending``. What only some sends need — webhook deliveries, suppressions, Sent-copy
        jobs — follows for the recorded ones."""
        rows: list[dict[str, Any]] = []
        recipients: list[dict[str, Any]] = []
        entries: list[tuple[str, str | None, EventPayload, int]] = []
        copies: list[dict[str, Any]] = []
        job_ends: list[dict[str, Any]] = []
        for attempt, outcome, job in items:
            rows.append(_outcome_row(attempt, outcome, now))
            recipients += _recipient_rows(attempt, outcome, now)
            entries.append(_outcome_event(attempt, outcome))
            if outcome.state is MessageState.SENT and attempt.copy_skip is not None:
                copies.append(_skipped_copy_row(attempt, now))
            if job is not None and job.locked_by is not None:
                state, run_at, error = settled_values(_result_of(outcome, now))
                job_ends.append({"id": job.id, "worker": job.locked_by, "message_id": attempt.message_id,
                                 "state": state, "last_error": error, "run_at": run_at, "updated_at": now})
        events = self.events.event_rows(now=now, entries=entries)
        recorded = repo.finish_all(rows, recipients=recipients, events=events, copies=copies, job_ends=job_ends)
        results: list[JobResult] = []
        copy_jobs: list[dict[str, Any]] = []
        for attempt, outcome, job in items:
            if attempt.message_id not in recorded:
                log.warning("message %s changed state while being sent; not recording attempt %d",
                            attempt.message_id, attempt.attempt)
                result: Done | Retry = Done()
            else:
                result = _result_of(outcome, now)
                self._record_refusals(s, attempt, outcome, now)
                if outcome.state is MessageState.SENT and attempt.copy_skip is None:
                    copy_jobs.append(_copy_job(attempt))
            results.append(Settled(result) if job is not None and job.locked_by is not None else result)
        self.events.fan_out(s, [e for e in events if e["message_id"] in recorded], now=now)
        self.queue.enqueue_deduped(s, copy_jobs, now=now)
        return results, recorded

    def _count_recorded(self, items: Sequence[tuple[_Attempt, Outcome, ClaimedJob | None]], recorded: set[str],
                        now: datetime) -> None:
        for attempt, outcome, _ in items:
            if attempt.message_id in recorded:
                self._count(attempt, outcome, now)

    def _write_many(self, key: str, items: Sequence[tuple[str, Any]]) -> list[Any]:
        """The begins and finishes waiting at one moment, in one transaction: a mailbox's slot
        frees when its server answers, so the next send's begin waits beside that send's finish
        — two transactions per slot turn were most of a worker's commits (bench/bench_send.py).
        The finishes go first; the begins' limit counts see them (:meth:`_limit_counts`)."""
        begins = [item for kind, item in items if kind == _BEGIN]
        finishes = [item for kind, item in items if kind != _BEGIN]
        if not finishes:
            return list(self._begin_many(key, begins))
        if not begins:
            return list(self._finish_many(key, finishes))
        now = self.clock.now()
        with self.db.session() as s:
            finished, recorded = self._finish_and_settle(s, finishes, now)
            begun = self._begin_in(s, begins, now)
        self._count_recorded(finishes, recorded, now)
        of_begins, of_finishes = iter(begun), iter(finished)
        return [next(of_begins) if kind == _BEGIN else next(of_finishes) for kind, _ in items]

    def _finish_in(self, s: Session, items: Sequence[tuple[_Attempt, Outcome]], now: datetime) -> set[str]:
        repo = OutboxRepository(s)
        recorded = repo.finish_sending([_outcome_row(attempt, outcome, now) for attempt, outcome in items])
        recipients: list[dict[str, Any]] = []
        events: list[tuple[str, str | None, EventPayload, int]] = []
        copies: list[dict[str, Any]] = []
        copy_jobs: list[dict[str, Any]] = []
        for attempt, outcome in items:
            if attempt.message_id not in recorded:
                # Gone, or another worker took the message over (our lease ran out mid-send):
                # its result wins.
                log.warning("message %s changed state while being sent; not recording attempt %d",
                            attempt.message_id, attempt.attempt)
                continue
            recipients += _recipient_rows(attempt, outcome, now)
            events.append(_outcome_event(attempt, outcome))
            self._record_refusals(s, attempt, outcome, now)
            if outcome.state is not MessageState.SENT:
                continue
            if attempt.copy_skip is not None:
                copies.append(_skipped_copy_row(attempt, now))
            else:
                copy_jobs.append(_copy_job(attempt))
        repo.update_recipients_many(recipients)
        self.events.record_each(s, now=now, entries=events)
        repo.save_sent_copies(copies)
        self.queue.enqueue_deduped(s, copy_jobs, now=now)
        return recorded

    def _count(self, attempt: _Attempt, outcome: Outcome, now: datetime) -> None:
        self.metrics.attempts.labels(state=outcome.state.value, code=outcome.reason or "").inc()
        if outcome.state is MessageState.SENT:
            self.metrics.latency_seconds.observe(max(0.0, (now - attempt.queued_at).total_seconds()))

    def _record_refusals(self, s: Session, attempt: _Attempt, outcome: Outcome, now: datetime) -> None:
        """A recipient the server refused for good counts as a bounce for the suppression list
        (in the transaction that records the refusal, so both happen or neither)."""
        if self.suppression is None:
            return
        for o in outcome.recipients:
            if o.status is not RecipientStatus.FAILED:
                continue
            bounced = refusal_as_bounce(recipient=o.recipient, smtp_code=o.smtp_code,
                                        enhanced_code=o.enhanced_code, text=o.text, diagnosis=o.diagnosis)
            if bounced is not None:
                self.suppression.record_bounce(s, tenant_id=attempt.tenant_id, recipient=bounced,
                                               message_id=attempt.message_id, now=now)


# The rows a batch of begins and finishes writes: one builder each, for both ways of writing them
# (SQLite's statements per table, PostgreSQL's one statement per batch).


def _sending_event(message: SendingMessage, attempt_no: int) -> tuple[str, str | None, EventPayload, int]:
    return (message.tenant_id, message.id, MessageSending(
        message_id=message.id, account_id=message.account_id, metadata=dict(message.meta),
        attempt=attempt_no), event_seq(attempt_no, "sending"))


def _outcome_row(attempt: _Attempt, outcome: Outcome, now: datetime) -> dict[str, Any]:
    transition(MessageState.SENDING, outcome.state)
    return {
        "b_id": attempt.message_id, "b_state": outcome.state.value, "b_reason": outcome.reason,
        "b_now": now, "b_next": outcome.retry_at,
        "b_delay": outcome.delay.total_seconds() if outcome.delay else None,
        "b_sent_at": now if outcome.state is MessageState.SENT else None,
    }


def _recipient_rows(attempt: _Attempt, outcome: Outcome, now: datetime) -> list[dict[str, Any]]:
    return [{
        "message_id": attempt.message_id, "address": o.recipient, "status": o.status.value,
        "smtp_code": o.smtp_code, "enhanced_code": o.enhanced_code, "text": readable(o.text)[:2000],
        "diagnosis": o.diagnosis, "updated_at": now,
    } for o in outcome.recipients]


def _outcome_event(attempt: _Attempt, outcome: Outcome) -> tuple[str, str | None, EventPayload, int]:
    return (attempt.tenant_id, attempt.message_id, payload_for_outcome(
        outcome, message_id=attempt.message_id, account_id=attempt.sender.key, attempt=attempt.attempt,
        metadata=attempt.metadata, header_message_id=attempt.outgoing.header_message_id),
        event_seq(attempt.attempt, "outcome"))


def _skipped_copy_row(attempt: _Attempt, now: datetime) -> dict[str, Any]:
    return {"message_id": attempt.message_id, "tenant_id": attempt.tenant_id,
            "header_message_id": attempt.outgoing.header_message_id, "state": "skipped",
            "folder": None, "uid": None, "attempts": 0, "detail": attempt.copy_skip, "updated_at": now}


def _copy_job(attempt: _Attempt) -> dict[str, Any]:
    return {"kind": SENT_COPY_JOB, "payload": {"message_id": attempt.message_id},
            "tenant_id": attempt.tenant_id, "dedupe_key": attempt.message_id}


# -- the ``sent_copy`` job -------------------------------------------------------------------


def save_copy_state(s: Session, *, message_id: str, tenant_id: str, header_message_id: str, state: str,
                    now: datetime, detail: str | None = None) -> None:
    """Record the message's Sent-copy state (``skipped`` when no copy will be made)."""
    OutboxRepository(s).save_sent_copy(SentCopy(
        message_id=message_id, tenant_id=tenant_id, header_message_id=header_message_id, state=state,
        attempts=0, detail=detail, updated_at=now))


def _result_of(outcome: Outcome, now: datetime) -> Done | Retry:
    if outcome.state is MessageState.DEFERRED and outcome.retry_at is not None:
        return Retry(run_at=max(outcome.retry_at, now), error=outcome.reason)
    return Done()


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
