"""PostgreSQL's first statistics of the busy tables (``adapters/storage/statistics.py``): a new
installation whose queue filled before autovacuum analyzed it claims by the index again."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from dbfixtures import make_runtime
from mailport.adapters.queue import ClaimedJob, JobQueue
from mailport.adapters.storage import statistics
from mailport.adapters.storage.statistics import FirstStatistics
from mailport.runtime import Runtime
from mailport.worker import Done, Worker

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> Iterator[Runtime]:
    runtime = make_runtime(tmp_path, pg_url)
    with runtime.db.session() as s:  # the busy tables left to this module alone
        for table in statistics.TABLES:
            s.execute(sa.text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    yield runtime
    runtime.close()


def _ready_jobs(rt: Runtime, count: int) -> None:
    with rt.db.session() as s:
        s.execute(sa.text(
            "INSERT INTO jobs (kind, payload, tenant_id, dedupe_key, state, run_at, attempts, created_at, updated_at) "
            "SELECT 'send', json_build_object('message_id', 'm' || g), 'ten_' || (g % 7), 'm' || g, 'ready', "
            f":now - ({count} - g) * interval '1 ms', 0, :now, :now FROM generate_series(1, {count}) AS g"),
            {"now": NOW})
        s.execute(sa.text("SELECT pg_stat_force_next_flush()"))  # counted at once, not within a second
    with rt.db.session() as s:
        counted = s.scalar(sa.text("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'jobs' "
                                   "AND schemaname = current_schema()"))
    assert counted == count


def _analyzed(rt: Runtime) -> set[str]:
    with rt.db.session() as s:
        return set(s.scalars(sa.text("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()")))


def _rows_read_by_a_claim(rt: Runtime) -> int:
    """The rows PostgreSQL's claim read from the ready jobs' index (auto_explain to this client)."""
    plans: list[str] = []
    queue = JobQueue(rt.db)
    with queue.claiming() as s:
        driver = s.connection().connection.driver_connection
        assert driver is not None
        for setting in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                        "SET auto_explain.log_analyze = on", "SET auto_explain.log_level = notice"):
            s.execute(sa.text(setting))

        def keep(diag: Any) -> None:
            plans.append(diag.message_primary or "")

        driver.add_notice_handler(keep)
        try:
            claimed = queue.claim(worker_id="w1", now=NOW + timedelta(seconds=1), lease=timedelta(seconds=60),
                                  limit=16, kinds=["send"], session=s)
            s.execute(sa.text("SELECT 1"))
        finally:
            driver.remove_notice_handler(keep)
            for setting in ("auto_explain.log_min_duration", "auto_explain.log_analyze", "auto_explain.log_level"):
                s.execute(sa.text(f"RESET {setting}"))
    assert len(claimed) == 16
    plan = next(p for p in plans if "SKIP LOCKED" in p)  # the claim (the reaper's UPDATE comes first)
    return max(int(n) for n in re.findall(r"on jobs jobs_1 +\([^)]*\) \(actual rows=(\d+)", plan))


def test_a_queue_that_filled_unanalyzed_is_claimed_by_its_index_once_analyzed(rt: Runtime) -> None:
    _ready_jobs(rt, 20_000)
    assert "jobs" not in _analyzed(rt)
    before = _rows_read_by_a_claim(rt)
    stats = FirstStatistics(rt.db)
    assert stats.refresh() == ["jobs"]  # the only busy table over MIN_ROWS
    assert "jobs" in _analyzed(rt)
    after = _rows_read_by_a_claim(rt)
    assert before > 10_000 and after < 100, (before, after)  # every ready job read and sorted, then 16-odd
    assert stats.refresh() == []  # a look every few seconds at most
    stats._looked_at -= 60
    assert stats.refresh() == []  # jobs has its statistics; the others are under MIN_ROWS


def test_one_worker_analyzes_while_another_holds_the_turn(rt: Runtime, pg_url: str) -> None:
    _ready_jobs(rt, 2_000)
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as other:
        assert other.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))",
                             ("mailport.first_statistics",)).fetchone() == (True,)
        stats = FirstStatistics(rt.db)
        assert stats.refresh() == []  # the other one is at it: carry on, look again later
        assert "jobs" not in _analyzed(rt)
    stats._looked_at -= 60
    assert stats.refresh() == ["jobs"]


def test_a_database_that_is_away_is_not_this_modules_business(rt: Runtime, pg_url: str) -> None:
    away = sa.create_engine(sa.make_url(pg_url).set(port=1), connect_args={"connect_timeout": 2})
    stats = FirstStatistics(SimpleNamespace(engine=away, is_sqlite=False))  # type: ignore[arg-type]
    assert stats.refresh() == []  # logged, not raised: the heartbeat that calls it goes on
    assert not stats.done


def test_the_worker_gives_the_first_statistics_while_it_runs(rt: Runtime) -> None:
    _ready_jobs(rt, 1_500)

    async def noop(job: ClaimedJob) -> Done:
        return Done()

    async def run() -> None:
        worker = Worker(queue=JobQueue(rt.db), clock=rt.clock, handlers={"noop": noop}, lease=timedelta(seconds=5))
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        for _ in range(100):
            if "jobs" in _analyzed(rt):
                break
            await asyncio.sleep(0.1)
        stop.set()
        await task

    asyncio.run(run())
    assert "jobs" in _analyzed(rt)
