"""The worker loop against a real database: runs handlers, retries on surprises, drains on stop."""

import asyncio
from datetime import timedelta

from mailport.adapters.queue import ClaimedJob
from mailport.runtime import Runtime
from mailport.worker import Done, Fail, JobResult, Retry, Worker


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
