"""Inbox sync leases on SQLite and PostgreSQL: each account is claimed by exactly one worker, even
when workers claim at the same moment; accounts spread over workers; a dead worker's accounts are
taken over when its lease runs out and the old owner learns it lost them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from mailport.adapters.storage.inbox_repository import LeaseRepository
from mailport.adapters.storage.tables import Account
from mailport.errors import NetworkError
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make_accounts(rt: Runtime, count: int, *, with_imap: bool = True,
                  imap_host: str = "imap.example.org") -> list[str]:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    ids = []
    for i in range(count):
        ids.append(rt.accounts.create(tenant, AccountInput(
            email=f"box{i}-{'i' if with_imap else 'n'}@example.org", password="pw",
            smtp={"host": "smtp.example.org", "port": 465, "security": "tls"},
            imap={"host": imap_host, "port": 993, "security": "tls"} if with_imap else None,
        )).id)
    return ids


def claim(rt: Runtime, worker: str, *, now: datetime = NOW, limit: int = 100) -> list[str]:
    with rt.db.session() as s:
        return [a for _, a in LeaseRepository(s).claim(worker_id=worker, now=now, until=now + timedelta(seconds=90),
                                                       limit=limit)]


def test_concurrent_claims_give_each_account_one_owner(runtime: Runtime) -> None:
    accounts = make_accounts(runtime, 40)
    no_imap = make_accounts(runtime, 2, with_imap=False)
    with runtime.db.session() as s:
        assert LeaseRepository(s).ensure_rows(now=NOW) == 42
    results: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        got: list[str] = []
        for _ in range(5):  # small claims in turns, like the engine
            got += claim(runtime, name, limit=3)
        results[name] = got

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    owners = Counter(a for got in results.values() for a in got)
    assert all(n == 1 for n in owners.values()), "an account was claimed twice"
    assert set(owners) <= set(accounts) and not set(owners) & set(no_imap)
    assert sum(1 for got in results.values() if got) >= 2  # spread over workers
    rest = claim(runtime, "late")
    assert sorted(rest + list(owners)) == sorted(accounts)


def test_expired_lease_is_taken_over_and_the_old_owner_notices(runtime: Runtime) -> None:
    accounts = make_accounts(runtime, 3)
    with runtime.db.session() as s:
        LeaseRepository(s).ensure_rows(now=NOW)
    assert sorted(claim(runtime, "old")) == sorted(accounts)
    assert claim(runtime, "new", now=NOW + timedelta(seconds=30)) == []  # still leased
    with runtime.db.session() as s:
        assert LeaseRepository(s).renew(worker_id="old", account_ids=accounts[:1],
                                        until=NOW + timedelta(seconds=200)) == {accounts[0]}
    later = NOW + timedelta(seconds=120)
    taken = claim(runtime, "new", now=later)
    assert sorted(taken) == sorted(accounts[1:])
    with runtime.db.session() as s:
        assert LeaseRepository(s).renew(worker_id="old", account_ids=accounts, until=later) == {accounts[0]}
        LeaseRepository(s).release(worker_id="old", account_id=accounts[0])
    assert claim(runtime, "new", now=later) == [accounts[0]]


def test_account_gaining_imap_settings_starts_syncing(runtime: Runtime) -> None:
    (account,) = make_accounts(runtime, 1, with_imap=False)
    with runtime.db.session() as s:
        LeaseRepository(s).ensure_rows(now=NOW)
        tenant_id = s.scalars(sa.select(Account.tenant_id).where(Account.id == account)).one()
    assert claim(runtime, "w") == []
    # A new server only gets the password when it is given again (issue 17).
    runtime.accounts.update(tenant_id, account, {"imap": {"host": "imap.example.org", "port": 993,
                                                          "security": "tls"}, "password": "pw"})
    with runtime.db.session() as s:
        assert LeaseRepository(s).ensure_rows(now=NOW) == 1
    assert claim(runtime, "w") == [account]


def test_reconnect_backoff_grows_with_jitter_and_is_capped(runtime: Runtime) -> None:
    import random

    engine = runtime.make_inbox_engine(worker_id="w")
    engine.rng = random.Random(7)
    engine.backoff_base, engine.backoff_cap = 2.0, 300.0
    for failures, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0), (20, 300.0)]:
        delays = [engine.backoff(failures) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered: reconnects do not stampede


async def _until(check: Callable[[], bool], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_workers_share_accounts_when_one_joins_and_take_over_when_one_dies(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts = make_accounts(runtime, 12)

    @contextlib.asynccontextmanager
    async def unreachable(tenant_id: str, account_id: str) -> AsyncIterator[Any]:
        raise NetworkError("the server is unreachable")  # only the leases matter here
        yield

    monkeypatch.setattr(runtime.imap_sync, "connect", unreachable)
    engines = [runtime.make_inbox_engine(worker_id=name) for name in ("a", "b")]
    for engine in engines:
        engine.claim_interval, engine.lease, engine.claim_step = 0.1, timedelta(seconds=2), 4
        engine.backoff_base = engine.backoff_cap = 60.0  # the servers do not exist: stay quiet
    a, b = engines
    stops = [asyncio.Event(), asyncio.Event()]
    run_a = asyncio.create_task(a.run(stops[0]))
    await _until(lambda: len(a.tasks) == 12, timeout=10)
    run_b = asyncio.create_task(b.run(stops[1]))
    try:
        # b joins: a hands accounts back until both hold about half.
        await _until(lambda: len(b.tasks) >= 5 and len(a.tasks) + len(b.tasks) == 12, timeout=10)
        assert set(a.tasks).isdisjoint(b.tasks)

        def reported() -> dict[str, int]:  # what each worker told the registry (metrics show it)
            with runtime.db.session() as s:
                return dict(LeaseRepository(s).live_workers(since=datetime.now(UTC) - timedelta(seconds=5)))

        await _until(lambda: sum(reported().values()) == 12, timeout=5)
        assert set(reported()) == {"a", "b"}
        # a dies: no release, no more heartbeats. b takes everything once a's leases run out.
        died = time.monotonic()
        for task in list(a.tasks.values()):
            task.cancel()
        a._stop_all = _nothing  # type: ignore[method-assign]
        run_a.cancel()
        await _until(lambda: sorted(b.tasks) == sorted(accounts), timeout=15)
        assert time.monotonic() - died < 2 + 5  # the lease, plus a few ticks
        await _until(lambda: reported().get("b") == 12, timeout=5)
        assert 'mailport_inbox_worker_accounts{worker="b"} 12.0' in runtime.metrics.render().decode()
    finally:
        stops[1].set()
        await run_b
        with contextlib.suppress(asyncio.CancelledError):
            await run_a


async def _nothing() -> None:
    return None


async def test_leases_are_renewed_a_third_of_the_lease_apart_and_a_disabled_account_stops_at_the_next_tick(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts = make_accounts(runtime, 3)

    @contextlib.asynccontextmanager
    async def unreachable(tenant_id: str, account_id: str) -> AsyncIterator[Any]:
        raise NetworkError("the server is unreachable")  # only the leases matter here
        yield

    monkeypatch.setattr(runtime.imap_sync, "connect", unreachable)
    renewals: list[float] = []
    ticks: list[float] = []
    renew, heartbeat = LeaseRepository.renew, LeaseRepository.heartbeat

    def counted_renew(self: LeaseRepository, **kwargs: Any) -> set[str]:
        renewals.append(time.monotonic())
        return renew(self, **kwargs)

    def counted_heartbeat(self: LeaseRepository, **kwargs: Any) -> None:
        ticks.append(time.monotonic())  # every tick reports itself
        heartbeat(self, **kwargs)

    monkeypatch.setattr(LeaseRepository, "renew", counted_renew)
    monkeypatch.setattr(LeaseRepository, "heartbeat", counted_heartbeat)
    engine = runtime.make_inbox_engine(worker_id="solo")
    engine.claim_interval, engine.lease = 0.05, timedelta(seconds=1.5)
    engine.backoff_base = engine.backoff_cap = 60.0
    stop = asyncio.Event()
    run = asyncio.create_task(engine.run(stop))
    try:
        await _until(lambda: len(engine.tasks) == 3, timeout=10)
        before_renewals, before_ticks = len(renewals), len(ticks)
        await asyncio.sleep(2.5)  # well past the lease
        assert sorted(engine.tasks) == sorted(accounts)  # renewed in time: never lost
        renewed, ticked = len(renewals) - before_renewals, len(ticks) - before_ticks
        assert renewed >= 2 and renewed * 3 <= ticked, (renewed, ticked)
        assert all(b - a >= 0.3 for a, b in itertools.pairwise(renewals)), renewals

        # Disabled through the API: its task stops at the next tick, with no renewal due for 20 s.
        engine.lease = timedelta(seconds=60)
        await asyncio.sleep(0.2)  # a tick or more with the longer lease: the next renewal is 20 s away
        with runtime.db.session() as s:
            tenant = s.scalar(sa.select(Account.tenant_id).where(Account.id == accounts[0]))
        assert tenant is not None
        renewed_before = len(renewals)
        runtime.inbox.set_enabled(tenant, accounts[0], enabled=False)
        await _until(lambda: accounts[0] not in engine.tasks, timeout=3)
        assert len(renewals) == renewed_before
        assert sorted(engine.tasks) == sorted(accounts[1:])
    finally:
        stop.set()
        await run
