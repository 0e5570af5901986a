"""Inbox sync through a mail API: one pass loop for every provider, the provider's fetch steps apart.

:class:`ApiMailboxSync` is the :class:`~mailport.services.mailbox_sync.MailboxSync` shared by the
Gmail API (:mod:`mailport.services.gmail_sync`) and Microsoft Graph (:mod:`mailport.services.graph_sync`).
A pass, read top to bottom in :meth:`ApiMailboxSync.sync_pass`:

1. load the account's stored cursor (``api_sync_cursors``: a Gmail ``historyId``, a Graph delta
   link) and the uids already stored;
2. let the provider's :meth:`~ApiMailboxSync.batches` fetch what is new — the initial window when
   there is no cursor, else the increment since it, or the whole window again when the provider
   no longer knows the cursor (a **full resync**, :attr:`ApiPass.full_resync`) — and store each
   batch (:meth:`~mailport.services.inbox_store.InboxStore.store_batch`: summaries, contacts,
   reply and bounce links, ``message.received``); after a full resync only mail newer than the
   last sync is announced;
3. save the new cursor.

There is no IDLE for an API (push needs a public endpoint, which an embedded product cannot
assume): :meth:`ApiConnection.wait_for_change` polls every ``poll_interval`` or on a wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, aclosing
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.adapters.storage.tables_api_sync import ApiSyncCursor
from mailport.clock import Clock
from mailport.core.summary import FetchedMessage
from mailport.core.syncplan import DEFAULT_WINDOW
from mailport.core.verification import AccountConfig
from mailport.services.inbox_store import InboxStore, StoreTarget
from mailport.services.mailbox_sync import FolderReport, RawLocation, SyncReport
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

__all__ = ["INBOX", "ROLE", "UIDVALIDITY", "ApiBatch", "ApiConnection", "ApiMailboxSync", "ApiPass"]

UIDVALIDITY = 1  # an API's message ids are stable: one "UIDVALIDITY" forever
INBOX, ROLE = "INBOX", "inbox"

ClientT = TypeVar("ClientT")


@dataclass(slots=True)
class ApiPass:
    """What one pass's fetch steps start from, and what they found out."""

    cursor: str | None
    """The stored cursor (None: the first sync, or after another transport's)."""
    since: datetime
    """The window's start: the initial sync (and a full resync) fetch mail from here on."""
    known: set[int] = field(default_factory=set)
    """Uids already stored: not fetched (or not stored) again."""
    new_cursor: str | None = None
    """Set by the steps: where the next increment starts (None keeps the old one)."""
    full_resync: bool = False
    """Set by the steps when the provider no longer knew the cursor and the window is fetched again."""


ApiBatch = Sequence[tuple[FetchedMessage, bytes | None]]
"""Fetched messages, each with its whole bytes when it may be a delivery report."""


@dataclass(slots=True)
class ApiConnection(Generic[ClientT]):
    """One account's mail API for a sync session (a ``MailboxConnection``)."""

    owner: ApiMailboxSync[ClientT]
    tenant_id: str
    account_id: str
    client: ClientT
    passes: int = 0

    async def sync_pass(self) -> SyncReport:
        report = await self.owner.sync_pass(self)
        self.passes += 1
        return report

    async def backfill(self) -> bool:
        return False  # the APIs' snippets come with the listing

    async def wait_for_change(self, *, wake: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), min(timeout, self.owner.poll_interval))


