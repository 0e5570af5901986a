"""The worker loop: claim jobs, run their handlers concurrently, renew leases, shut down gracefully.

Handlers are registered per job kind by the runtime (sending, webhooks, sync…). A handler returns
:class:`Done`, :class:`Retry` or :class:`Fail`; an exception it did not expect is logged and the
job retried later, so a bug never silently drops work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from mailport.adapters.queue import ClaimedJob, JobQueue
from mailport.clock import Clock
from mailport.core.jobs import Done, Fail, JobResult, Retry

log = logging.getLogger(__name__)

__all__ = ["Done", "Fail", "JobHandler", "JobResult", "Retry", "Worker"]


JobHandler = Callable[[ClaimedJob], Awaitable[JobResult]]


class Worker:
    def __init__(
        self,
        *,
        queue: JobQueue,
        clock: Clock,
        handlers: dict[str, JobHandler],
        concurrency: int = 8,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 0.5,
        unexpected_retry: timedelta = timedelta(seconds=60),
        worker_id: str | None = None,
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.handlers = handlers
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self.unexpected_retry = unexpected_retry
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for work now instead of at the next poll (called after an enqueue in-process)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, drain_timeout: float = 30.0) -> None:
        log.info("worker %s started (%d slots, kinds: %s)", self.worker_id, self.concurrency,
                 ", ".join(sorted(self.handlers)) or "none")
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        try:
            while not stop.is_set():
                free = self.concurrency - len(self._inflight)
                claimed: list[ClaimedJob] = []
                if free > 0 and self.handlers:
                    claimed = await asyncio.to_thread(
                        self.queue.claim, worker_id=self.worker_id, now=self.clock.now(),
                        lease=self.lease, limit=free, kinds=sorted(self.handlers),
                    )
                for job in claimed:
                    task = asyncio.create_task(self._run_one(job))
                    self._inflight[job.id] = task
                    task.add_done_callback(functools.partial(self._finished, job.id))
                if len(claimed) < max(free, 1):
                    self._wake.clear()
                    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
                    await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
                    for w in waiters:
                        w.cancel()
        finally:
            heartbeat.cancel()
            if self._inflight:
                log.info("worker %s draining %d job(s)", self.worker_id, len(self._inflight))
                await asyncio.wait(list(self._inflight.values()), timeout=drain_timeout)
            log.info("worker %s stopped", self.worker_id)

    def _finished(self, job_id: int, _task: asyncio.Task[None] | None = None) -> None:
        self._inflight.pop(job_id, None)
        self._wake.set()

    async def _run_one(self, job: ClaimedJob) -> None:
        handler = self.handlers[job.kind]
        try:
            result = await handler(job)
        except Exception:
            log.exception("job %s (%s) failed unexpectedly; retrying later", job.id, job.kind)
            result = Retry(run_at=self.clock.now() + self.unexpected_retry, error="unexpected error")
        now = self.clock.now()
        match result:
            case Done():
                await asyncio.to_thread(self.queue.complete, job_id=job.id, worker_id=self.worker_id, now=now)
            case Retry(run_at=run_at, error=error):
                await asyncio.to_thread(self.queue.retry, job_id=job.id, worker_id=self.worker_id,
                                        now=now, run_at=run_at, error=error)
            case Fail(error=error):
                await asyncio.to_thread(self.queue.fail, job_id=job.id, worker_id=self.worker_id,
                                        now=now, error=error)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Renew the leases of running jobs at a third of the lease, so only dead workers lose them."""
        interval = self.lease.total_seconds() / 3
        while not stop.is_set():
            await asyncio.sleep(interval)
            until = self.clock.now() + self.lease
            for job_id in list(self._inflight):
                await asyncio.to_thread(self.queue.extend, job_id=job_id, worker_id=self.worker_id, until=until)
