"""Inbox sync through the Gmail API: the :class:`~mailport.services.mailbox_sync.MailboxSync` of
``gmail_api`` accounts whose grant includes ``gmail.readonly`` (the ``send_and_inbox`` profile).

One pass, read top to bottom:

1. load the account's stored ``historyId`` (``api_sync_cursors``);
2. none yet (**initial**): note the mailbox's current ``historyId`` (``users.getProfile``) *before*
   listing, so mail arriving meanwhile is picked up by the next increment; list the window
   (``users.messages.list``, INBOX, ``after:`` the window start, paged) and fetch each new
   message's headers (``users.messages.get``, ``format=metadata``, a few at a time);
3. otherwise (**increment**): ``users.history.list`` from the stored id, page by page, for
   ``messageAdded`` in INBOX; fetch those the store does not have yet;
4. Google answers 404 when the stored id is older than the history it keeps: a **full resync** —
   the window listed again, only messages not stored yet fetched (ids are stable in Gmail, so
   nothing is duplicated);
5. store the new ``historyId``.

Messages go into the same store as IMAP mail (:class:`~mailport.services.inbox_store.InboxStore`):
the same summaries (:func:`~mailport.core.summary.summarize` on the metadata headers), contact
participants, reply links, bounce parsing (possible delivery reports are fetched whole,
``format=raw``) and ``message.received`` events. A Gmail message id (16 hex digits, a millisecond
timestamp in its high bits) is stored as the row's ``uid`` (``uidvalidity`` 1), which is how
:meth:`GmailMailboxSync.fetch_raw` finds it again. An id that does not fit the signed 64-bit
column (none will before the year 2262) is skipped with a warning rather than stored under a
wrong number.

Gmail has no IDLE; push needs Cloud Pub/Sub, which an embedded product cannot assume. The
connection polls: :meth:`GmailConnection.wait_for_change` returns after ``poll_interval`` or a
wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mailport.adapters.gmail import GMAIL_URL, NOT_FOUND, GmailApi, HistoryExpired
from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.adapters.storage.tables_api_sync import ApiSyncCursor
from mailport.clock import Clock
from mailport.core.summary import FetchedMessage, summarize
from mailport.core.syncplan import DEFAULT_WINDOW
from mailport.core.verification import AccountConfig
from mailport.errors import RemoteRejected
from mailport.services.gmail import gmail_api_for
from mailport.services.inbox_store import InboxStore, StoreTarget
from mailport.services.mailbox_sync import FolderReport, RawLocation, SyncReport
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["GmailConnection", "GmailMailboxSync", "gmail_uid", "uid_gmail_id"]

METADATA_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
                    "References", "Content-Type", "Content-Transfer-Encoding", "X-Failed-Recipients",
                    "Auto-Submitted")
UIDVALIDITY = 1
_MAX_UID = 2**63 - 1
INBOX, ROLE = "INBOX", "inbox"


def gmail_uid(gmail_id: str) -> int | None:
    """The ``uid`` a Gmail message id is stored as (``None`` when it does not fit the column)."""
    try:
        value = int(gmail_id, 16)
    except ValueError:
        return None
    return value if value <= _MAX_UID else None


def uid_gmail_id(uid: int) -> str:
    return f"{uid:016x}"


@dataclass(slots=True)
class GmailConnection:
    """One account's Gmail API for a sync session (a ``MailboxConnection``)."""

    owner: GmailMailboxSync
    tenant_id: str
    account_id: str
    api: GmailApi
    passes: int = 0

    async def sync_pass(self) -> SyncReport:
        report = await self.owner.sync_pass(self)
        self.passes += 1
        return report

    async def wait_for_change(self, *, wake: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), min(timeout, self.owner.poll_interval))


