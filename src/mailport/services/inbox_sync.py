"""The inbox sync engine: keeps many accounts synced from one asyncio worker process.

It claims accounts by lease (``inbox_sync`` rows; on PostgreSQL each account has exactly one
owner) and runs one asyncio task per account: pick the account's
:class:`~mailport.services.mailbox_sync.MailboxSync` (IMAP, or a mail API), connect, sync, wait
for a change (IDLE, or a poll where the server has none), sync again — and reconnect with
exponential backoff and jitter after a failure, recording the diagnosis for the UI. There is no
thread per account.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from datetime import timedelta

from mailport.adapters.imap import Wakeup
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.inbox_repository import LeaseRepository
from mailport.clock import Clock
from mailport.errors import MailportError, RemoteError, ValidationError
from mailport.services.inbox_store import InboxStore
from mailport.services.mailbox_sync import MailboxSyncs

log = logging.getLogger(__name__)

__all__ = ["InboxSyncEngine"]


class InboxSyncEngine:
    """Keeps many accounts synced from one asyncio process (see the module docstring)."""

    def __init__(
        self, *, syncs: MailboxSyncs, store: InboxStore, db: Database, clock: Clock, worker_id: str,
        max_accounts: int = 1000, lease: timedelta = timedelta(seconds=90),
        idle_timeout: float = 20 * 60, poll_interval: float = 120.0, claim_interval: float = 5.0,
        backoff_base: float = 2.0, backoff_cap: float = 300.0, rng: random.Random | None = None,
    ) -> None:
        self.syncs = syncs
        self.store = store
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
        self._wake: dict[str, Wakeup] = {}

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
                await self._tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.claim_interval)
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
            self._wake[account_id] = Wakeup()
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

        await asyncio.to_thread(release)

    async def _account(self, tenant_id: str, account_id: str) -> None:
        """Connect, sync, wait for a change, repeat; reconnect with backoff after failures."""
        failures = 0
        wake = self._wake[account_id]
        while True:
            try:
                await asyncio.to_thread(self.store.set_state, tenant_id, account_id, state="syncing")
                mailbox = await self.syncs.for_account(tenant_id, account_id)
                async with mailbox.connect(tenant_id, account_id) as conn:
                    self.connected.add(account_id)
                    while True:
                        await conn.sync_pass()
                        failures = 0
                        await asyncio.to_thread(self.store.record_success, tenant_id, account_id)
                        wake.clear()
                        await conn.wait_for_change(wake=wake, timeout=min(self.idle_timeout, self.poll_interval))
            except asyncio.CancelledError:
                raise
            except (MailportError, OSError) as exc:
                self.connected.discard(account_id)
                failures = await asyncio.to_thread(self.store.record_failure, tenant_id, account_id, exc)
                if isinstance(exc, ValidationError) or (isinstance(exc, RemoteError)
                                                        and exc.code.startswith("auth.")):
                    # Wrong settings or credentials: retrying fast only earns an anvil penalty.
                    delay = self.backoff_cap
                else:
                    delay = self.backoff(failures)
                log.info("inbox sync of %s failed (%s); retrying in %.1f s", account_id,
                         getattr(exc, "code", type(exc).__name__), delay)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await wake.wait()
                wake.clear()
