"""Inbox sync over IMAP: the :class:`~mailport.services.mailbox_sync.MailboxSync` for accounts with
IMAP settings.

One pass syncs Sent, then INBOX (left selected for IDLE). One folder, in :meth:`ImapMailboxSync.sync_folder`,
read top to bottom:

1. load the folder's stored cursor (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ);
2. EXAMINE it (with QRESYNC's resume data when enabled) and let :func:`~mailport.core.syncplan.plan_folder`
   decide what to fetch;
3. on a new or changed UIDVALIDITY (**reset**): mark the stored rows stale, search the window
   (default 90 days), fetch and store it, delete the stale rows nobody took back — re-fetched
   messages are matched to stale rows by Message-ID so their ids survive;
4. otherwise (**increment**): fetch and store UIDs from UIDNEXT, find expunged UIDs (VANISHED with
   QRESYNC, else a UID comparison), refresh flags (CHANGEDSINCE with CONDSTORE, else all), apply;
5. save the new cursor.

Messages that look like delivery reports are read whole so the store can link the bounce.

A reset (the first sync) lists the window without opening every message on the server: where it
makes previews, only those it has at hand are taken (``PREVIEW (LAZY)``), and
:meth:`ImapMailboxSync.fill_snippets` — the connection's :meth:`ImapConnection.backfill`, which
the engine runs once the listing is stored and before it waits for changes — fetches the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from mailport.adapters.imap import FETCH_BATCH, ImapSession, Mailbox, SyncSession, find_special_use
from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.adapters.transport import AddressResolver
from mailport.clock import Clock
from mailport.core.summary import FetchedMessage
from mailport.core.syncplan import DEFAULT_WINDOW, FolderCursor, advance, expunged, plan_folder
from mailport.core.verification import AccountConfig
from mailport.errors import RemoteAuthError, ValidationError
from mailport.services.accounts import AccountService
from mailport.services.inbox_store import InboxStore, StoreTarget
from mailport.services.mailbox_sync import FolderReport, RawLocation, SyncReport
from mailport.settings import Settings

__all__ = ["ImapConnection", "ImapMailboxSync", "TokenSource"]


class TokenSource(Protocol):
    """Hands out OAuth access tokens (``services.oauth.OAuthService`` fits)."""

    async def access_token(self, tenant_id: str, account_id: str, *,
                           rejected_token: str | None = None) -> str: ...


@dataclass(slots=True)
class ImapConnection:
    """An open IMAP session for one account (a :class:`~mailport.services.mailbox_sync.MailboxConnection`)."""

    owner: ImapMailboxSync
    tenant_id: str
    account_id: str
    email: str
    sync: SyncSession
    # Whether stored messages of this account wait for a snippet: set by a pass that stored such
    # messages or found some stored (a fill cut short by a restart), cleared by a backfill. An
    # idle account's passes then cost no lookup of their own.
    snippets_pending: bool = False

    async def sync_pass(self) -> SyncReport:
        return await self.owner.sync_pass(self)

    async def backfill(self) -> bool:
        """Fill the snippets the listing left out (see the module docstring); True when it used
        the connection (sync again before waiting: what arrived meanwhile was not watched)."""
        return await self.owner.fill_snippets(self)

    async def wait_for_change(self, *, wake: asyncio.Event, timeout: float) -> None:
        """IDLE on INBOX until the server reports a change; poll where the server has no IDLE."""
        if not self.sync.can_idle:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await wake.wait()
            return
        await self.sync.idle(timeout=timeout, stop=wake)


class ImapMailboxSync:
    def __init__(
        self, *, store: InboxStore, accounts: AccountService, clock: Clock, settings: Settings,
        resolver: AddressResolver, window: timedelta = DEFAULT_WINDOW, tokens: TokenSource | None = None,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.clock = clock
        self.settings = settings
        self.resolver = resolver
        self.window = window
        self.tokens = tokens
        self.fetch_batch = FETCH_BATCH  # messages per UID FETCH and per database transaction

    def handles(self, config: AccountConfig) -> bool:
        # A Gmail API / Graph account reads its inbox through the API, never over IMAP (its grant
        # has no IMAP scope).
        return config.imap is not None and config.transport == "smtp_imap"

    def server(self, config: AccountConfig) -> str:
        return f"imap://{config.imap.ascii_host}:{config.imap.port}" if config.imap else "imap://"

    # -- connecting --------------------------------------------------------------------------------
    @asynccontextmanager
    async def connect(self, tenant_id: str, account_id: str) -> AsyncIterator[ImapConnection]:
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
            yield ImapConnection(owner=self, tenant_id=tenant_id, account_id=account_id, email=config.email,
                                 sync=sync)
        except BaseException as exc:
            if not await session_cm.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await session_cm.__aexit__(None, None, None)

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        if where.uid is None:
            return None
        async with self.connect(tenant_id, account_id) as conn:
            opened = await conn.sync.examine(where.folder)
            if opened.snapshot.uidvalidity != where.uidvalidity:
                return None
            return await conn.sync.fetch_raw(where.uid)

    # -- one pass ----------------------------------------------------------------------------------
    async def sync_pass(self, conn: ImapConnection) -> SyncReport:
        """Sync Sent, then INBOX (left selected, ready for IDLE)."""
        mailboxes = await conn.sync.session.list_mailboxes()
        targets: list[tuple[str, str]] = []
        sent = find_special_use(mailboxes, "\\Sent")
        if sent is not None and sent.name.upper() != "INBOX":
            targets.append((sent.name, "sent"))
        targets.append((_inbox_name(mailboxes), "inbox"))
        reports = [await self.sync_folder(conn, name, role) for name, role in targets]
        return SyncReport(account_id=conn.account_id, folders=tuple(reports))

    async def sync_folder(self, conn: ImapConnection, name: str, role: str) -> FolderReport:
        # Database work runs in threads: the event loop serves every other account's connection.
        sync, store = conn.sync, self.store
        now = self.clock.now()

        # 1. What we know.
        def load() -> tuple[int, FolderCursor | None, int, datetime | None, list[int], bool]:
            with store.transaction() as s:
                repo = InboxRepository(s)
                folder = repo.folder(tenant_id=conn.tenant_id, account_id=conn.account_id, name=name, role=role)
                cursor = None if folder.uidvalidity is None or folder.uidnext is None else FolderCursor(
                    uidvalidity=folder.uidvalidity, uidnext=folder.uidnext,
                    highestmodseq=folder.highestmodseq, window_start=folder.window_start)
                known: list[int] = []
                if cursor is not None and sync.qresync and cursor.highestmodseq:
                    known = sorted(repo.stored_uids(folder_id=folder.id, uidvalidity=cursor.uidvalidity))
                pending = cursor is not None and not conn.snippets_pending and bool(repo.pending_snippet_uids(
                    folder_id=folder.id, uidvalidity=cursor.uidvalidity, limit=1))
                return folder.id, cursor, repo.count(folder_id=folder.id), folder.synced_at, known, pending

        folder_id, cursor, stored_count, last_synced, known, pending = await asyncio.to_thread(load)
        conn.snippets_pending = conn.snippets_pending or pending

        # 2. What the server has, and the plan.
        resume = ((cursor.uidvalidity, cursor.highestmodseq, known)
                  if cursor is not None and cursor.highestmodseq and sync.qresync else None)
        opened = await sync.examine(name, resume=resume)
        snap = opened.snapshot
        plan = plan_folder(cursor=cursor, snapshot=snap, today=now.date(), window=self.window,
                           condstore=sync.condstore, qresync=sync.qresync, stored_count=stored_count)
        added = revived = removed = flags_changed = bounces = 0
        highest_modseq = snap.highestmodseq
        seen: list[int] = []

        if plan.reset:
            # 3. Reset: the window again; stale rows are taken back by Message-ID or deleted.
            if stored_count:
                await asyncio.to_thread(store.in_repo, lambda repo: repo.mark_stale(folder_id=folder_id))
            assert plan.search_since is not None
            seen = await sync.uid_search_since(plan.search_since) if snap.exists else []
            target = StoreTarget(tenant_id=conn.tenant_id, account_id=conn.account_id, folder_id=folder_id,
                                 role=role, uidvalidity=snap.uidvalidity, announce=last_synced is not None,
                                 announce_after=last_synced)
            if seen:
                # The whole window: previews only where the server has them at hand (backfill fills the rest).
                added, revived, bounces = await self._fetch_and_store(conn, target, seen, stale=bool(stored_count),
                                                                      lazy_snippets=True)
            if stored_count:
                removed = await asyncio.to_thread(store.in_repo,
                                                  lambda repo: repo.delete_stale(folder_id=folder_id))
        else:
            # 4. Increment: new mail, expunged mail, changed flags.
            assert cursor is not None
            stored = await asyncio.to_thread(
                store.in_repo, lambda repo: repo.stored_uids(folder_id=folder_id, uidvalidity=snap.uidvalidity))
            gone: set[int] = set(opened.vanished)
            flag_updates: dict[int, tuple[str, ...]] = dict(opened.changed_flags)
            if plan.new_from_uid is not None:
                seen = [u for u in await sync.uid_search_from(plan.new_from_uid) if u not in stored]
                target = StoreTarget(tenant_id=conn.tenant_id, account_id=conn.account_id, folder_id=folder_id,
                                     role=role, uidvalidity=snap.uidvalidity, announce=True)
                if seen:
                    added, revived, bounces = await self._fetch_and_store(conn, target, seen, stale=False,
                                                                          lazy_snippets=False)
            if plan.find_expunged and stored:
                gone |= expunged(stored, await sync.uid_search_all())
            if plan.flags_changed_since is not None:
                for uid, flags, modseq in await sync.fetch_flags(changed_since=plan.flags_changed_since):
                    flag_updates[uid] = flags
                    if modseq and (highest_modseq is None or modseq > highest_modseq):
                        highest_modseq = modseq
            elif plan.refresh_all_flags and stored:
                for uid, flags, _ in await sync.fetch_flags(sorted(stored)):
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
                removed = await asyncio.to_thread(store.in_repo, apply)
                flags_changed = len(changes)

        # 5. The new cursor.
        new_cursor = advance(snapshot=snap, seen_uids=seen, previous=cursor,
                             window_start=plan.search_since, highestmodseq=highest_modseq)
        synced_at = self.clock.now()
        await asyncio.to_thread(store.in_repo, lambda repo: repo.save_cursor(
            folder_id, uidvalidity=new_cursor.uidvalidity, uidnext=new_cursor.uidnext,
            highestmodseq=new_cursor.highestmodseq, window_start=new_cursor.window_start, synced_at=synced_at))
        return FolderReport(folder=name, role=role, reset=plan.reset, added=added, revived=revived,
                            removed=removed, flags_changed=flags_changed, bounces=bounces)

    async def _fetch_and_store(self, conn: ImapConnection, target: StoreTarget, uids: Sequence[int], *,
                               stale: bool, lazy_snippets: bool) -> tuple[int, int, int]:
        """Fetch summaries of ``uids`` and store them; returns (added, revived, bounces).

        One streamed ``UID FETCH``; each batch is written (one transaction, in a thread) while the
        next is received and parsed. Possible delivery reports (INBOX only) are held back, read
        whole once the stream has ended (the connection is busy until then), and stored last.
        """
        totals = [0, 0, 0]
        stale_rows: dict[str, list[str]] = {}
        if stale:  # rows kept from before a UIDVALIDITY change, to be taken back by Message-ID
            stale_rows = await asyncio.to_thread(
                self.store.in_repo, lambda repo: repo.stale_by_message_id(folder_id=target.folder_id))
        storing: asyncio.Future[tuple[int, int, int]] | None = None

        async def store(batch: list[FetchedMessage], raws: dict[int, bytes]) -> None:
            nonlocal storing
            if storing is not None:
                for i, n in enumerate(await storing):
                    totals[i] += n
            storing = asyncio.ensure_future(asyncio.to_thread(self.store.store_batch, target, batch, raws,
                                                              stale_rows))

        reports: list[FetchedMessage] = []
        try:
            async with aclosing(conn.sync.stream_summaries(uids, batch=self.fetch_batch,
                                                           lazy_snippets=lazy_snippets)) as stream:
                async for fetched in stream:
                    if not conn.snippets_pending and any(m.snippet_pending for m in fetched):
                        conn.snippets_pending = True
                    if target.role == "inbox":
                        reports += [m for m in fetched if m.summary.maybe_report]
                        fetched = [m for m in fetched if not m.summary.maybe_report]
                    if fetched:
                        await store(fetched, {})
            raws: dict[int, bytes] = {}
            for item in reports:
                raw = await conn.sync.fetch_raw(item.uid)
                if raw is not None:
                    raws[item.uid] = raw
            if reports:
                await store(reports, raws)
            if storing is not None:
                for i, n in enumerate(await storing):
                    totals[i] += n
                storing = None
        finally:
            if storing is not None:
                # A failed fetch must not leave a write running behind the caller's back.
                with contextlib.suppress(Exception):
                    await storing
        return totals[0], totals[1], totals[2]


    async def fill_snippets(self, conn: ImapConnection) -> bool:
        """Fetch the snippets of messages listed without one, folder by folder (newest first,
        each batch stored as it arrives). Messages the server no longer has lose their pending
        mark (the next pass removes them). Returns whether any folder was opened: the caller then
        syncs again, as what arrived meanwhile was not watched (and INBOX is selected again)."""
        store, sync = self.store, conn.sync
        if not conn.snippets_pending:
            return False
        folders = await asyncio.to_thread(
            store.in_repo, lambda repo: repo.folders_with_pending_snippets(account_id=conn.account_id))
        conn.snippets_pending = False  # what arrives from here on comes with its snippet (or sets it again)
        for folder_id, name, uidvalidity in folders:
            opened = await sync.examine(name)
            if opened.snapshot.uidvalidity != uidvalidity:
                continue  # the next pass resets this folder

            def pending(repo: InboxRepository, f: int = folder_id, v: int = uidvalidity) -> list[int]:
                return repo.pending_snippet_uids(folder_id=f, uidvalidity=v, limit=self.fetch_batch * 20)

            def fill(repo: InboxRepository, snippets: dict[int, str], f: int = folder_id,
                     v: int = uidvalidity) -> int:
                return repo.set_snippets(folder_id=f, uidvalidity=v, snippets=snippets)

            while uids := await asyncio.to_thread(store.in_repo, pending):
                answered: set[int] = set()
                async with aclosing(sync.stream_snippets(uids, batch=self.fetch_batch)) as stream:
                    async for snippets in stream:
                        answered |= snippets.keys()
                        await asyncio.to_thread(store.in_repo, lambda repo, got=snippets: fill(repo, got))
                gone = dict.fromkeys(set(uids) - answered, "")
                if gone:
                    await asyncio.to_thread(store.in_repo, lambda repo, got=gone: fill(repo, got))
        return bool(folders)


def _inbox_name(mailboxes: Sequence[Mailbox]) -> str:
    for box in mailboxes:
        if box.name.upper() == "INBOX":
            return box.name
    return "INBOX"
