"""The worker loop against a real database: runs handlers, retries on surprises, drains on stop."""

import asyncio
import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dbfixtures import make_runtime
from mailport.adapters.queue import ClaimedJob
from mailport.runtime import Runtime, WakeLines, wake_through
from mailport.worker import Done, Fail, JobResult, Lane, Retry, Worker


async def _run_until(worker: Worker, predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "worker did not finish in time"
        await asyncio.sleep(0.05)
    stop.set()
    await task


async def test_worker_runs_handlers_concurrently_and_records_outcomes(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    now = rt.clock.now()
    for n in range(12):
        rt.queue.enqueue(kind="job", payload={"n": n}, now=now)
    seen: list[int] = []
    running = 0
    peak = 0

    async def handler(job: ClaimedJob) -> JobResult:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        seen.append(job.payload["n"])
        if job.payload["n"] == 3:
            return Fail(error="permanent")
        if job.payload["n"] == 4 and job.attempts == 1:
            return Retry(run_at=rt.clock.now(), error="try again")
        if job.payload["n"] == 5 and job.attempts == 1:
            raise RuntimeError("handler bug")
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"job": handler}, concurrency=4,
                    poll_interval=0.05, unexpected_retry=timedelta(0))
    await _run_until(worker, lambda: rt.queue.depth().get("done", 0) == 11)
    assert rt.queue.depth() == {"done": 11, "failed": 1}
    assert sorted(set(seen)) == list(range(12)) and seen.count(4) == 2 and seen.count(5) == 2
    assert 1 < peak <= 4


async def test_a_tenant_holds_its_share_while_another_tenant_waits(sqlite_runtime: Runtime) -> None:
    """Tenant B floods the queue with jobs that hang; A's one job, queued behind all of them,
    still runs at once — B holds its share, then what is left minus one share kept free."""
    rt = sqlite_runtime
    now = rt.clock.now()
    for n in range(40):
        rt.queue.enqueue(kind="send", payload={"n": n}, now=now, tenant_id="ten_b")
    rt.queue.enqueue(kind="send", payload={"n": "a"}, now=now, tenant_id="ten_a")  # last in line
    release = asyncio.Event()
    running = {"ten_a": 0, "ten_b": 0}
    peak_b = 0
    a_done = asyncio.Event()

    async def handler(job: ClaimedJob) -> JobResult:
        nonlocal peak_b
        assert job.tenant_id is not None
        running[job.tenant_id] += 1
        peak_b = max(peak_b, running["ten_b"])
        if job.tenant_id == "ten_a":
            a_done.set()
        else:
            await release.wait()
        running[job.tenant_id] -= 1
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"send": handler}, poll_interval=0.05,
                    lanes=[Lane("send", frozenset({"send"}), 8, 0.25)])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(a_done.wait(), 10)
    # With A served, B borrows up to capacity 8 minus one share (2) kept free for a newcomer.
    for _ in range(200):
        if running["ten_b"] == 6:
            break
        await asyncio.sleep(0.05)
    assert running["ten_b"] == 6
    release.set()
    await _run_until_done(rt, 41)
    assert peak_b == 6
    stop.set()
    await task


async def test_hanging_webhooks_do_not_take_the_send_lane(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    now = rt.clock.now()
    for n in range(10):
        rt.queue.enqueue(kind="webhook", payload={"n": n}, now=now, tenant_id="ten_b")
    rt.queue.enqueue(kind="send", payload={}, now=now, tenant_id="ten_a")
    hang = asyncio.Event()
    sent = asyncio.Event()

    async def webhook(job: ClaimedJob) -> JobResult:
        await hang.wait()
        return Done()

    async def send(job: ClaimedJob) -> JobResult:
        sent.set()
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"webhook": webhook, "send": send},
                    poll_interval=0.05, lanes=[Lane("webhooks", frozenset({"webhook"}), 2),
                                               Lane("send", frozenset({"send"}), 2)])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(sent.wait(), 10)
    hang.set()
    stop.set()
    await task


async def _run_until_done(rt: Runtime, count: int) -> None:
    for _ in range(200):
        if rt.queue.depth().get("done", 0) == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"done: {rt.queue.depth()}")


