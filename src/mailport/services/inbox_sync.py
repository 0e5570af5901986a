"""The inbox sync engine: keeps many accounts synced from one asyncio worker process.

Every ``claim_interval`` the engine (:meth:`InboxSyncEngine._tick`) renews its leases once a third
of the lease has passed since it last did (``inbox_sync`` rows; on PostgreSQL each account has
exactly one owner; the ticks in between only read which of its accounts were disabled), reports
itself alive with the number of accounts it holds (``inbox_workers``), and works out its fair
share — the enabled accounts divided by the live workers. Below it, it claims more; above it (a
worker joined), it stops and releases the excess a step at a time so the newcomer can claim them.
A worker that dies stops reporting; once its leases run out the others' shares grow and they take
its accounts.

Each held account is one asyncio task: pick the account's
:class:`~mailport.services.mailbox_sync.MailboxSync` (IMAP, or a mail API), connect, sync, wait
for a change (IDLE, or a poll with jitter where the server has none), sync again. Connecting is
bounded: at most ``connect_concurrency`` accounts connect and run their first pass at once, and
new connections to one server are paced (``connect_rate`` a second), so a restart of a worker or
of a mail server does not turn into a stampede. After a failure an account reconnects with
exponential backoff and full jitter, recording the diagnosis for the UI. There is no thread per
account and no task besides the account's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import random
import time
from datetime import timedelta

from mailport.adapters.imap import Wakeup
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.inbox_repository import LeaseRepository
from mailport.clock import Clock
from mailport.core.pacing import ConnectPacer, fair_share
from mailport.errors import MailportError, RemoteError, StorageError, ValidationError
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
        connect_concurrency: int = 50, connect_rate: float = 100.0, claim_step: int = 250,
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
        self.claim_step = claim_step
        self.rng = rng or random.Random()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.connected: set[str] = set()
        self.waiting: set[str] = set()
        """Accounts synced and waiting for a change (in IDLE, or between polls)."""
        self.share: int | None = None
        """The fair share worked out at the last tick (None before the first)."""
        self._wake: dict[str, Wakeup] = {}
        self._connecting = asyncio.Semaphore(connect_concurrency)
        self._pacer = ConnectPacer(rate=connect_rate, burst=max(1.0, connect_rate / 2))
        self._renewed_at = -math.inf  # time.monotonic() of the last renewal of every held lease

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
                    if not exc.transient:
                        raise
                    # The database is away (logged once by the adapter); the accounts already
                    # synced go on, and the leases are renewed at the next tick that reaches it.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.claim_interval):
                        await stop.wait()
        finally:
            await self._stop_all()
            log.info("inbox sync %s stopped", self.worker_id)

    async def _tick(self) -> None:
        now = self.clock.now()
        until = now + self.lease
        owned = list(self.tasks)
        # Renewing writes every held lease (and its index entry): once a third of the lease is
        # enough. Done every tick, its cost grew with the accounts held — a sixth of the engine's
        # Python time while 5,000 accounts connected (bench/bench_imap.py, idle_large). In between,
        # a tick only reads which of ours were disabled.
        renewing = time.monotonic() - self._renewed_at >= self.lease.total_seconds() / 3

        def db_work() -> tuple[set[str], list[str], list[tuple[str, str]]]:
            with self.db.session() as s:
                leases = LeaseRepository(s)
                if renewing:
                    still = leases.renew(worker_id=self.worker_id, account_ids=owned, until=until)
                    self._renewed_at = time.monotonic()
                else:
                    still = set(owned) - leases.disabled(worker_id=self.worker_id)
                leases.heartbeat(worker_id=self.worker_id, now=now, accounts=len(still))
            with self.db.session() as s:
                leases = LeaseRepository(s)
                leases.ensure_rows(now=now)
                live = leases.live_workers(since=now - self.lease)
                share = fair_share(accounts=leases.enabled_count(), workers=len(live),
                                   limit=self.max_accounts)
                leases.forget_workers_before(before=now - 20 * self.lease)
            self.share = share
            # Above the share (a worker joined): hand back a step at a time; a small slack
            # keeps two workers from passing accounts back and forth.
            excess = len(still) - share - max(1, share // 50)
            shed = sorted(still)[:min(excess, self.claim_step)] if excess > 0 else []
            claimed: list[tuple[str, str]] = []
            free = share - len(still)
            if free > 0:
                with self.db.session() as s:
                    claimed = LeaseRepository(s).claim(worker_id=self.worker_id, now=now, until=until,
                                                       limit=min(free, self.claim_step))
            return still, shed, claimed

        still, shed, claimed = await asyncio.to_thread(db_work)
        for account_id in owned:
            if account_id not in still:
                log.warning("inbox sync %s lost the lease of %s; stopping it", self.worker_id, account_id)
                task = self.tasks.pop(account_id, None)
                if task is not None:
                    task.cancel()
        if shed:
            log.info("inbox sync %s hands %d accounts back (fair share %s)", self.worker_id, len(shed),
                     self.share)
            await self._stop(shed)
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
        self.waiting.discard(account_id)

    async def _stop(self, account_ids: list[str]) -> None:
        """Stop these accounts' tasks, then release their leases (never two syncs at once)."""
        tasks = [t for t in (self.tasks.get(a) for a in account_ids) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

        def release() -> None:
            with self.db.session() as s:
                LeaseRepository(s).release_many(worker_id=self.worker_id, account_ids=account_ids)

        try:
            await asyncio.to_thread(release)
        except StorageError:
            pass  # the database is away: the leases run out by themselves

    async def _stop_all(self) -> None:
        await self._stop(list(self.tasks))

        def forget() -> None:
            with self.db.session() as s:
                LeaseRepository(s).forget_worker(worker_id=self.worker_id)

        with contextlib.suppress(Exception):
            await asyncio.to_thread(forget)

    async def _paced(self, server: str) -> None:
        delay = self._pacer.delay(server, time.monotonic())
        if delay > 0:
            await asyncio.sleep(delay)

    async def _account(self, tenant_id: str, account_id: str) -> None:
        """Connect, sync, wait for a change, repeat; reconnect with backoff after failures."""
        failures = 0
        wake = self._wake[account_id]
        while True:
            try:
                async with contextlib.AsyncExitStack() as stack:
                    async with self._connecting:
                        await asyncio.to_thread(self.store.set_state, tenant_id, account_id, state="syncing")
                        mailbox, server = await self.syncs.for_account(tenant_id, account_id)
                        await self._paced(server)
                        conn = await stack.enter_async_context(mailbox.connect(tenant_id, account_id))
                        self.connected.add(account_id)
                        await conn.sync_pass()
                    while True:
                        failures = 0
                        await asyncio.to_thread(self.store.record_success, tenant_id, account_id)
                        if await conn.backfill():  # the list is stored; now what it was listed without
                            await conn.sync_pass()
                        wake.clear()
                        # Jitter: accounts that connected together do not poll (or re-IDLE) together.
                        timeout = min(self.idle_timeout, self.poll_interval) * self.rng.uniform(0.8, 1.0)
                        self.waiting.add(account_id)
                        try:
                            await conn.wait_for_change(wake=wake, timeout=timeout)
                        finally:
                            self.waiting.discard(account_id)
                        await conn.sync_pass()
            except asyncio.CancelledError:
                raise
            except (MailportError, OSError) as exc:
                self.connected.discard(account_id)
                try:
                    failures = await asyncio.to_thread(self.store.record_failure, tenant_id, account_id, exc)
                except StorageError as storage_exc:
                    if not storage_exc.transient:
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
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await wake.wait()
                wake.clear()
