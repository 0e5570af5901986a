"""The worker loop: claim jobs, run their handlers concurrently, renew leases, shut down gracefully.

Handlers are registered per job kind by the runtime (sending, webhooks, sync…). A handler returns
:class:`Done`, :class:`Retry` or :class:`Fail`; an exception it did not expect is logged and the
job retried later, so a bug never silently drops work.

Faults it rides out without a human:

* **The database goes away** (restart, failover, a network blip): claiming pauses with backoff,
  the heartbeat keeps trying, and each finished job keeps its result in memory and writes it when
  the database is back (:meth:`Database.ride_out`). The database adapter logs the outage once,
  when it begins, and once when it ends. Only a non-transient storage error (a schema this
  version does not know) stops the worker.
* **Another worker dies**: leases follow :mod:`mailport.core.leases`. One heartbeat every
  ``policy.heartbeat`` renews every job this worker holds; a dead worker's jobs stop holding
  their account's slots once its heartbeat is silent; and a worker whose process is gone on this
  same node (a restarted ``mailport serve``, a killed neighbour) has its jobs released at once,
  at the head of the queue. Only a worker that vanished without a trace (another host, a network
  partition) is waited for until its lease runs out.
* **SIGTERM**: no new claims; running jobs get ``drain_timeout`` seconds to finish, then are
  cancelled and released for another worker, and the unfinished results written.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from mailport.adapters.liveness import process_gone, this_worker_id
from mailport.adapters.queue import ClaimedJob, JobQueue
from mailport.clock import Clock
from mailport.core.jobs import Done, Fail, JobResult, Retry
from mailport.core.leases import LeasePolicy, WorkerId
from mailport.errors import StorageError

log = logging.getLogger(__name__)

__all__ = ["Done", "Fail", "JobHandler", "JobResult", "Retry", "Worker"]


JobHandler = Callable[[ClaimedJob], Awaitable[JobResult]]

# A job whose handler met a database outage is tried again this soon after the database is back.
_STORAGE_RETRY = timedelta(seconds=2)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, StorageError) and bool(exc.fields.get("transient"))


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
        max_backoff: float = 5.0,
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.handlers = handlers
        self.concurrency = concurrency
        self.lease = lease
        self.policy = LeasePolicy.for_lease(lease.total_seconds())
        self.poll_interval = poll_interval
        self.unexpected_retry = unexpected_retry
        self.max_backoff = max_backoff
        self.worker_id = worker_id or str(this_worker_id())
        self._identity = WorkerId.parse(self.worker_id)
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for work now instead of at the next poll (called after an enqueue in-process)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, drain_timeout: float = 30.0) -> None:
        log.info("worker %s started (%d slots, kinds: %s)", self.worker_id, self.concurrency,
                 ", ".join(sorted(self.handlers)) or "none")
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        failures = 0
        try:
            # A restarted process first frees what its dead predecessor held, so those messages
            # go out now instead of after the lease.
            try:
                await self._reap()
            except StorageError as exc:
                if not _transient(exc):
                    raise
            while not stop.is_set():
                if heartbeat.done():
                    heartbeat.result()  # a non-transient error: stop the worker
                free = self.concurrency - len(self._inflight)
                claimed: list[ClaimedJob] = []
                if free > 0 and self.handlers:
                    try:
                        claimed = await asyncio.to_thread(
                            self.queue.claim, worker_id=self.worker_id, now=self.clock.now(),
                            lease=self.lease, limit=free, kinds=sorted(self.handlers),
                        )
                        failures = 0
                    except StorageError as exc:
                        if not _transient(exc):
                            raise
                        failures += 1
                        await self._pause(stop, self._backoff(failures))
                        continue
                for job in claimed:
                    task = asyncio.create_task(self._run_one(job))
                    self._inflight[job.id] = task
                    task.add_done_callback(functools.partial(self._finished, job.id))
                if len(claimed) < max(free, 1):
                    self._wake.clear()
                    await self._pause(stop, self.poll_interval, wake=True)
        finally:
            try:
                await self._drain(drain_timeout)
            finally:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)
            log.info("worker %s stopped", self.worker_id)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.max_backoff, 0.2 * 2 ** min(failures, 10))
        return float(ceiling / 2 + random.random() * ceiling / 2)

    async def _pause(self, stop: asyncio.Event, seconds: float, *, wake: bool = False) -> None:
        waiters = [asyncio.create_task(stop.wait())]
        if wake:
            waiters.append(asyncio.create_task(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def _drain(self, timeout: float) -> None:
        """Let running jobs finish; release what is still running after ``timeout``."""
        if not self._inflight:
            return
        log.info("worker %s draining %d job(s)", self.worker_id, len(self._inflight))
        tasks = dict(self._inflight)
        _, pending = await asyncio.wait(list(tasks.values()), timeout=timeout)
        if not pending:
            return
        stuck = [job_id for job_id, task in tasks.items() if task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        try:
            released = await asyncio.to_thread(self.queue.release, job_ids=stuck,
                                               worker_id=self.worker_id, now=self.clock.now())
        except StorageError:
            released = 0  # the database is away: the lease (or our successor's reaping) frees them
        log.warning("worker %s stopped %d job(s) after %.0f s; %d released for another worker",
                    self.worker_id, len(stuck), timeout, released)

    def _finished(self, job_id: int, _task: asyncio.Task[None] | None = None) -> None:
        self._inflight.pop(job_id, None)
        self._wake.set()

    async def _run_one(self, job: ClaimedJob) -> None:
        handler = self.handlers[job.kind]
        try:
            result = await handler(job)
        except StorageError as exc:
            if not _transient(exc):
                log.exception("job %s (%s) failed on the database; retrying later", job.id, job.kind)
            # An outage is logged once by the database adapter, not once per job.
            result = Retry(run_at=self.clock.now() + _STORAGE_RETRY, error=exc.code)
        except Exception:
            log.exception("job %s (%s) failed unexpectedly; retrying later", job.id, job.kind)
            result = Retry(run_at=self.clock.now() + self.unexpected_retry, error="unexpected error")
        await self.queue.db.ride_out(lambda: self._record(job, result))

    def _record(self, job: ClaimedJob, result: JobResult) -> None:
        now = self.clock.now()
        match result:
            case Done():
                self.queue.complete(job_id=job.id, worker_id=self.worker_id, now=now)
            case Retry(run_at=run_at, error=error):
                self.queue.retry(job_id=job.id, worker_id=self.worker_id, now=now,
                                 run_at=max(run_at, now), error=error)
            case Fail(error=error):
                self.queue.fail(job_id=job.id, worker_id=self.worker_id, now=now, error=error)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Renew every lease this worker holds, and free the jobs of dead workers on this node."""
        interval = self.policy.heartbeat.total_seconds()
        while True:
            await asyncio.sleep(interval)
            try:
                if self._inflight:
                    now = self.clock.now()
                    await asyncio.to_thread(self.queue.heartbeat, worker_id=self.worker_id, now=now,
                                            until=self.policy.until(now))
                if not stop.is_set():
                    await self._reap()
            except StorageError as exc:
                if not _transient(exc):
                    raise
                # The database is away; the claim loop and the job results wait for it too.

    async def _reap(self) -> None:
        """Release the jobs of workers whose process is certainly gone (same node only)."""
        if self._identity is None:
            return
        holders = await asyncio.to_thread(self.queue.holders)
        for holder in holders:
            other = WorkerId.parse(holder)
            if other is None or holder == self.worker_id or not self._identity.same_node(other):
                continue
            if process_gone(other):
                count = await asyncio.to_thread(self.queue.release_worker, worker_id=holder,
                                                now=self.clock.now())
                if count:
                    log.warning("worker %s died holding %d job(s); released them", holder, count)
                    self._wake.set()