class GmailMailboxSync:
    def __init__(self, *, store: InboxStore, oauth: OAuthService, clock: Clock, settings: Settings,
                 window: timedelta = DEFAULT_WINDOW, poll_interval: float = 60.0, concurrency: int = 8) -> None:
        self.store = store
        self.oauth = oauth
        self.clock = clock
        self.settings = settings
        self.window = window
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.batch = 100  # messages per database transaction

    def handles(self, config: AccountConfig) -> bool:
        # ``imap`` None: a send-only grant — there is no inbox to sync.
        return config.transport == "gmail_api" and config.imap is not None

    def server(self, config: AccountConfig) -> str:
        """Connections are paced per server; for the API that is Google's endpoint."""
        return self.settings.gmail_api_url or GMAIL_URL

    @asynccontextmanager
    async def connect(self, tenant_id: str, account_id: str) -> AsyncIterator[GmailConnection]:
        async with gmail_api_for(self.oauth, self.settings, tenant_id, account_id) as api:
            yield GmailConnection(owner=self, tenant_id=tenant_id, account_id=account_id, api=api)

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        if where.uid is None:
            return None
        async with gmail_api_for(self.oauth, self.settings, tenant_id, account_id) as api:
            try:
                return await api.raw_message(uid_gmail_id(where.uid))
            except RemoteRejected as exc:
                if exc.code == NOT_FOUND:
                    return None
                raise

    # -- one pass ------------------------------------------------------------------------------
    async def sync_pass(self, conn: GmailConnection) -> SyncReport:
        folder_id, cursor, synced_before = await asyncio.to_thread(self._load, conn)
        target = StoreTarget(tenant_id=conn.tenant_id, account_id=conn.account_id, folder_id=folder_id,
                             role=ROLE, uidvalidity=UIDVALIDITY, announce=synced_before)
        reset = False
        if cursor is None:
            added, bounces, history_id = await self._full(conn, target)
        else:
            try:
                added, bounces, history_id = await self._increment(conn, target, cursor)
            except HistoryExpired:
                # Only mail that arrived since the last sync is news; the rest was seen before.
                reset = True
                target = replace(target, announce_after=await asyncio.to_thread(self._synced_at, conn))
                added, bounces, history_id = await self._full(conn, target)
        await asyncio.to_thread(self._save, conn, folder_id, history_id, reset)
        return SyncReport(account_id=conn.account_id, folders=(
            FolderReport(folder=INBOX, role=ROLE, reset=reset, added=added, bounces=bounces),))

    async def _full(self, conn: GmailConnection, target: StoreTarget) -> tuple[int, int, str]:
        history_id = str((await conn.api.profile()).get("historyId") or "")
        since = self.clock.now() - self.window
        known = await asyncio.to_thread(self._known, target.folder_id)
        ids = [ref.id async for ref in conn.api.list_messages(query=f"after:{int(since.timestamp())}")
               if _storable(ref.id) and gmail_uid(ref.id) not in known]
        added, bounces = await self._fetch_and_store(conn, target, ids)
        return added, bounces, history_id

    async def _increment(self, conn: GmailConnection, target: StoreTarget, cursor: str) -> tuple[int, int, str]:
        ids: list[str] = []
        token: str | None = None
        history_id = cursor
        while True:
            page = await conn.api.history(cursor, page_token=token)
            ids.extend(ref.id for ref in page.added)
            history_id = page.history_id
            token = page.next_page_token
            if not token:
                break
        known = await asyncio.to_thread(self._known, target.folder_id)
        fresh = list(dict.fromkeys(i for i in ids if _storable(i) and gmail_uid(i) not in known))
        added, bounces = await self._fetch_and_store(conn, target, fresh)
        return added, bounces, history_id

    async def _fetch_and_store(self, conn: GmailConnection, target: StoreTarget,
                               ids: Sequence[str]) -> tuple[int, int]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(gmail_id: str) -> tuple[FetchedMessage, bytes | None] | None:
            async with gate:
                try:
                    message = await conn.api.get_message(gmail_id, fmt="metadata", headers=METADATA_HEADERS)
                except RemoteRejected as exc:
                    if exc.code == NOT_FOUND:  # deleted since it was listed
                        return None
                    raise
                fetched = _fetched(gmail_id, message)
                raw = None
                if fetched.summary.maybe_report:
                    raw = await conn.api.raw_message(gmail_id)
                return fetched, raw

        added = bounces = 0
        for start in range(0, len(ids), self.batch):
            results = [r for r in await asyncio.gather(*(one(i) for i in ids[start:start + self.batch]))
                       if r is not None]
            fetched = [f for f, _ in results]
            raws = {f.uid: raw for f, raw in results if raw is not None}
            got, _revived, found = await asyncio.to_thread(self.store.store_batch, target, fetched, raws, {})
            added, bounces = added + got, bounces + found
        return added, bounces

    # -- state -----------------------------------------------------------------------------------
    def _load(self, conn: GmailConnection) -> tuple[int, str | None, bool]:
        with self.store.db.session() as s:
            folder = InboxRepository(s).folder(tenant_id=conn.tenant_id, account_id=conn.account_id,
                                               name=INBOX, role=ROLE)
            row = s.get(ApiSyncCursor, conn.account_id)
            cursor = row.cursor if row is not None and row.transport == "gmail_api" else None
            return folder.id, cursor, folder.synced_at is not None or conn.passes > 0

    def _known(self, folder_id: int) -> set[int]:
        return set(self.store.in_repo(lambda repo: repo.stored_uids(folder_id=folder_id, uidvalidity=UIDVALIDITY)))

    def _synced_at(self, conn: GmailConnection) -> datetime | None:
        with self.store.db.session() as s:
            row = s.get(ApiSyncCursor, conn.account_id)
            return row.synced_at if row is not None else None

    def _save(self, conn: GmailConnection, folder_id: int, history_id: str, reset: bool) -> None:
        now = self.clock.now()
        with self.store.db.session() as s:
            row = s.get(ApiSyncCursor, conn.account_id)
            if row is None:
                row = ApiSyncCursor(account_id=conn.account_id, tenant_id=conn.tenant_id, transport="gmail_api",
                                    full_syncs=0, updated_at=now)
                s.add(row)
            row.transport, row.cursor, row.synced_at, row.updated_at = "gmail_api", history_id, now, now
            if reset:
                row.full_syncs = (row.full_syncs or 0) + 1
            InboxRepository(s).save_cursor(folder_id, synced_at=now)


def _storable(gmail_id: str) -> bool:
    if gmail_uid(gmail_id) is not None:
        return True
    log.warning("Gmail message id %s does not fit the store's uid column; skipped", gmail_id)
    return False


def _fetched(gmail_id: str, message: dict[str, Any]) -> FetchedMessage:
    """A ``format=metadata`` message as the store's :class:`FetchedMessage`."""
    headers = (message.get("payload") or {}).get("headers") or ()
    block = "".join(f"{h.get('name', '')}: {h.get('value', '')}\r\n" for h in headers
                    if h.get("name")).encode("utf-8", "replace") + b"\r\n"
    summary = summarize(block)
    snippet = str(message.get("snippet") or "")
    if snippet:
        summary = replace(summary, snippet=snippet[:300])
    try:
        internal = datetime.fromtimestamp(int(message.get("internalDate") or 0) / 1000, UTC)
    except (TypeError, ValueError):
        internal = None
    labels = set(message.get("labelIds") or ())
    flags = () if "UNREAD" in labels else ("\\Seen",)
    uid = gmail_uid(gmail_id)
    assert uid is not None  # _storable() checked it
    return FetchedMessage(uid=uid, flags=flags, size=int(message.get("sizeEstimate") or 0),
                          internal_date=internal, modseq=None, summary=summary)


