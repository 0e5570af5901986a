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

The pass loop (cursor, store, save) is :class:`~mailport.services.api_mailbox_sync.ApiMailboxSync`'s,
shared with Microsoft Graph; this module has the Gmail steps (:meth:`GmailMailboxSync.batches`).
Messages go into the same store as IMAP mail (:class:`~mailport.services.inbox_store.InboxStore`):
the same summaries (:func:`~mailport.core.summary.summarize` on the metadata headers), contact
participants, reply links, bounce parsing (possible delivery reports are fetched whole,
``format=raw``) and ``message.received`` events. A Gmail message id (16 hex digits, a millisecond
timestamp in its high bits) is stored as the row's ``uid`` (``uidvalidity`` 1), which is how
:meth:`GmailMailboxSync.fetch_raw` finds it again. An id that does not fit the signed 64-bit
column (none will before the year 2262) is skipped with a warning rather than stored under a
wrong number.

Gmail has no IDLE; push needs Cloud Pub/Sub, which an embedded product cannot assume. The
connection polls (:meth:`~mailport.services.api_mailbox_sync.ApiConnection.wait_for_change`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mailport.adapters.gmail import GMAIL_URL, NOT_FOUND, GmailApi, HistoryExpired
from mailport.clock import Clock
from mailport.core.summary import FetchedMessage, summarize
from mailport.core.syncplan import DEFAULT_WINDOW
from mailport.core.verification import AccountConfig
from mailport.errors import RemoteRejected
from mailport.services.api_mailbox_sync import ApiBatch, ApiConnection, ApiMailboxSync, ApiPass
from mailport.services.gmail import gmail_api_for
from mailport.services.inbox_store import InboxStore
from mailport.services.mailbox_sync import RawLocation
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["GmailConnection", "GmailMailboxSync", "gmail_uid", "uid_gmail_id"]

METADATA_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
                    "References", "Content-Type", "Content-Transfer-Encoding", "X-Failed-Recipients",
                    "Auto-Submitted")
_MAX_UID = 2**63 - 1

GmailConnection = ApiConnection[GmailApi]


def gmail_uid(gmail_id: str) -> int | None:
    """The ``uid`` a Gmail message id is stored as (``None`` when it does not fit the column)."""
    try:
        value = int(gmail_id, 16)
    except ValueError:
        return None
    return value if value <= _MAX_UID else None


def uid_gmail_id(uid: int) -> str:
    return f"{uid:016x}"


class GmailMailboxSync(ApiMailboxSync[GmailApi]):
    transport = "gmail_api"

    def __init__(self, *, store: InboxStore, oauth: OAuthService, clock: Clock, settings: Settings,
                 window: timedelta = DEFAULT_WINDOW, poll_interval: float = 60.0, concurrency: int = 8) -> None:
        super().__init__(store=store, oauth=oauth, clock=clock, settings=settings, window=window,
                         poll_interval=poll_interval)
        self.concurrency = concurrency
        self.batch = 100  # messages per database transaction

    def server(self, config: AccountConfig) -> str:
        return self.settings.gmail_api_url or GMAIL_URL

    def client(self, tenant_id: str, account_id: str) -> AbstractAsyncContextManager[GmailApi]:
        return gmail_api_for(self.oauth, self.settings, tenant_id, account_id)

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        if where.uid is None:
            return None
        async with self.client(tenant_id, account_id) as api:
            try:
                return await api.raw_message(uid_gmail_id(where.uid))
            except RemoteRejected as exc:
                if exc.code == NOT_FOUND:
                    return None
                raise

    # -- the Gmail steps of a pass ---------------------------------------------------------------
    async def batches(self, conn: GmailConnection, state: ApiPass) -> AsyncGenerator[ApiBatch, None]:
        """The history since the stored id (``users.history.list``), else — first sync, or an id
        Gmail no longer keeps (404) — the window (``users.messages.list``, ``after:``); then the
        new messages' headers (``format=metadata``), a few requests at a time."""
        ids: list[str] | None = None
        if state.cursor is not None:
            try:
                ids, state.new_cursor = await self._history(conn.client, state.cursor)
            except HistoryExpired:
                state.full_resync = True
        if ids is None:
            # The current historyId *before* listing: mail arriving meanwhile comes with the next increment.
            state.new_cursor = str((await conn.client.profile()).get("historyId") or "") or None
            ids = [ref.id async for ref in conn.client.list_messages(query=f"after:{int(state.since.timestamp())}")]
        fresh = list(dict.fromkeys(i for i in ids if _storable(i) and gmail_uid(i) not in state.known))
        for start in range(0, len(fresh), self.batch):
            yield await self._fetch(conn.client, fresh[start:start + self.batch])

    async def _history(self, api: GmailApi, cursor: str) -> tuple[list[str], str]:
        ids: list[str] = []
        token: str | None = None
        history_id = cursor
        while True:
            page = await api.history(cursor, page_token=token)
            ids.extend(ref.id for ref in page.added)
            history_id = page.history_id
            token = page.next_page_token
            if not token:
                return ids, history_id

    async def _fetch(self, api: GmailApi, ids: Sequence[str]) -> ApiBatch:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(gmail_id: str) -> tuple[FetchedMessage, bytes | None] | None:
            async with gate:
                try:
                    message = await api.get_message(gmail_id, fmt="metadata", headers=METADATA_HEADERS)
                except RemoteRejected as exc:
                    if exc.code == NOT_FOUND:  # deleted since it was listed
                        return None
                    raise
                fetched = _fetched(gmail_id, message)
                raw = await api.raw_message(gmail_id) if fetched.summary.maybe_report else None
                return fetched, raw

        return [r for r in await asyncio.gather(*(one(i) for i in ids)) if r is not None]


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