async def test_postgres_workers_wake_on_notify_not_on_the_poll(runtime: Runtime) -> None:
    """A job enqueued by another process's queue (here: another JobQueue on its own engine)
    reaches a PostgreSQL worker that polls only every 60 s: LISTEN/NOTIFY woke it."""
    rt = runtime
    if rt.db.is_sqlite:
        return  # SQLite has no NOTIFY; the in-process wake-up after an enqueue covers it
    from mailport.adapters.queue import JobQueue
    from mailport.adapters.storage.database import Database

    ran = asyncio.Event()

    async def handler(job: ClaimedJob) -> JobResult:
        ran.set()
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"job": handler}, poll_interval=60)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    other = Database(rt.db.url)
    try:
        await asyncio.wait_for(worker.listening.wait(), 10)
        await asyncio.to_thread(JobQueue(other).enqueue, kind="job", payload={}, now=rt.clock.now())
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        other.dispose()
        stop.set()
        await task


def _claimed_by_a_killed_process(rt: Runtime) -> int:
    """A real process of this node claims a job with a 60 s lease and is SIGKILLed."""
    import subprocess
    import sys

    from mailport.adapters.liveness import process_gone, this_worker_id, worker_id_of
    from mailport.core.leases import WorkerId

    job_id = rt.queue.enqueue(kind="job", payload={}, now=rt.clock.now())
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        holder = worker_id_of(victim.pid)
        assert not process_gone(holder)
        [claimed] = rt.queue.claim(worker_id=str(holder), now=rt.clock.now(),
                                   lease=timedelta(seconds=60), limit=1)
        assert claimed.id == job_id
    finally:
        victim.kill()
        victim.wait()
    assert process_gone(holder)
    me = this_worker_id()
    assert not process_gone(me)
    # Another process on the same node with the same PID but a later start is not the holder.
    assert process_gone(WorkerId(host=me.host, node=me.node, started=me.started + 1, pid=me.pid))
    # Another node's worker cannot be judged from here: only its lease frees its jobs.
    assert not process_gone(WorkerId(host="elsewhere", node="ffffffffffff", started=1, pid=1))
    return job_id


async def test_a_dead_process_frees_its_jobs_at_once_not_after_the_lease(sqlite_runtime: Runtime) -> None:
    """A worker started after the holder died sees its process is gone and runs the job within
    seconds, not after the 60 s lease."""
    rt = sqlite_runtime
    await asyncio.to_thread(_claimed_by_a_killed_process, rt)

    async def handler(job: ClaimedJob) -> JobResult:
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"job": handler}, poll_interval=0.05)
    started_at = asyncio.get_running_loop().time()
    await _run_until(worker, lambda: rt.queue.depth().get("done", 0) == 1)
    assert asyncio.get_running_loop().time() - started_at < 10  # the lease was 60 s


async def test_sigterm_releases_what_does_not_finish_within_the_grace(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    job_id = rt.queue.enqueue(kind="job", payload={}, now=rt.clock.now())
    started = asyncio.Event()

    async def handler(job: ClaimedJob) -> JobResult:
        started.set()
        await asyncio.sleep(3600)  # a remote server that never answers
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"job": handler}, poll_interval=0.05,
                    lease=timedelta(seconds=60))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, drain_timeout=0.5))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    # Released at once for another worker, not held for the 60 s lease.
    [again] = rt.queue.claim(worker_id="next", now=rt.clock.now(), lease=timedelta(seconds=60), limit=1)
    assert again.id == job_id


def _take_the_database_away(db_file: Path) -> Path:
    moved = db_file.with_name("away.db")
    db_file.rename(moved)
    db_file.mkdir()  # "unable to open database file" until it is back
    return moved


def _bring_the_database_back(db_file: Path, moved: Path) -> None:
    db_file.rmdir()
    moved.rename(db_file)


