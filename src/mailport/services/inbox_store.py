"""Writing synced mail into the store: message batches, bounce links, per-account sync state.

Shared by every :class:`~mailport.services.mailbox_sync.MailboxSync` implementation, so a message
synced over IMAP or over a mail API is stored, linked (replies, bounces, contacts) and announced
(``message.received``) the same way. Every method is one transaction and blocking: callers on the
event loop run it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.adapters.storage.outbox_repository import OutboxRepository
from mailport.clock import Clock
from mailport.core.bounces import BounceReport, parse_bounce
from mailport.core.contacts import address_key
from mailport.core.diagnostics import classify_exception
from mailport.core.events import MessageBounced, MessageReceived
from mailport.core.outbox import MessageState
from mailport.core.summary import FetchedMessage, snippet_of_message
from mailport.core.threading import normalize_message_id, summary_thread_key
from mailport.core.verification import is_test_message_id
from mailport.errors import MailportError
from mailport.services.suppression import SuppressionService

__all__ = ["EventRecorder", "InboxStore", "OutcomeRecorder", "StoreTarget"]

_T = TypeVar("_T")
_VERP_TOKEN = re.compile(r"\+(msg_[0-9a-z]{20})@", re.IGNORECASE)
_FROM, _TO, _CC, _REPLY_TO = "from", "to", "cc", "reply_to"  # participant roles


class OutcomeRecorder(Protocol):
    """Where a mailbox's health is kept (``services.accounts.AccountService`` fits)."""

    def record_outcome(self, tenant_id: str, account_id: str, *, source: str, ok: bool,
                       code: str | None = None, server_text: str | None = None) -> Any: ...


