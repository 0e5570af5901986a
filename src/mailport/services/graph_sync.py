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

The pass loop (cursor, store, save) is :class:`~mailport.services.api_mailbox_sync.ApiMailboxSync`'s,
shared with the Gmail API; this module has the Graph steps (:meth:`GraphMailboxSync.batches`).
Messages go into the same store as IMAP mail (:class:`~mailport.services.inbox_store.InboxStore`):
summaries from the ``internetMessageHeaders`` through :func:`~mailport.core.summary.summarize`,
contact participants, reply links, the bounce parser (possible delivery reports are fetched whole,
``$value``) and ``message.received`` events. A Graph message id is an opaque string of ~150
characters; the row's ``uid`` (``uidvalidity`` 1) is a 63-bit hash of it, stable across passes and
resyncs, so nothing is stored twice. To read a message's bytes later, :meth:`fetch_raw` finds it
again by its ``Message-ID`` (``$filter=internetMessageId eq …``).

Graph's change notifications need a public HTTPS endpoint, which an embedded product cannot
assume: the connection polls (``poll_interval``) or wakes up on demand
(:meth:`~mailport.services.api_mailbox_sync.ApiConnection.wait_for_change`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from mailport.adapters.graph import GraphMailbox, GraphMessage, graph_api
from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.clock import Clock
from mailport.core.summary import FetchedMessage
from mailport.core.syncplan import DEFAULT_WINDOW
from mailport.core.verification import AccountConfig
from mailport.services.api_mailbox_sync import (
    UIDVALIDITY,
    ApiBatch,
    ApiConnection,
    ApiMailboxSync,
    ApiPass,
)
from mailport.services.api_send import graph_base_url
from mailport.services.inbox_store import InboxStore
from mailport.services.mailbox_sync import RawLocation
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

__all__ = ["GraphConnection", "GraphMailboxSync", "graph_uid"]

GraphConnection = ApiConnection[GraphMailbox]


def graph_uid(graph_id: str) -> int:
    """The ``uid`` a Graph message id is stored as: 63 bits of its SHA-256 (positive in a signed
    64-bit column; a collision within one inbox is about as likely as a SHA-256 break)."""
    return int.from_bytes(hashlib.sha256(graph_id.encode()).digest()[:8], "big") >> 1


class GraphMailboxSync(ApiMailboxSync[GraphMailbox]):
    transport = "graph"

    def __init__(self, *, store: InboxStore, oauth: OAuthService, clock: Clock, settings: Settings,
                 window: timedelta = DEFAULT_WINDOW, poll_interval: float = 60.0, page_size: int = 200) -> None:
        super().__init__(store=store, oauth=oauth, clock=clock, settings=settings, window=window,
                         poll_interval=poll_interval)
        self.page_size = page_size

    def server(self, config: AccountConfig) -> str:
        return self.settings.graph_api_url or "https://graph.microsoft.com"

    def _api(self, tenant_id: str, account_id: str) -> GraphMailbox:
        api = graph_api(tokens=self.oauth.token_source(tenant_id, account_id), base_url=graph_base_url(self.settings),
                        timeout=self.settings.provider_api_timeout, ca_file=self.settings.ca_file)
        return GraphMailbox(api, page_size=self.page_size)

    @asynccontextmanager
    async def _open(self, tenant_id: str, account_id: str) -> AsyncIterator[GraphMailbox]:
        box = self._api(tenant_id, account_id)
        async with box.api:
            yield box

    def client(self, tenant_id: str, account_id: str) -> AbstractAsyncContextManager[GraphMailbox]:
        return self._open(tenant_id, account_id)

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        if where.uid is None:
            return None
        header_id = await asyncio.to_thread(self._header_id, account_id, where.uid)
        if not header_id:
            return None
        async with self.client(tenant_id, account_id) as box:
            graph_id = await box.find_id(f"<{header_id}>")
            return await box.message_mime(graph_id) if graph_id else None

    # -- the Graph steps of a pass ---------------------------------------------------------------
    async def batches(self, conn: GraphConnection, state: ApiPass) -> AsyncGenerator[ApiBatch, None]:
        """``/me/mailFolders/inbox/messages/delta`` from the stored link (or the window), page by
        page; a page per batch, the new delta link on the last one."""
        async for page in conn.client.delta(state.cursor, since=state.since):
            if page.full_resync:
                state.full_resync = True
            if page.delta_link:
                state.new_cursor = page.delta_link
            fresh = [m for m in page.messages if graph_uid(m.id) not in state.known]
            if fresh:
                yield [(_fetched(m), m.raw) for m in fresh]

    def _header_id(self, account_id: str, uid: int) -> str | None:
        with self.store.db.session() as s:
            return InboxRepository(s).header_message_id(account_id=account_id, uidvalidity=UIDVALIDITY, uid=uid)


def _fetched(message: GraphMessage) -> FetchedMessage:
    return FetchedMessage(uid=graph_uid(message.id), flags=("\\Seen",) if message.is_read else (), size=0,
                          internal_date=message.received_at, modseq=None, summary=message.summary)