async def test_a_database_outage_is_ridden_out_and_the_result_written_afterwards(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The SQLite file goes away for a moment while a job finishes: the worker keeps running,
    logs the outage once, and records the job's result when the database is back."""
    rt = make_runtime(tmp_path)
    db_file = tmp_path / "var" / "mailport.db"
    rt.queue.enqueue(kind="job", payload={}, now=rt.clock.now())
    finishing = asyncio.Event()
    proceed = asyncio.Event()

    async def handler(job: ClaimedJob) -> JobResult:
        finishing.set()
        await proceed.wait()
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"job": handler}, poll_interval=0.05)
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="mailport.adapters.storage.database")
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(finishing.wait(), 10)
    rt.db.engine.dispose()
    moved = await asyncio.to_thread(_take_the_database_away, db_file)
    try:
        proceed.set()
        await asyncio.sleep(1.5)
        assert not task.done()
        assert rt.db.unavailable
    finally:
        await asyncio.to_thread(_bring_the_database_back, db_file, moved)
    deadline = asyncio.get_running_loop().time() + 15
    while rt.queue.depth().get("done", 0) != 1:
        assert asyncio.get_running_loop().time() < deadline, "the result was not written"
        await asyncio.sleep(0.05)
    stop.set()
    await task
    outages = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(outages) == 1
    assert any("database back" in r.getMessage() for r in caplog.records)
    rt.close()


@pytest.fixture
def pg_runtime(tmp_path: Path, pg_url: str) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, pg_url)
    yield rt
    rt.close()


class _Claims:
    """Counts a worker's claim of each lane (each is one or more statements on the database)."""

    def __init__(self, worker: Worker) -> None:
        self.counts: dict[str, int] = {}
        real = worker._claim_lane

        def counted(session, lane, free, held, now, **options):  # type: ignore[no-untyped-def]
            self.counts[lane.name] = self.counts.get(lane.name, 0) + 1
            return real(session, lane, free, held, now, **options)

        worker._claim_lane = counted  # type: ignore[method-assign]


async def _enqueue_elsewhere(rt: Runtime, **job: object) -> None:
    """Enqueue as another process would: its own engine, so only the NOTIFY reaches the worker."""
    from mailport.adapters.queue import JobQueue
    from mailport.adapters.storage.database import Database

    other = Database(rt.db.url)
    try:
        await asyncio.to_thread(JobQueue(other).enqueue, now=rt.clock.now(), **job)  # type: ignore[arg-type]
    finally:
        other.dispose()


@pytest.mark.postgres
async def test_a_notify_claims_only_the_lane_of_its_kind(pg_runtime: Runtime) -> None:
    """Each NOTIFY woke every lane: a send cost an empty claim of the webhook lane too."""
    rt = pg_runtime
    ran: list[str] = []

    async def handler(job: ClaimedJob) -> JobResult:
        ran.append(job.kind)
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"webhook": handler, "send": handler},
                    poll_interval=60, lanes=[Lane("webhooks", frozenset({"webhook"}), 4),
                                             Lane("send", frozenset({"send"}), 4)])
    claims = _Claims(worker)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.listening.wait(), 10)
        for _ in range(250):  # the claims at start and once listening
            if claims.counts.get("webhooks", 0) >= 2:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        before = dict(claims.counts)
        for n in range(3):
            await _enqueue_elsewhere(rt, kind="send", payload={"n": n}, tenant_id="ten_a")
            for _ in range(100):
                if len(ran) == n + 1:
                    break
                await asyncio.sleep(0.02)
        assert ran == ["send"] * 3
        assert claims.counts.get("webhooks", 0) == before.get("webhooks", 0)
        assert claims.counts["send"] >= before.get("send", 0) + 3
        await _enqueue_elsewhere(rt, kind="webhook", payload={}, tenant_id="ten_a")
        for _ in range(100):
            if len(ran) == 4:
                break
            await asyncio.sleep(0.02)
        assert ran[-1] == "webhook"
    finally:
        stop.set()
        await task


