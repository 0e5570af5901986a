"""Inbox sync through Microsoft Graph: the :class:`~mailport.services.mailbox_sync.MailboxSync` of
``graph`` accounts whose grant includes ``Mail.Read`` (the ``send_and_inbox`` profile).

One pass:

1. load the account's stored delta link (``api_sync_cursors``);
2. none yet (**initial**): ``/me/mailFolders/inbox/messages/delta`` with
   ``$filter=receivedDateTime ge <window start>``, page by page (``@odata.nextLink``) to the
   ``@odata.deltaLink``;
3. otherwise (**increment**): follow the stored delta link the same way — only what changed;
4. Graph answers 410 (``SyncStateNotFound``) for a link it no longer knows: a **full resync** of
   the window (:meth:`mailport.adapters.graph.GraphMailbox.delta` restarts by itself), storing
   only messages the store does not have yet, announcing only mail newer than the last sync;
5. store the new delta link.

Messages go into the same store as IMAP mail (:class:`~mailport.services.inbox_store.InboxStore`):
summaries from the ``internetMessageHeaders`` through :func:`~mailport.core.summary.summarize`,
contact participants, reply links, the bounce parser (possible delivery reports are fetched whole,
``$value``) and ``message.received`` events. A Graph message id is an opaque string of ~150
characters; the row's ``uid`` (``uidvalidity`` 1) is a 63-bit hash of it, stable across passes and
resyncs, so nothing is stored twice. To read a message's bytes later, :meth:`fetch_raw` finds it
again by its ``Message-ID`` (``$filter=internetMessageId eq …``).

Graph's change notifications need a public HTTPS endpoint, which an embedded product cannot
assume: the connection polls (``poll_interval``) or wakes up on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mailport.adapters.graph import GraphMailbox, GraphMessage, graph_api
from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.adapters.storage.tables_api_sync import ApiSyncCursor
from mailport.clock import Clock
from mailport.core.summary import FetchedMessage
from mailport.core.syncplan import DEFAULT_WINDOW
from mailport.core.verification import AccountConfig
from mailport.services.api_send import graph_base_url
from mailport.services.inbox_store import InboxStore, StoreTarget
from mailport.services.mailbox_sync import FolderReport, RawLocation, SyncReport
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

__all__ = ["GraphConnection", "GraphMailboxSync", "graph_uid"]

UIDVALIDITY = 1
INBOX, ROLE, TRANSPORT = "INBOX", "inbox", "graph"


def graph_uid(graph_id: str) -> int:
    """The ``uid`` a Graph message id is stored as: 63 bits of its SHA-256 (positive in a signed
    64-bit column; a collision within one inbox is about as likely as a SHA-256 break)."""
    return int.from_bytes(hashlib.sha256(graph_id.encode()).digest()[:8], "big") >> 1


@dataclass(slots=True)
class GraphConnection:
    """One account's Graph mailbox for a sync session (a ``MailboxConnection``)."""

    owner: GraphMailboxSync
    tenant_id: str
    account_id: str
    box: GraphMailbox
    passes: int = 0

    async def sync_pass(self) -> SyncReport:
        report = await self.owner.sync_pass(self)
        self.passes += 1
        return report

    async def wait_for_change(self, *, wake: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), min(timeout, self.owner.poll_interval))