class ApiMailboxSync(Generic[ClientT]):
    """The pass loop; a provider subclass says which accounts it takes, how to reach the API
    (:meth:`client`, :meth:`server`, :meth:`fetch_raw`) and how to fetch (:meth:`batches`)."""

    transport: str = ""

    def __init__(self, *, store: InboxStore, oauth: OAuthService, clock: Clock, settings: Settings,
                 window: timedelta = DEFAULT_WINDOW, poll_interval: float = 60.0) -> None:
        self.store = store
        self.oauth = oauth
        self.clock = clock
        self.settings = settings
        self.window = window
        self.poll_interval = poll_interval

    # -- what a provider says ------------------------------------------------------------------
    def handles(self, config: AccountConfig) -> bool:
        # ``imap`` None: a send-only grant — there is no inbox to sync.
        return config.transport == self.transport and config.imap is not None

    def server(self, config: AccountConfig) -> str:
        """Connections are paced per server; for an API that is the provider's endpoint."""
        raise NotImplementedError

    def client(self, tenant_id: str, account_id: str) -> AbstractAsyncContextManager[ClientT]:
        """The account's API client, closed at the end of the block."""
        raise NotImplementedError

    def batches(self, conn: ApiConnection[ClientT], state: ApiPass) -> AsyncGenerator[ApiBatch, None]:
        """The provider's fetch steps for one pass: batches of new messages (one database
        transaction each), setting ``state.new_cursor`` and, on a full resync, ``state.full_resync``
        before the first batch of it."""
        raise NotImplementedError

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        raise NotImplementedError

    # -- the loop ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def connect(self, tenant_id: str, account_id: str) -> AsyncIterator[ApiConnection[ClientT]]:
        async with self.client(tenant_id, account_id) as client:
            yield ApiConnection(owner=self, tenant_id=tenant_id, account_id=account_id, client=client)

    async def sync_pass(self, conn: ApiConnection[ClientT]) -> SyncReport:
        folder_id, cursor, synced_before, synced_at = await asyncio.to_thread(self._load, conn)
        target = StoreTarget(tenant_id=conn.tenant_id, account_id=conn.account_id, folder_id=folder_id,
                             role=ROLE, uidvalidity=UIDVALIDITY, announce=synced_before)
        state = ApiPass(cursor=cursor, since=self.clock.now() - self.window,
                        known=await asyncio.to_thread(self._known, folder_id))
        added = bounces = 0
        reset = False
        async with aclosing(self.batches(conn, state)) as steps:
            async for batch in steps:
                if state.full_resync and not reset:
                    # Only mail that arrived since the last sync is news; the rest was seen before.
                    reset = True
                    target = replace(target, announce_after=synced_at)
                fresh = [(f, raw) for f, raw in batch if f.uid not in state.known]
                if not fresh:
                    continue
                fetched = [f for f, _ in fresh]
                raws = {f.uid: raw for f, raw in fresh if raw is not None}
                got, _revived, found = await asyncio.to_thread(self.store.store_batch, target, fetched, raws, {})
                added, bounces = added + got, bounces + found
                state.known.update(f.uid for f in fetched)
        reset = reset or state.full_resync
        await asyncio.to_thread(self._save, conn, folder_id, state.new_cursor or cursor, reset)
        return SyncReport(account_id=conn.account_id, folders=(
            FolderReport(folder=INBOX, role=ROLE, reset=reset, added=added, bounces=bounces),))

    # -- state -----------------------------------------------------------------------------------
    def _load(self, conn: ApiConnection[ClientT]) -> tuple[int, str | None, bool, datetime | None]:
        with self.store.db.session() as s:
            folder = InboxRepository(s).folder(tenant_id=conn.tenant_id, account_id=conn.account_id,
                                               name=INBOX, role=ROLE)
            row = s.get(ApiSyncCursor, conn.account_id)
            mine = row if row is not None and row.transport == self.transport else None
            return (folder.id, mine.cursor if mine else None, folder.synced_at is not None or conn.passes > 0,
                    mine.synced_at if mine else None)

    def _known(self, folder_id: int) -> set[int]:
        return set(self.store.in_repo(lambda repo: repo.stored_uids(folder_id=folder_id, uidvalidity=UIDVALIDITY)))

    def _save(self, conn: ApiConnection[ClientT], folder_id: int, cursor: str | None, reset: bool) -> None:
        now = self.clock.now()
        with self.store.db.session() as s:
            row = s.get(ApiSyncCursor, conn.account_id)
            if row is None:
                row = ApiSyncCursor(account_id=conn.account_id, tenant_id=conn.tenant_id, transport=self.transport,
                                    full_syncs=0, updated_at=now)
                s.add(row)
            row.transport, row.cursor, row.synced_at, row.updated_at = self.transport, cursor, now, now
            if reset:
                row.full_syncs = (row.full_syncs or 0) + 1
            InboxRepository(s).save_cursor(folder_id, synced_at=now)
