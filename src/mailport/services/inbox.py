"""Inbox sync: bring an account's INBOX and Sent folder into the store, keep them current.

:class:`InboxService` does one account: :meth:`~InboxService.sync_account` is a complete pass
(connect, Sent then INBOX, logout) and :meth:`~InboxService.sync_pass` the same on an open
connection; reading (list, one message, raw bytes and attachments fetched on demand and cached)
and the sync state the UI shows live here too.

:class:`InboxSyncEngine` is the long-running part inside a worker process: it claims accounts by
lease (``inbox_sync`` rows; on PostgreSQL each account has exactly one owner), runs one asyncio
task per account — connect, sync, IDLE on INBOX (periodic polling when the server has no IDLE),
sync again on change — and reconnects with exponential backoff and jitter after a failure,
recording the diagnosis for the UI. One process holds many accounts; there is no thread per
account.

Per folder pass (decided by :func:`mailport.core.syncplan.plan_folder`): a new or changed
UIDVALIDITY marks the stored rows stale and searches the window (default 90 days) again;
re-fetched messages are matched to stale rows by Message-ID so their ids survive and nothing is
duplicated, unmatched stale rows are deleted. Otherwise new UIDs are fetched from UIDNEXT, flags
refreshed (CHANGEDSINCE with CONDSTORE) and expunged UIDs removed (VANISHED with QRESYNC, else a
UID comparison). Messages that look like delivery reports are read whole and parsed with
:mod:`mailport.core.bounces`; a bounce is linked to the sent message (Message-ID, quoted headers,
References, VERP token) which becomes ``bounced`` with a ``message.bounced`` event. Replies are
linked to the sent message they answer. New INBOX mail after the first pass fires
``message.received``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import re
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message as EmailMessage
from email.policy import default as default_policy
from typing import Any, Protocol, TypeVar

from mailport.adapters.imap import ImapSession, Mailbox, find_special_use
from mailport.adapters.imap_sync import FETCH_BATCH, FetchedMessage, SyncSession
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.inbox_repository import (
    ContactRepository,
    InboxRepository,
    LeaseRepository,
)
from mailport.adapters.storage.outbox_repository import OutboxRepository
from mailport.adapters.storage.tables_inbox import InboxFolder, InboxMessage, InboxSync
from mailport.adapters.transport import AddressResolver
from mailport.clock import Clock
from mailport.core.bounces import BounceReport, parse_bounce
from mailport.core.contacts import address_key
from mailport.core.diagnostics import classify_exception
from mailport.core.events import MessageBounced, MessageReceived
from mailport.core.outbox import MessageState
from mailport.core.syncplan import (
    DEFAULT_WINDOW,
    FolderCursor,
    advance,
    expunged,
    plan_folder,
)
from mailport.core.threading import normalize_message_id, thread_key
from mailport.core.verification import is_test_message_id
from mailport.errors import (
    MailportError,
    NotFound,
    RemoteAuthError,
    RemoteError,
    StorageError,
    ValidationError,
)
from mailport.services.accounts import AccountService
from mailport.services.suppression import SuppressionService
from mailport.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "AttachmentData",
    "FolderReport",
    "InboxMessageView",
    "InboxService",
    "InboxSyncEngine",
    "SyncReport",
    "SyncStateView",
]

_T = TypeVar("_T")
_VERP_TOKEN = re.compile(r"\+(msg_[0-9a-z]{20})@", re.IGNORECASE)


class TokenSource(Protocol):
    """Hands out OAuth access tokens (``services.oauth.OAuthService`` fits)."""

    async def access_token(self, tenant_id: str, account_id: str, *,
                           rejected_token: str | None = None) -> str: ...


class EventRecorder(Protocol):
    """What the inbox needs from the event log (``services.webhooks.EventLog`` fits)."""

    def record(self, s: Any, *, tenant_id: str, payload: Any, now: datetime,
               message_id: str | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class FolderReport:
    folder: str
    role: str
    reset: bool = False
    added: int = 0
    revived: int = 0
    removed: int = 0
    flags_changed: int = 0
    bounces: int = 0


@dataclass(frozen=True, slots=True)
class SyncReport:
    account_id: str
    folders: tuple[FolderReport, ...]

    @property
    def added(self) -> int:
        return sum(f.added for f in self.folders)


@dataclass(frozen=True, slots=True)
class SyncStateView:
    account_id: str
    enabled: bool
    state: str
    last_sync_at: datetime | None
    error_code: str | None
    error: str | None
    worker: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id, "enabled": self.enabled, "state": self.state,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "error": ({"code": self.error_code, "message": self.error} if self.error_code else None),
        }


@dataclass(frozen=True, slots=True)
class InboxMessageView:
    id: str
    account_id: str
    folder: str
    direction: str
    uid: int | None
    header_message_id: str | None
    in_reply_to: str | None
    references: list[str]
    thread_id: str
    subject: str
    from_: dict[str, str | None]
    to: list[dict[str, Any]]
    cc: list[dict[str, Any]]
    date: datetime | None
    received_at: datetime | None
    flags: list[str]
    size: int
    snippet: str
    sent_message_id: str | None
    bounce: dict[str, Any] | None
    contacts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "account_id": self.account_id, "folder": self.folder, "direction": self.direction,
            "message_id_header": self.header_message_id, "in_reply_to": self.in_reply_to,
            "references": self.references, "thread_id": self.thread_id, "subject": self.subject,
            "from": self.from_, "to": self.to, "cc": self.cc,
            "date": self.date.isoformat() if self.date else None,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "flags": self.flags, "seen": "\\Seen" in self.flags, "size": self.size, "snippet": self.snippet,
            "sent_message_id": self.sent_message_id, "bounce": self.bounce, "contacts": self.contacts,
        }


@dataclass(frozen=True, slots=True)
class AttachmentData:
    index: int
    filename: str | None
    content_type: str
    data: bytes


@dataclass(slots=True)
class _Ctx:
    tenant_id: str
    account_id: str
    email: str
    sync: SyncSession


class InboxService:
    def __init__(
        self, *, db: Database, accounts: AccountService, clock: Clock, settings: Settings,
        resolver: AddressResolver, events: EventRecorder | None = None,
        window: timedelta = DEFAULT_WINDOW, tokens: TokenSource | None = None,
        suppression: SuppressionService | None = None,
    ) -> None:
        self.db = db
        self.suppression = suppression
        self.accounts = accounts
        self.clock = clock
        self.settings = settings
        self.resolver = resolver
        self.events = events
        self.window = window
        self.tokens = tokens
        self.fetch_batch = FETCH_BATCH  # messages per UID FETCH and per database transaction

    # -- connecting --------------------------------------------------------------------------------
    @asynccontextmanager
    async def connect(self, tenant_id: str, account_id: str) -> AsyncIterator[_Ctx]:
        """An open, logged-in sync session for the account (LOGOUT when the block ends)."""
        config, password = await asyncio.to_thread(self.accounts.connection, tenant_id, account_id)
        if config.imap is None:
            raise ValidationError("this account has no IMAP settings", code="inbox.no_imap", field="imap")
        token: str | None = None
        if config.auth_kind == "oauth2":
            if self.tokens is None:
                raise ValidationError("OAuth accounts need the OAuth service wired in", code="inbox.no_credentials",
                                      field="auth_kind")
            token = await self.tokens.access_token(tenant_id, account_id)
            password = None
        elif password is None:
            raise ValidationError("this account has no password stored", code="inbox.no_credentials",
                                  field="password")
        try:
            session_cm = ImapSession.open(config.imap, password=password, oauth_token=token, settings=self.settings,
                                          resolver=self.resolver, email=config.email)
            session = await session_cm.__aenter__()
        except RemoteAuthError:
            if token is None or self.tokens is None:
                raise
            # A token the server refused: refresh it once (the provider may have revoked it early).
            token = await self.tokens.access_token(tenant_id, account_id, rejected_token=token)
            session_cm = ImapSession.open(config.imap, password=None, oauth_token=token, settings=self.settings,
                                          resolver=self.resolver, email=config.email)
            session = await session_cm.__aenter__()
        try:
            sync = SyncSession(session)
            await sync.enable_extensions()
            yield _Ctx(tenant_id=tenant_id, account_id=account_id, email=config.email, sync=sync)
        except BaseException as exc:
            if not await session_cm.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await session_cm.__aexit__(None, None, None)

    async def sync_account(self, tenant_id: str, account_id: str) -> SyncReport:
        """One complete pass (connect, Sent and INBOX, logout), recording the sync state."""
        await asyncio.to_thread(self._set_state, tenant_id, account_id, state="syncing")
        try:
            async with self.connect(tenant_id, account_id) as ctx:
                report = await self.sync_pass(ctx)
        except MailportError as exc:
            await asyncio.to_thread(self.record_failure, tenant_id, account_id, exc)
            raise
        await asyncio.to_thread(self.record_success, tenant_id, account_id)
        return report

    async def sync_pass(self, ctx: _Ctx) -> SyncReport:
        """Sync Sent, then INBOX (left selected, ready for IDLE)."""
        mailboxes = await ctx.sync.session.list_mailboxes()
        targets: list[tuple[str, str]] = []
        sent = find_special_use(mailboxes, "\\Sent")
        if sent is not None and sent.name.upper() != "INBOX":
            targets.append((sent.name, "sent"))
        targets.append((_inbox_name(mailboxes), "inbox"))
        reports = [await self.sync_folder(ctx, name, role) for name, role in targets]
        return SyncReport(account_id=ctx.account_id, folders=tuple(reports))

    async def sync_folder(self, ctx: _Ctx, name: str, role: str) -> FolderReport:
        # Database work runs in threads: the event loop serves every other account's connection.
        now = self.clock.now()

        def load() -> tuple[int, FolderCursor | None, int, datetime | None, list[int]]:
            with self.db.session() as s:
                repo = InboxRepository(s)
                folder = repo.folder(tenant_id=ctx.tenant_id, account_id=ctx.account_id, name=name, role=role)
                cursor = _cursor(folder)
                known: list[int] = []
                if cursor is not None and ctx.sync.qresync and cursor.highestmodseq:
                    known = sorted(repo.stored_uids(folder_id=folder.id, uidvalidity=cursor.uidvalidity))
                return folder.id, cursor, repo.count(folder_id=folder.id), folder.synced_at, known

        folder_id, cursor, stored_count, last_synced, known = await asyncio.to_thread(load)
        first_sync = last_synced is None
        resume = ((cursor.uidvalidity, cursor.highestmodseq, known)
                  if cursor is not None and cursor.highestmodseq and ctx.sync.qresync else None)
        opened = await ctx.sync.examine(name, resume=resume)
        snap = opened.snapshot
        plan = plan_folder(cursor=cursor, snapshot=snap, today=now.date(), window=self.window,
                           condstore=ctx.sync.condstore, qresync=ctx.sync.qresync, stored_count=stored_count)
        added = revived = removed = flags_changed = bounces = 0
        highest_modseq = snap.highestmodseq
        seen: list[int] = []
        if plan.reset:
            await asyncio.to_thread(self._in_repo, lambda repo: repo.mark_stale(folder_id=folder_id))
            assert plan.search_since is not None
            uids = await ctx.sync.uid_search_since(plan.search_since)
            result = await self._fetch_and_store(ctx, folder_id, role, snap.uidvalidity, uids,
                                                 announce=not first_sync, announce_after=last_synced)
            added, revived, bounces = result
            removed = await asyncio.to_thread(self._in_repo, lambda repo: repo.delete_stale(folder_id=folder_id))
            seen = uids
        else:
            assert cursor is not None
            stored = await asyncio.to_thread(
                self._in_repo, lambda repo: repo.stored_uids(folder_id=folder_id, uidvalidity=snap.uidvalidity))
            gone: set[int] = set(opened.vanished)
            flag_updates: dict[int, tuple[str, ...]] = dict(opened.changed_flags)
            if plan.new_from_uid is not None:
                new_uids = [u for u in await ctx.sync.uid_search_from(plan.new_from_uid) if u not in stored]
                result = await self._fetch_and_store(ctx, folder_id, role, snap.uidvalidity, new_uids,
                                                     announce=True, announce_after=None)
                added, revived, bounces = result
                seen = new_uids
            if plan.find_expunged and stored:
                on_server = await ctx.sync.uid_search_all()
                gone |= expunged(stored, on_server)
            if plan.flags_changed_since is not None:
                for uid, flags, modseq in await ctx.sync.fetch_flags(changed_since=plan.flags_changed_since):
                    flag_updates[uid] = flags
                    if modseq and (highest_modseq is None or modseq > highest_modseq):
                        highest_modseq = modseq
            elif plan.refresh_all_flags and stored:
                for uid, flags, _ in await ctx.sync.fetch_flags(sorted(stored)):
                    flag_updates[uid] = flags
            changes = {uid: flags for uid, flags in flag_updates.items()
                       if uid in stored and stored[uid].flags != flags and uid not in gone}

            def apply(repo: InboxRepository) -> int:
                deleted = 0
                if gone:
                    deleted = repo.delete_uids(folder_id=folder_id, uidvalidity=snap.uidvalidity,
                                               uids=gone & set(stored))
                if changes:
                    repo.set_flags(folder_id=folder_id, uidvalidity=snap.uidvalidity, changes=changes)
                return deleted

            if gone or changes:
                removed = await asyncio.to_thread(self._in_repo, apply)
                flags_changed = len(changes)
        new_cursor = advance(snapshot=snap, seen_uids=seen, previous=cursor,
                             window_start=plan.search_since, highestmodseq=highest_modseq)
        synced_at = self.clock.now()
        await asyncio.to_thread(self._in_repo, lambda repo: repo.save_cursor(
            folder_id, uidvalidity=new_cursor.uidvalidity, uidnext=new_cursor.uidnext,
            highestmodseq=new_cursor.highestmodseq, window_start=new_cursor.window_start, synced_at=synced_at))
        return FolderReport(folder=name, role=role, reset=plan.reset, added=added, revived=revived,
                            removed=removed, flags_changed=flags_changed, bounces=bounces)

    def _in_repo(self, work: Callable[[InboxRepository], _T]) -> _T:
        """Run ``work`` in one transaction (called through ``asyncio.to_thread``)."""
        with self.db.session() as s:
            return work(InboxRepository(s))

    async def _fetch_and_store(
        self, ctx: _Ctx, folder_id: int, role: str, uidvalidity: int, uids: Sequence[int], *,
        announce: bool, announce_after: datetime | None,
    ) -> tuple[int, int, int]:
        """Fetch summaries of ``uids`` in batches and store them; returns (added, revived, bounces)."""
        added = revived = bounces = 0
        batch = self.fetch_batch
        stale = await asyncio.to_thread(self._in_repo, lambda repo: repo.stale_by_message_id(folder_id=folder_id))
        # Batch n is written to the database in a thread while batch n+1 is fetched: the event
        # loop (other accounts' IDLE) never waits on the database, and the two overlap.
        storing: asyncio.Future[tuple[int, int, int]] | None = None
        try:
            for start in range(0, len(uids), batch):
                fetched = await ctx.sync.fetch_summaries(uids[start:start + batch], batch=batch)
                raws: dict[int, bytes] = {}
                for item in fetched:
                    if role == "inbox" and item.summary.maybe_report:
                        raw = await ctx.sync.fetch_raw(item.uid)
                        if raw is not None:
                            raws[item.uid] = raw
                if storing is not None:
                    a, r, b = await storing
                    added, revived, bounces = added + a, revived + r, bounces + b
                storing = asyncio.ensure_future(asyncio.to_thread(
                    self._store_batch, ctx, folder_id, role, uidvalidity, fetched, raws, stale,
                    announce=announce, announce_after=announce_after))
            if storing is not None:
                a, r, b = await storing
                added, revived, bounces = added + a, revived + r, bounces + b
                storing = None
        finally:
            if storing is not None:
                # A failed fetch must not leave a write running behind the caller's back.
                with contextlib.suppress(Exception):
                    await storing
        return added, revived, bounces

    def _store_batch(
        self, ctx: _Ctx, folder_id: int, role: str, uidvalidity: int, fetched: Sequence[FetchedMessage],
        raws: dict[int, bytes], stale: dict[str, list[str]], *, announce: bool,
        announce_after: datetime | None,
    ) -> tuple[int, int, int]:
        now = self.clock.now()
        direction = "out" if role == "sent" else "in"
        rows: list[dict[str, Any]] = []
        people: list[dict[str, Any]] = []
        received: list[MessageReceived] = []
        bounced: list[tuple[str, BounceReport]] = []
        revived = 0
        with self.db.session() as s:
            repo = InboxRepository(s)
            # Replies to what we sent: one lookup for the whole batch.
            asked = {i for item in fetched for i in ([item.summary.in_reply_to] if item.summary.in_reply_to
                                                      else []) + list(item.summary.references)}
            sent_ids = repo.sent_ids_by_header_ids(tenant_id=ctx.tenant_id, header_ids=asked) if asked else {}
            for item in fetched:
                summary = item.summary
                if is_test_message_id(summary.header_message_id):
                    continue  # a verification's test mail (deleted once found): not the CRM's business
                reused = stale.get(summary.header_message_id or "", [])
                if reused:
                    repo.revive(message_id=reused.pop(0), uidvalidity=uidvalidity, uid=item.uid, flags=item.flags)
                    revived += 1
                    continue
                mid = _message_id()
                refs = list(summary.references)
                sent_link = next((sent_ids[i] for i in ([summary.in_reply_to] if summary.in_reply_to else [])
                                  + refs[::-1] if i in sent_ids), None)
                bounce_json: dict[str, Any] | None = None
                raw = raws.get(item.uid)
                if raw is not None:
                    report = parse_bounce(raw)
                    if report.is_bounce:
                        bounce_json = {**report.to_json(), "kind": report.kind}
                        bounced.append((mid, report))
                rows.append({
                    "id": mid, "tenant_id": ctx.tenant_id, "account_id": ctx.account_id, "folder_id": folder_id,
                    "direction": direction, "uidvalidity": uidvalidity, "uid": item.uid, "stale": False,
                    "header_message_id": summary.header_message_id, "in_reply_to": summary.in_reply_to,
                    "reference_ids": refs,
                    "thread_id": thread_key(message_id=summary.header_message_id, in_reply_to=summary.in_reply_to,
                                            references=" ".join(refs), fallback=mid),
                    "subject": summary.subject, "from_name": summary.from_name, "from_email": summary.from_email,
                    "to": [{"name": n or None, "email": a} for n, a in summary.to],
                    "cc": [{"name": n or None, "email": a} for n, a in summary.cc],
                    "date": summary.date, "internal_date": item.internal_date, "flags": list(item.flags),
                    "size": item.size, "snippet": summary.snippet,
                    "sent_message_id": sent_link,
                    "bounce": bounce_json, "created_at": now,
                })
                seen_keys: set[tuple[str, str]] = set()
                for role_name, pairs in (("from", [(summary.from_name or "", summary.from_email or "")]),
                                         ("to", summary.to), ("cc", summary.cc), ("reply_to", summary.reply_to)):
                    for _, address in pairs:
                        key = address_key(address) if address else None
                        if key and (key, role_name) not in seen_keys:
                            seen_keys.add((key, role_name))
                            people.append({"message_id": mid, "address": key[:320], "role": role_name,
                                           "tenant_id": ctx.tenant_id})
                if direction == "in" and announce and (
                        announce_after is None or (item.internal_date or now) >= announce_after):
                    received.append(MessageReceived(
                        account_id=ctx.account_id, message_id=mid, folder="INBOX", uid=item.uid,
                        header_message_id=summary.header_message_id, from_=summary.from_email,
                        subject=summary.subject, received_at=item.internal_date,
                    ))
            repo.insert_messages(rows, people)
            for mid, raw_uid in ((row["id"], row["uid"]) for row in rows):
                if raw_uid in raws:
                    repo.save_body(message_id=mid, raw=raws[raw_uid], now=now)
            if self.events is not None:
                for payload in received:
                    self.events.record(s, tenant_id=ctx.tenant_id, payload=payload, now=now)
            for mid, report in bounced:
                self._apply_bounce(s, repo, ctx.tenant_id, mid, report, now=now)
        return len(rows), revived, len(bounced)

    # -- links -------------------------------------------------------------------------------------
    def ingest_bounce(self, tenant_id: str, raw: bytes) -> str | None:
        """A delivery report received outside a synced inbox (e.g. at the platform's return-path
        address): parse it and, if it is a bounce of something this tenant sent, mark that message
        bounced and fire ``message.bounced``. Returns the sent message's id, or None."""
        report = parse_bounce(raw)
        if not report.is_bounce:
            return None
        with self.db.session() as s:
            return self._apply_bounce(s, InboxRepository(s), tenant_id, None, report, now=self.clock.now())

    def _apply_bounce(self, s: Any, repo: InboxRepository, tenant_id: str, inbox_id: str | None,
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
                "status": "failed", "enhanced_code": recipient.status, "text": (recipient.diagnostic or "")[:2000],
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

    # -- sync state ----------------------------------------------------------------------------------
    def _set_state(self, tenant_id: str, account_id: str, *, state: str) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            repo = InboxRepository(s)
            repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            repo.set_sync(account_id=account_id, values={"state": state, "updated_at": now})

    def record_success(self, tenant_id: str, account_id: str) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            repo = InboxRepository(s)
            repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            repo.set_sync(account_id=account_id, values={
                "state": "idle", "last_sync_at": now, "last_error_code": None, "last_error": None,
                "failures": 0, "updated_at": now})
        self.accounts.record_outcome(tenant_id, account_id, source="sync", ok=True)

    def record_failure(self, tenant_id: str, account_id: str, exc: BaseException) -> int:
        """Store the diagnosis of a failed sync; returns how many failures in a row."""
        now = self.clock.now()
        if isinstance(exc, MailportError):
            code, text = exc.code, exc.message
        else:
            code, text = classify_exception(exc, protocol="imap").code, type(exc).__name__
        with self.db.session() as s:
            repo = InboxRepository(s)
            row = repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            failures = (row.failures or 0) + 1
            repo.set_sync(account_id=account_id, values={
                "state": "error", "last_error_code": code, "last_error": text[:1000], "failures": failures,
                "updated_at": now})
        self.accounts.record_outcome(tenant_id, account_id, source="sync", ok=False, code=code, server_text=text)
        return failures

    def sync_state(self, tenant_id: str, account_id: str) -> SyncStateView:
        self.accounts.get(tenant_id, account_id)  # NotFound for another tenant's account
        with self.db.session() as s:
            row = InboxRepository(s).find_sync(tenant_id=tenant_id, account_id=account_id)
            if row is None:
                return SyncStateView(account_id=account_id, enabled=True, state="pending", last_sync_at=None,
                                     error_code=None, error=None, worker=None)
            return _state_view(row)

    def set_enabled(self, tenant_id: str, account_id: str, *, enabled: bool) -> SyncStateView:
        self.accounts.get(tenant_id, account_id)
        now = self.clock.now()
        with self.db.session() as s:
            repo = InboxRepository(s)
            repo.sync_row(tenant_id=tenant_id, account_id=account_id, now=now)
            values: dict[str, Any] = {"enabled": enabled, "updated_at": now}
            if not enabled:
                values["state"] = "disabled"
            repo.set_sync(account_id=account_id, values=values)
        return self.sync_state(tenant_id, account_id)

    # -- reading -------------------------------------------------------------------------------------
    def list_messages(
        self, tenant_id: str, *, account_id: str | None = None, contact_id: str | None = None,
        q: str | None = None, before: datetime | None = None, limit: int = 50,
    ) -> list[InboxMessageView]:
        if not 1 <= limit <= 200:
            raise ValidationError("limit must be between 1 and 200", field="limit")
        if q is not None and len(q) > 200:
            raise ValidationError("the search text is longer than 200 characters", field="q")
        if before is not None and before.tzinfo is None:
            raise ValidationError("before must carry a time zone", field="before")
        with self.db.session() as s:
            addresses: list[str] | None = None
            if contact_id is not None:
                contact = ContactRepository(s).get(tenant_id=tenant_id, contact_id=contact_id)
                addresses = [a for a in (address_key(x) for x in contact.addresses) if a]
            if account_id is not None:
                self.accounts.get(tenant_id, account_id)
            rows = InboxRepository(s).list(tenant_id=tenant_id, account_id=account_id, addresses=addresses,
                                           q=q, before=before, limit=limit)
            return self._views(s, tenant_id, rows)

    def get_message(self, tenant_id: str, message_id: str) -> InboxMessageView:
        with self.db.session() as s:
            row = InboxRepository(s).get(tenant_id=tenant_id, message_id=message_id)
            return self._views(s, tenant_id, [row])[0]

    def linked_to(self, tenant_id: str, sent_message_id: str) -> list[InboxMessageView]:
        """Replies and bounce reports linked to a message sent through the outbox, oldest first."""
        with self.db.session() as s:
            rows = InboxRepository(s).linked_to(tenant_id=tenant_id, sent_message_id=sent_message_id)
            return self._views(s, tenant_id, rows)

    def _views(self, s: Any, tenant_id: str, rows: Sequence[InboxMessage]) -> list[InboxMessageView]:
        repo = InboxRepository(s)
        folders: dict[int, InboxFolder] = {}
        people = repo.participants_of([r.id for r in rows])
        all_addresses = sorted({a for pairs in people.values() for _, a in pairs})
        contacts = ContactRepository(s).contacts_for(tenant_id=tenant_id, addresses=all_addresses)
        views = []
        for row in rows:
            if row.folder_id not in folders:
                folders[row.folder_id] = repo.folder_of(row.folder_id)
            linked = sorted({c for _, a in people.get(row.id, []) for c in contacts.get(a, [])})
            views.append(InboxMessageView(
                id=row.id, account_id=row.account_id, folder=folders[row.folder_id].name, direction=row.direction,
                uid=row.uid, header_message_id=row.header_message_id, in_reply_to=row.in_reply_to,
                references=list(row.reference_ids or []), thread_id=row.thread_id, subject=row.subject,
                from_={"name": row.from_name, "email": row.from_email}, to=list(row.to or []),
                cc=list(row.cc or []), date=row.date, received_at=row.internal_date, flags=list(row.flags or []),
                size=row.size, snippet=row.snippet, sent_message_id=row.sent_message_id, bounce=row.bounce,
                contacts=linked,
            ))
        return views

    async def raw(self, tenant_id: str, message_id: str) -> bytes:
        """The message's RFC 5322 bytes: from the cache, else fetched from the server and cached."""
        with self.db.session() as s:
            repo = InboxRepository(s)
            row = repo.get(tenant_id=tenant_id, message_id=message_id)
            cached = repo.body(row.id)
            if cached is not None:
                return cached
            folder = repo.folder_of(row.folder_id)
            account_id, uid, uidvalidity, name = row.account_id, row.uid, row.uidvalidity, folder.name
        if uid is None:
            raise NotFound("the message is being re-synchronized; try again shortly", resource="inbox_message")
        async with self.connect(tenant_id, account_id) as ctx:
            opened = await ctx.sync.examine(name)
            if opened.snapshot.uidvalidity != uidvalidity:
                raise NotFound("the folder changed on the server; the message will reappear after the next sync",
                               resource="inbox_message")
            raw = await ctx.sync.fetch_raw(uid)
        if raw is None:
            raise NotFound("the message was deleted on the server", resource="inbox_message")
        with self.db.session() as s:
            InboxRepository(s).save_body(message_id=message_id, raw=raw, now=self.clock.now())
        return raw

    async def attachment(self, tenant_id: str, message_id: str, index: int) -> AttachmentData:
        """Attachment number ``index`` (0-based, in MIME order) of a message."""
        if index < 0:
            raise ValidationError("attachment numbers start at 0", field="n")
        raw = await self.raw(tenant_id, message_id)
        parts = _attachments(message_from_bytes(raw, policy=default_policy))
        if index >= len(parts):
            raise NotFound("no such attachment", resource="attachment")
        part = parts[index]
        payload = part.get_payload(decode=True)
        return AttachmentData(index=index, filename=part.get_filename(), content_type=part.get_content_type(),
                              data=payload if isinstance(payload, bytes) else b"")

    def attachment_list(self, raw: bytes) -> list[dict[str, Any]]:
        parts = _attachments(message_from_bytes(raw, policy=default_policy))
        return [{"index": i, "filename": p.get_filename(), "content_type": p.get_content_type()}
                for i, p in enumerate(parts)]


class InboxSyncEngine:
    """Keeps many accounts synced from one asyncio process (see the module docstring)."""

    def __init__(
        self, *, service: InboxService, db: Database, clock: Clock, worker_id: str,
        max_accounts: int = 1000, lease: timedelta = timedelta(seconds=90),
        idle_timeout: float = 20 * 60, poll_interval: float = 120.0, claim_interval: float = 5.0,
        backoff_base: float = 2.0, backoff_cap: float = 300.0, rng: random.Random | None = None,
    ) -> None:
        self.service = service
        self.db = db
        self.clock = clock
        self.worker_id = worker_id
        self.max_accounts = max_accounts
        self.lease = lease
        self.idle_timeout = idle_timeout
        self.poll_interval = poll_interval
        self.claim_interval = claim_interval
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng or random.Random()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.connected: set[str] = set()
        self._wake: dict[str, asyncio.Event] = {}

    def backoff(self, failures: int) -> float:
        """Seconds before reconnect attempt ``failures`` (1, 2, …): exponential, full jitter, capped."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** max(0, failures - 1)))
        return float(ceiling / 2 + self.rng.uniform(0, ceiling / 2))

    def wake(self, account_id: str) -> None:
        """Sync this account now (e.g. after the API was asked to)."""
        event = self._wake.get(account_id)
        if event is not None:
            event.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("inbox sync %s started (up to %d accounts)", self.worker_id, self.max_accounts)
        try:
            while not stop.is_set():
                try:
                    await self._tick()
                except StorageError as exc:
                    if not exc.fields.get("transient"):
                        raise
                    # The database is away (logged once by the adapter); the accounts already
                    # synced go on, and the leases are renewed at the next tick that reaches it.
                try:
                    await asyncio.wait_for(stop.wait(), self.claim_interval)
                except TimeoutError:
                    pass
        finally:
            await self._stop_all()
            log.info("inbox sync %s stopped", self.worker_id)

    async def _tick(self) -> None:
        now = self.clock.now()
        until = now + self.lease
        owned = list(self.tasks)
        free = self.max_accounts - len(owned)

        def db_work() -> tuple[set[str], list[tuple[str, str]]]:
            with self.db.session() as s:
                leases = LeaseRepository(s)
                still = leases.renew(worker_id=self.worker_id, account_ids=owned, until=until)
            claimed: list[tuple[str, str]] = []
            if free > 0:
                with self.db.session() as s:
                    leases = LeaseRepository(s)
                    leases.ensure_rows(now=now)
                # Claim in small steps so several workers spread the accounts between them.
                with self.db.session() as s:
                    claimed = LeaseRepository(s).claim(worker_id=self.worker_id, now=now, until=until,
                                                       limit=min(free, 100))
            return still, claimed

        still, claimed = await asyncio.to_thread(db_work)
        for account_id in owned:
            if account_id not in still:
                log.warning("inbox sync %s lost the lease of %s; stopping it", self.worker_id, account_id)
                task = self.tasks.pop(account_id, None)
                if task is not None:
                    task.cancel()
        for tenant_id, account_id in claimed:
            if account_id in self.tasks:
                continue
            self._wake[account_id] = asyncio.Event()
            task = asyncio.create_task(self._account(tenant_id, account_id), name=f"inbox:{account_id}")
            self.tasks[account_id] = task
            task.add_done_callback(functools.partial(self._forget_task, account_id))

    def _forget_task(self, account_id: str, _task: asyncio.Task[None]) -> None:
        self._forget(account_id)

    def _forget(self, account_id: str) -> None:
        self.tasks.pop(account_id, None)
        self._wake.pop(account_id, None)
        self.connected.discard(account_id)

    async def _stop_all(self) -> None:
        tasks = list(self.tasks.items())
        for _, task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*(t for _, t in tasks), return_exceptions=True)

        def release() -> None:
            with self.db.session() as s:
                leases = LeaseRepository(s)
                for account_id, _ in tasks:
                    leases.release(worker_id=self.worker_id, account_id=account_id)

        try:
            await asyncio.to_thread(release)
        except StorageError:
            pass  # the database is away: the leases run out by themselves

    async def _account(self, tenant_id: str, account_id: str) -> None:
        """Connect, sync, IDLE / poll, repeat; reconnect with backoff after failures."""
        failures = 0
        wake = self._wake[account_id]
        while True:
            try:
                await asyncio.to_thread(self.service._set_state, tenant_id, account_id, state="syncing")
                async with self.service.connect(tenant_id, account_id) as ctx:
                    self.connected.add(account_id)
                    while True:
                        await self.service.sync_pass(ctx)
                        failures = 0
                        await asyncio.to_thread(self.service.record_success, tenant_id, account_id)
                        wake.clear()
                        await self._wait_for_change(ctx, wake)
            except asyncio.CancelledError:
                raise
            except (MailportError, OSError) as exc:
                self.connected.discard(account_id)
                try:
                    failures = await asyncio.to_thread(self.service.record_failure, tenant_id, account_id,
                                                       exc)
                except StorageError as storage_exc:
                    if not storage_exc.fields.get("transient"):
                        raise
                    failures += 1  # the database is away too: retry later, record it then
                if isinstance(exc, ValidationError) or (isinstance(exc, RemoteError)
                                                        and exc.code.startswith("auth.")):
                    # Wrong settings or credentials: retrying fast only earns an anvil penalty.
                    delay = self.backoff_cap
                else:
                    delay = self.backoff(failures)
                log.info("inbox sync of %s failed (%s); retrying in %.1f s", account_id,
                         getattr(exc, "code", type(exc).__name__), delay)
                try:
                    await asyncio.wait_for(wake.wait(), delay)
                except TimeoutError:
                    pass
                wake.clear()

    async def _wait_for_change(self, ctx: _Ctx, wake: asyncio.Event) -> None:
        """IDLE on INBOX until the server reports a change (or the poll interval passes)."""
        if not ctx.sync.can_idle:
            try:
                await asyncio.wait_for(wake.wait(), self.poll_interval)
            except TimeoutError:
                pass
            return
        await ctx.sync.idle(timeout=min(self.idle_timeout, self.poll_interval), stop=wake)


def _message_id() -> str:
    """``imsg_`` + 20 base-36 characters, like :func:`mailport.ids.new_id` but from one random
    draw (an initial sync makes thousands; ``secrets.choice`` per character showed in profiles)."""
    value = secrets.randbits(104)
    chars = []
    for _ in range(20):
        value, digit = divmod(value, 36)
        chars.append(_BASE36[digit])
    return "imsg_" + "".join(chars)


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _state_view(row: InboxSync) -> SyncStateView:
    return SyncStateView(account_id=row.account_id, enabled=row.enabled, state=row.state,
                         last_sync_at=row.last_sync_at, error_code=row.last_error_code, error=row.last_error,
                         worker=row.lease_owner)


def _cursor(folder: InboxFolder) -> FolderCursor | None:
    if folder.uidvalidity is None or folder.uidnext is None:
        return None
    return FolderCursor(uidvalidity=folder.uidvalidity, uidnext=folder.uidnext,
                        highestmodseq=folder.highestmodseq, window_start=folder.window_start)


def _inbox_name(mailboxes: Sequence[Mailbox]) -> str:
    for box in mailboxes:
        if box.name.upper() == "INBOX":
            return box.name
    return "INBOX"


def _attachments(msg: EmailMessage) -> list[EmailMessage]:
    found: list[EmailMessage] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        if disposition == "attachment" or (disposition == "inline" and part.get_filename()) or (
                disposition is None and part.get_filename()):
            found.append(part)
    return found