@pytest.mark.postgres
async def test_a_tenant_at_its_share_waits_for_the_lanes_refill_another_is_claimed_for_at_once(
        pg_runtime: Runtime) -> None:
    """B's backlog fills the lane but for the share kept free: B's next job's NOTIFY costs no
    claim (B's jobs are claimed when a round's worth of them has ended), A's is claimed at once
    (the poll is a minute away)."""
    rt = pg_runtime
    now = rt.clock.now()
    for n in range(40):
        rt.queue.enqueue(kind="send", payload={"n": n}, now=now, tenant_id="ten_b")
    release = asyncio.Event()
    running = {"ten_a": 0, "ten_b": 0}
    a_ran = asyncio.Event()

    async def handler(job: ClaimedJob) -> JobResult:
        assert job.tenant_id is not None
        running[job.tenant_id] += 1
        if job.tenant_id == "ten_a":
            a_ran.set()
        else:
            await release.wait()
        return Done()

    lane = Lane("send", frozenset({"send"}), 32, 0.25)  # a share of 8; a refill after 2 ended
    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"send": handler}, poll_interval=60, lanes=[lane])
    claims = _Claims(worker)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.listening.wait(), 10)
        for _ in range(200):
            if running["ten_b"] == 24:  # capacity 32 less the share kept free
                break
            await asyncio.sleep(0.02)
        assert running["ten_b"] == 24
        await asyncio.sleep(0.2)
        before = claims.counts["send"]
        await _enqueue_elsewhere(rt, kind="send", payload={"n": "more"}, tenant_id="ten_b")
        await asyncio.sleep(0.3)
        assert claims.counts["send"] == before  # B is at its share, and none of its jobs ended
        await _enqueue_elsewhere(rt, kind="send", payload={"n": "a"}, tenant_id="ten_a")
        await asyncio.wait_for(a_ran.wait(), 5)
        assert claims.counts["send"] == before + 1
        assert running["ten_b"] == 24
    finally:
        release.set()
        stop.set()
        await task


@pytest.mark.postgres
async def test_notifies_that_find_nothing_are_spaced_out_and_work_still_arrives(pg_runtime: Runtime) -> None:
    """Every NOTIFY wakes every worker and one takes the job: the others' claims found nothing
    each time. A lane whose claim found nothing claims again on a NOTIFY only after a pause
    (20 ms, doubling to 160 ms) — and a job that comes meanwhile still runs within it."""
    rt = pg_runtime
    ran = asyncio.Event()

    async def handler(job: ClaimedJob) -> JobResult:
        ran.set()
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"send": handler}, poll_interval=60,
                    lanes=[Lane("send", frozenset({"send"}), 4)])
    claims = _Claims(worker)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.listening.wait(), 10)
        await asyncio.sleep(0.2)
        before = claims.counts["send"]
        loop = asyncio.get_running_loop()
        began = loop.time()
        for _ in range(100):  # 100 wake-ups in ~0.3 s whose jobs another worker took
            worker.notified("send;ten_a")
            await asyncio.sleep(0.003)
        empty = claims.counts["send"] - before
        assert 1 <= empty <= 3 + (loop.time() - began) / 0.08, empty  # ~100 before
        started = loop.time()
        await _enqueue_elsewhere(rt, kind="send", payload={}, tenant_id="ten_a")
        await asyncio.wait_for(ran.wait(), 5)
        assert loop.time() - started < 0.5
    finally:
        stop.set()
        await task


@pytest.mark.postgres
async def test_another_tenants_job_that_comes_due_without_a_notify_is_found_by_the_poll(
        pg_runtime: Runtime) -> None:
    """While B is at its share, refills look only for B's jobs unless a NOTIFY named another
    tenant; a retry of A's that comes due tells nobody, and the poll looks for every tenant's."""
    rt = pg_runtime
    now = rt.clock.now()
    for n in range(600):  # ~5 s of B's work at 12 at a time
        rt.queue.enqueue(kind="send", payload={"n": n}, now=now, tenant_id="ten_b")
    # A's job comes due in a moment, as a retry would: no NOTIFY tells of it then.
    rt.queue.enqueue(kind="send", payload={"n": "a"}, now=now, tenant_id="ten_a",
                     run_at=rt.clock.now() + timedelta(seconds=0.5))
    a_ran = asyncio.Event()
    ended = 0

    async def handler(job: ClaimedJob) -> JobResult:
        nonlocal ended
        if job.tenant_id == "ten_a":
            a_ran.set()
        else:
            await asyncio.sleep(0.1)  # B's jobs keep ending: the lane refills all along
        ended += 1
        return Done()

    lane = Lane("send", frozenset({"send"}), 16, 0.25)
    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"send": handler}, poll_interval=0.5, lanes=[lane])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(a_ran.wait(), 10)
        assert asyncio.get_running_loop().time() - started < 3  # its due time and a poll, not B's backlog
        assert ended < 300
    finally:
        stop.set()
        await task