class GraphMailboxSync:
    def __init__(self, *, store: InboxStore, oauth: OAuthService, clock: Clock, settings: Settings,
                 window: timedelta = DEFAULT_WINDOW, poll_interval: float = 60.0, page_size: int = 200) -> None:
        self.store = store
        self.oauth = oauth
        self.clock = clock
        self.settings = settings
        self.window = window
        self.poll_interval = poll_interval
        self.page_size = page_size

    def handles(self, config: AccountConfig) -> bool:
        # ``imap`` None: a send-only grant — there is no inbox to sync.
        return config.transport == TRANSPORT and config.imap is not None

    def server(self, config: AccountConfig) -> str:
        """Connections are paced per server; for the API that is Microsoft Graph's endpoint."""
        return self.settings.graph_api_url or "https://graph.microsoft.com"

    def _api(self, tenant_id: str, account_id: str) -> GraphMailbox:
        api = graph_api(tokens=self.oauth.token_source(tenant_id, account_id), base_url=graph_base_url(self.settings),
                        timeout=self.settings.provider_api_timeout, ca_file=self.settings.ca_file)
        return GraphMailbox(api, page_size=self.page_size)

    @asynccontextmanager
    async def connect(self, tenant_id: str, account_id: str) -> AsyncIterator[GraphConnection]:
        box = self._api(tenant_id, account_id)
        async with box.api:
            yield GraphConnection(owner=self, tenant_id=tenant_id, account_id=account_id, box=box)

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        if where.uid is None:
            return None
        header_id = await asyncio.to_thread(self._header_id, account_id, where.uid)
        if not header_id:
            return None
        box = self._api(tenant_id, account_id)
        async with box.api:
            graph_id = await box.find_id(f"<{header_id}>")
            return await box.message_mime(graph_id) if graph_id else None

    # -- one pass ------------------------------------------------------------------------------
    async def sync_pass(self, conn: GraphConnection) -> SyncReport:
        folder_id, link, synced_before, synced_at = await asyncio.to_thread(self._load, conn)
        target = StoreTarget(tenant_id=conn.tenant_id, account_id=conn.account_id, folder_id=folder_id,
                             role=ROLE, uidvalidity=UIDVALIDITY, announce=synced_before)
        known = await asyncio.to_thread(self._known, folder_id)
        added = bounces = 0
        reset = False
        new_link: str | None = None
        async for page in conn.box.delta(link, since=self.clock.now() - self.window):
            if page.full_resync and not reset:
                # Only mail that arrived since the last sync is news; the rest was seen before.
                reset = True
                target = replace(target, announce_after=synced_at)
            fresh = [m for m in page.messages if graph_uid(m.id) not in known]
            if fresh:
                fetched = [_fetched(m) for m in fresh]
                raws = {graph_uid(m.id): m.raw for m in fresh if m.raw is not None}
                got, _revived, found = await asyncio.to_thread(self.store.store_batch, target, fetched, raws, {})
                added, bounces = added + got, bounces + found
                known.update(f.uid for f in fetched)
            if page.delta_link:
                new_link = page.delta_link
        await asyncio.to_thread(self._save, conn, folder_id, new_link or link, reset)
        return SyncReport(account_id=conn.account_id, folders=(
            FolderReport(folder=INBOX, role=ROLE, reset=reset, added=added, bounces=bounces),))

    # -- state -----------------------------------------------------------------------------------
    def _load(self, conn: GraphConnection) -> tuple[int, str | None, bool, datetime | None]:
        with self.store.db.session() as s:
            folder = InboxRepository(s).folder(tenant_id=conn.tenant_id, account_id=conn.account_id,
                                               name=INBOX, role=ROLE)
            row = s.get(ApiSyncCursor, conn.account_id)
            mine = row is not None and row.transport == TRANSPORT
            return (folder.id, row.cursor if mine and row is not None else None,
                    folder.synced_at is not None or conn.passes > 0, row.synced_at if mine and row else None)

    def _known(self, folder_id: int) -> set[int]:
        return set(self.store.in_repo(lambda repo: repo.stored_uids(folder_id=folder_id, uidvalidity=UIDVALIDITY)))

    def _header_id(self, account_id: str, uid: int) -> str | None:
        with self.store.db.session() as s:
            return InboxRepository(s).header_message_id(account_id=account_id, uidvalidity=UIDVALIDITY, uid=uid)

    def _save(self, conn: GraphConnection, folder_id: int, link: str | None, reset: bool) -> None:
        now = self.clock.now()
        with self.store.db.session() as s:
            row = s.get(ApiSyncCursor, conn.account_id)
            if row is None:
                row = ApiSyncCursor(account_id=conn.account_id, tenant_id=conn.tenant_id, transport=TRANSPORT,
                                    full_syncs=0, updated_at=now)
                s.add(row)
            row.transport, row.cursor, row.synced_at, row.updated_at = TRANSPORT, link, now, now
            if reset:
                row.full_syncs = (row.full_syncs or 0) + 1
            InboxRepository(s).save_cursor(folder_id, synced_at=now)


def _fetched(message: GraphMessage) -> FetchedMessage:
    return FetchedMessage(uid=graph_uid(message.id), flags=("\\Seen",) if message.is_read else (), size=0,
                          internal_date=message.received_at, modseq=None, summary=message.summary)