class EventRecorder(Protocol):
    """What the inbox needs from the event log (``services.webhooks.EventLog`` fits)."""

    def record(self, s: Any, *, tenant_id: str, payload: Any, now: datetime,
               message_id: str | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """The folder a batch belongs to, and whether its new mail is announced."""

    tenant_id: str
    account_id: str
    folder_id: int
    role: str  # inbox | sent
    uidvalidity: int
    announce: bool
    announce_after: datetime | None = None  # only mail that arrived after this (a resync)


class InboxStore:
    def __init__(self, *, db: Database, clock: Clock, events: EventRecorder | None = None,
                 suppression: SuppressionService | None = None, outcomes: OutcomeRecorder | None = None) -> None:
        self.db = db
        self.clock = clock
        self.events = events
        self.suppression = suppression
        self.outcomes = outcomes

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction of the inbox sync. (On SQLite the database's sessions take turns on a
        lock of their own, which this store's lock did before.)"""
        with self.db.session() as s:
            yield s

    def in_repo(self, work: Callable[[InboxRepository], _T]) -> _T:
        """Run ``work`` in one transaction."""
        with self.transaction() as s:
            return work(InboxRepository(s))

    # -- messages ------------------------------------------------------------------------------
    def store_batch(self, target: StoreTarget, fetched: Sequence[FetchedMessage], raws: dict[int, bytes],
                    stale: dict[str, list[str]]) -> tuple[int, int, int]:
        """Insert one batch in one transaction; returns (added, revived, bounces).

        ``stale`` maps Message-IDs to rows kept from before a UIDVALIDITY change: a re-fetched
        message takes its old row back (ids survive) instead of being duplicated. ``raws`` holds the
        whole bytes of possible delivery reports, parsed here and linked to the sent message.
        """
        now = self.clock.now()
        direction = "out" if target.role == "sent" else "in"
        rows: list[tuple[Any, ...]] = []  # in MESSAGE_COLUMNS' order
        people: list[tuple[str, str, str, str]] = []  # in PARTICIPANT_COLUMNS' order
        received: list[MessageReceived] = []
        bounced: list[tuple[str, BounceReport]] = []
        bodies: list[tuple[str, bytes]] = []  # delivery reports read whole: kept with their rows
        revived = 0
        ids = new_inbox_ids(len(fetched))
        keys: dict[str, str | None] = {}  # address -> contact key (the account's own address is on every message)
        tenant_id, account_id, folder_id = target.tenant_id, target.account_id, target.folder_id
        uidvalidity, announce, announce_after = target.uidvalidity, target.announce and direction == "in", \
            target.announce_after
        with self.transaction() as s:
            repo = InboxRepository(s)
            # Replies to what we sent: one lookup for the whole batch.
            asked = {i for item in fetched for i in ([item.summary.in_reply_to] if item.summary.in_reply_to
                                                      else []) + list(item.summary.references)}
            sent_ids = repo.sent_ids_by_header_ids(tenant_id=tenant_id, header_ids=asked) if asked else {}
            for item, mid in zip(fetched, ids, strict=True):
                summary = item.summary
                header_id = summary.header_message_id
                if header_id is not None and is_test_message_id(header_id):
                    continue  # a verification's test mail (deleted once found): not the CRM's business
                reused = stale.get(header_id or "", []) if stale else None
                if reused:
                    repo.revive(message_id=reused.pop(0), uidvalidity=uidvalidity, uid=item.uid, flags=item.flags)
                    revived += 1
                    continue
                refs = summary.references
                in_reply_to = summary.in_reply_to
                sent_link = next((sent_ids[i] for i in ([in_reply_to] if in_reply_to else []) + list(refs[::-1])
                                  if i in sent_ids), None) if sent_ids else None
                bounce_json: dict[str, Any] | None = None
                raw = raws.get(item.uid) if raws else None
                snippet, snippet_pending = summary.snippet, item.snippet_pending
                if raw is not None:
                    bodies.append((mid, raw))
                    if snippet_pending:  # read whole anyway: no need to wait for the backfill
                        snippet, snippet_pending = snippet_of_message(raw), False
                    report = parse_bounce(raw)
                    if report.is_bounce:
                        bounce_json = {**report.to_json(), "kind": report.kind}
                        bounced.append((mid, report))
                to, cc = summary.to, summary.cc
                from_email = summary.from_email
                rows.append((
                    mid, tenant_id, account_id, folder_id, direction, uidvalidity, item.uid, False, header_id,
                    in_reply_to, refs, summary_thread_key(summary, fallback=mid), summary.subject,
                    summary.from_name, from_email, to, cc, summary.date, item.internal_date, item.flags, item.size,
                    snippet, snippet_pending, [a.to_json() for a in item.attachments] if item.attachments else (),
                    sent_link, bounce_json, now,
                ))
                # Each address once per role: the sender, then To, Cc and Reply-To.
                seen_keys: set[tuple[str, str]] = set()
                for role_name, pairs in ((_FROM, ((None, from_email),) if from_email else ()), (_TO, to), (_CC, cc),
                                         (_REPLY_TO, summary.reply_to)):
                    for _, address in pairs:
                        key = keys.get(address, "")
                        if key == "":
                            key = keys[address] = address_key(address) if address else None
                        if key and (key, role_name) not in seen_keys:
                            seen_keys.add((key, role_name))
                            people.append((mid, key[:320], role_name, tenant_id))
                if announce and (announce_after is None or (item.internal_date or now) >= announce_after):
                    received.append(MessageReceived(
                        account_id=account_id, message_id=mid, folder="INBOX", uid=item.uid,
                        header_message_id=header_id, from_=summary.from_email,
                        subject=summary.subject, received_at=item.internal_date,
                    ))
            repo.insert_messages(rows, people)
            for mid, raw in bodies:
                repo.save_body(message_id=mid, raw=raw, now=now)
            if self.events is not None:
                for payload in received:
                    self.events.record(s, tenant_id=target.tenant_id, payload=payload, now=now)
            for mid, report in bounced:
                self.apply_bounce(s, repo, target.tenant_id, mid, report, now=now)
        return len(rows), revived, len(bounced)

    # -- bounces -------------------------------------------------------------------------------
    def apply_bounce(self, s: Any, repo: InboxRepository, tenant_id: str, inbox_id: str | None,
                     report: BounceReport, *, now: datetime) -> str | None:
        """Link a bounce to the sent message (VERP token, then the returned Message-ID, then
        References); mark it bounced and fire ``message.bounced`` once per newly failed recipient."""
        sent = None
        for address in report.addressed_to:
            token = _VERP_TOKEN.search(address)
            if token:
                sent = repo.sent_message(tenant_id=tenant_id, message_id=token.group(1).lower())
                if sent is not None:
                    break
        if sent is None:
            candidates = [report.original_message_id] if report.original_message_id else []
            candidates += list(report.references)
            sent = repo.sent_message_by_header_ids(
                tenant_id=tenant_id, header_ids=[c for c in candidates if normalize_message_id(c)])
        if sent is None:
            return None
        if inbox_id is not None:
            repo.update_message(inbox_id, sent_message_id=sent.id)
        OutboxRepository(s).update(sent.id, expected_states=[MessageState.SENT.value],
                                   values={"state": MessageState.BOUNCED.value, "reason": "bounced",
                                           "updated_at": now})
        for recipient in report.recipients:
            key = address_key(recipient.recipient) or recipient.recipient.lower()
            _, changed = repo.mark_recipient_bounced(message_id=sent.id, address_key=key, values={
                # The receiving server's code, not the 250 of the submission that accepted it.
                "status": "failed", "smtp_code": recipient.reply_code, "enhanced_code": recipient.status,
                "text": (recipient.diagnostic or "")[:2000],
                "diagnosis": "send.recipient_unknown" if recipient.category == "unknown_user" else recipient.category,
                "updated_at": now,
            })
            if changed and self.suppression is not None:
                self.suppression.record_bounce(s, tenant_id=tenant_id, recipient=recipient,
                                               message_id=str(sent.id), now=now)
            if changed and self.events is not None:
                self.events.record(s, tenant_id=tenant_id, now=now, message_id=sent.id, payload=MessageBounced(
                    message_id=sent.id, account_id=sent.account_id, metadata=dict(sent.meta or {}),
                    recipient=recipient.recipient, status=recipient.status, diagnosis=recipient.reason,
                    hard=recipient.hard, server_text=recipient.diagnostic or "",
                ))
        return str(sent.id)

    # -- sync state ----------------------------------------------------------------------------
    def set_state(self, tenant_id: str, account_id: str, *, state: str) -> None:
        now = self.clock.now()
        with self.transaction() as s:
            repo = InboxRepository(s)
            repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            repo.set_sync(account_id=account_id, values={"state": state, "updated_at": now})

    def record_success(self, tenant_id: str, account_id: str) -> None:
        now = self.clock.now()
        with self.transaction() as s:
            repo = InboxRepository(s)
            repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            repo.set_sync(account_id=account_id, values={
                "state": "idle", "last_sync_at": now, "last_error_code": None, "last_error": None,
                "failures": 0, "updated_at": now})
        if self.outcomes is not None:
            self.outcomes.record_outcome(tenant_id, account_id, source="sync", ok=True)

    def record_failure(self, tenant_id: str, account_id: str, exc: BaseException) -> int:
        """Store the diagnosis of a failed sync; returns how many failures in a row."""
        now = self.clock.now()
        if isinstance(exc, MailportError):
            code, text = exc.code, exc.message
        else:
            code, text = classify_exception(exc, protocol="imap").code, type(exc).__name__
        with self.transaction() as s:
            repo = InboxRepository(s)
            row = repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            failures = (row.failures or 0) + 1
            repo.set_sync(account_id=account_id, values={
                "state": "error", "last_error_code": code, "last_error": text[:1000], "failures": failures,
                "updated_at": now})
        if self.outcomes is not None:
            self.outcomes.record_outcome(tenant_id, account_id, source="sync", ok=False, code=code,
                                         server_text=text)
        return failures


def new_inbox_id() -> str:
    """``imsg_`` + 20 characters of base-32's alphabet (RFC 4648's: a–z, 2–7): 9 of the time in
    milliseconds, then 11 random ones (55 bits). Like :func:`mailport.ids.new_id`'s, but from one
    random draw (an initial sync makes thousands) and in the order they were made."""
    return new_inbox_ids(1)[0]


# Base-32 digits in ASCII order, so a time written with them sorts as it counts.
_SORTED_DIGITS = "234567abcdefghijklmnopqrstuvwxyz"
# A random byte -> one of RFC 4648's base-32 digits (a-z, 2-7): its low 5 bits (256 is a multiple
# of 32, so each digit is equally likely); all of a batch's random digits in one C-level translate.
_RANDOM_DIGITS = bytes(b"abcdefghijklmnopqrstuvwxyz234567"[i % 32] for i in range(256))


def new_inbox_ids(count: int) -> list[str]:
    """``count`` ids of :func:`new_inbox_id`'s shape, ascending.

    Ascending, and later than the ids made before: a batch inserted in this order extends the
    message table's primary key and the participants' key at their right edge, instead of
    touching a random page of each for every row (a large store paid for that in page reads).
    """
    if count <= 0:
        return []
    ms = time.time_ns() // 1_000_000
    prefix = "imsg_" + "".join(_SORTED_DIGITS[(ms >> shift) & 31] for shift in range(40, -1, -5))
    text = secrets.token_bytes(count * 11).translate(_RANDOM_DIGITS).decode("ascii")
    return sorted([prefix + text[i:i + 11] for i in range(0, count * 11, 11)])