async def test_sqlite_work_a_job_made_ready_reaches_the_worker_without_the_poll(sqlite_runtime: Runtime) -> None:
    """SQLite has no NOTIFY: a job a handler enqueues (a webhook after a send, a Sent copy) is
    told to the worker by its queue after the commit — here with a poll of a minute. A job
    rolled back is told to nobody."""
    rt = sqlite_runtime
    follow_up = asyncio.Event()

    async def first(job: ClaimedJob) -> JobResult:
        await asyncio.to_thread(rt.queue.enqueue, kind="second", payload={}, now=rt.clock.now(), tenant_id="ten_a")
        return Done()

    async def second(job: ClaimedJob) -> JobResult:
        follow_up.set()
        return Done()

    worker = Worker(queue=rt.queue, clock=rt.clock, handlers={"first": first, "second": second}, poll_interval=60)
    told: list[str] = []
    assert rt.queue.on_ready == worker.notify_threadsafe
    rt.queue.on_ready = lambda payload: (told.append(payload), worker.notify_threadsafe(payload))[1]
    rt.queue.enqueue(kind="first", payload={}, now=rt.clock.now(), tenant_id="ten_a")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(follow_up.wait(), 10)
    finally:
        stop.set()
        await task
    assert told == ["first;ten_a", "second;ten_a"]
    with pytest.raises(RuntimeError), rt.db.session() as s:
        rt.queue.enqueue(kind="second", payload={}, now=rt.clock.now(), tenant_id="ten_b", session=s)
        raise RuntimeError("rolled back")
    assert told == ["first;ten_a", "second;ten_a"]


def test_serve_tells_its_worker_child_which_jobs_through_the_pipe() -> None:
    """``serve`` writes each commit's wake payload as a line on its worker child's stdin; the
    child reads them back whole, however the pipe cuts them, each payload once per read."""
    read_end, write_end = os.pipe()
    try:
        for payload in ("send;ten_a", None, "send,webhook;ten_b", "send;ten_a"):
            wake_through(write_end, payload)
        data = os.read(read_end, 4096)
    finally:
        os.close(read_end)
        os.close(write_end)
    lines = WakeLines()
    assert lines.feed(data[:7]) == []
    assert lines.feed(data[7:]) == ["send;ten_a", None, "send,webhook;ten_b"]
    assert lines.feed(b"send;ten_c\nsend;ten_c\n") == ["send;ten_c"]


async def test_sqlite_an_accepted_message_is_told_after_its_commit(tmp_path: Path) -> None:
    """The accept writes its jobs in one statement of its own: it tells them as the queue does —
    once committed, with the tenant, so the worker claims for that tenant only."""
    from outbox_helpers import outbox_runtime, sink_account

    from mailport.services.send import SendRequest

    rt = outbox_runtime(tmp_path)
    try:
        tenant = rt.tenants.create(name="Wake").tenant.id
        account = sink_account(rt, tenant, 2525)
        told: list[str] = []
        rt.queue.on_ready = told.append
        request = SendRequest(account_id=account, to=["klant@example.org"], subject="Factuur", text="Beste klant,")
        await rt.outbox.submit_many_async(tenant, [(request, None), (request, None)])
        assert told == [f"send;{tenant}"]
        rt.outbox.submit(tenant, request, idempotency_key="k1")
        rt.outbox.submit(tenant, request, idempotency_key="k1")  # a replay commits nothing new
        assert told == [f"send;{tenant}"] * 2
    finally:
        rt.close()


def test_a_callback_after_a_commit_that_fails_leaves_the_commit_standing(sqlite_runtime: Runtime,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    rt = sqlite_runtime
    told: list[str] = []

    def broken(payload: str) -> None:
        raise RuntimeError("the worker's loop is gone")

    rt.queue.on_ready = broken
    job = rt.queue.enqueue(kind="send", payload={}, now=rt.clock.now(), tenant_id="ten_a")
    rt.queue.on_ready = told.append
    rt.queue.enqueue(kind="send", payload={}, now=rt.clock.now(), tenant_id="ten_b")
    assert job is not None and rt.queue.depth().get("ready") == 2
    assert told == ["send;ten_b"]
    assert "a callback after a commit failed" in caplog.text
