"""The seam between the inbox sync engine and one way of reading a mailbox.

The engine (:mod:`mailport.services.inbox_sync`) knows leases, tasks and backoff; it knows nothing
about IMAP. For each account it asks :class:`MailboxSyncs` for the :class:`MailboxSync` that
handles the account (IMAP today, :mod:`mailport.services.imap_sync`; an HTTP mail API such as
Gmail's or Microsoft Graph's plugs in the same way), opens a :class:`MailboxConnection` with it,
and then loops: :meth:`~MailboxConnection.sync_pass`, :meth:`~MailboxConnection.backfill`,
:meth:`~MailboxConnection.wait_for_change`.
Reading a message's whole bytes on demand goes through :meth:`MailboxSync.fetch_raw`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from mailport.core.verification import AccountConfig
from mailport.errors import ValidationError

__all__ = [
    "AccountSettings",
    "FolderReport",
    "MailboxConnection",
    "MailboxSync",
    "MailboxSyncs",
    "RawLocation",
    "SyncReport",
]


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
class RawLocation:
    """Where a stored message lives on the server (what the store remembered at sync time)."""

    folder: str
    uidvalidity: int | None
    uid: int | None


class MailboxConnection(Protocol):
    """An open, authenticated link to one account's mailbox."""

    async def sync_pass(self) -> SyncReport:
        """Bring the synced folders into the store (the first pass is the initial sync)."""
        ...

    async def backfill(self) -> bool:
        """Complete what a pass listed without (IMAP: snippets a lazy first sync left out); True
        when it used the connection, so the caller syncs again before waiting for changes."""
        ...

    async def wait_for_change(self, *, wake: asyncio.Event, timeout: float) -> None:
        """Return when the server reports a change, ``wake`` is set or ``timeout`` passes."""
        ...


class MailboxSync(Protocol):
    """One way of syncing mailboxes (one per protocol or mail API)."""

    def handles(self, config: AccountConfig) -> bool:
        """Whether this implementation syncs an account with these settings."""
        ...

    def server(self, config: AccountConfig) -> str:
        """Where the account's connections go (new connections are paced per server)."""
        ...

    def connect(self, tenant_id: str, account_id: str) -> AbstractAsyncContextManager[MailboxConnection]:
        """Open (and at the end of the block close) a connection to the account's mailbox."""
        ...

    async def fetch_raw(self, tenant_id: str, account_id: str, where: RawLocation) -> bytes | None:
        """The message's whole RFC 5322 bytes, or None when it is gone from the server."""
        ...


class AccountSettings(Protocol):
    """Where an account's settings come from (``services.accounts.AccountService`` fits)."""

    def connection(self, tenant_id: str, account_id: str) -> tuple[AccountConfig, Any]: ...


class MailboxSyncs:
    """Picks the implementation for an account: the first registered one that handles it."""

    def __init__(self, implementations: Sequence[MailboxSync], *, accounts: AccountSettings) -> None:
        self.implementations = list(implementations)
        self.accounts = accounts

    async def for_account(self, tenant_id: str, account_id: str) -> tuple[MailboxSync, str]:
        """The implementation for the account, and the server its connections go to."""
        config, _ = await asyncio.to_thread(self.accounts.connection, tenant_id, account_id)
        implementation = self.for_config(config)
        return implementation, implementation.server(config)

    def register(self, implementation: MailboxSync, *, first: bool = True) -> None:
        """Add an implementation (ahead of the others by default: API syncs take precedence)."""
        if first:
            self.implementations.insert(0, implementation)
        else:
            self.implementations.append(implementation)

    def for_config(self, config: AccountConfig) -> MailboxSync:
        for implementation in self.implementations:
            if implementation.handles(config):
                return implementation
        raise ValidationError("this account has no inbox settings", code="inbox.no_imap", field="imap")
