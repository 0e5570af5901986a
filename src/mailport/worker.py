"""The worker loop: claim jobs, run their handlers concurrently, renew leases, shut down gracefully.

Handlers are registered per job kind by the runtime (sending, webhooks, sync…). A handler returns
:class:`Done`, :class:`Retry` or :class:`Fail`; an exception it did not expect is logged and the
job retried later, so a bug never silently drops work.

Capacity comes in :class:`Lane` s: each lane runs some job kinds with its own number of jobs in
flight (hundreds for sending — the work is waiting on remote servers, not CPU), so a webhook
receiver that never answers fills only the webhook lane. Within a lane a tenant holds at most
``tenant_share`` of the capacity while other tenants' jobs are ready: the claim skips tenants at
their share first, and only what is left after that goes to them (never the last share, which
stays free for a tenant that arrives). A lane may claim with an :class:`Affinity`: the sends of
a mailbox that another worker already fills are left to it (``adapters/queue.py``).

Faults it rides out without a human:

* **The database goes away** (restart, failover, a network blip): claiming pauses with backoff,
  the heartbeat keeps trying, and each finished job keeps its result in memory and writes it when
  the database is back (:meth:`GroupCommit.submit_riding_out`). The database adapter logs the outage once,
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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mailport.adapters.group_commit import GroupCommit
from mailport.adapters.liveness import process_gone, this_worker_id
from mailport.adapters.queue import Affinity, ClaimedJob, JobQueue
from mailport.clock import Clock
from mailport.core.jobs import Done, Fail, JobResult, Retry, Settled
from mailport.core.leases import LeasePolicy, WorkerId
from mailport.errors import StorageError

log = logging.getLogger(__name__)

__all__ = ["Done", "Fail", "JobHandler", "JobResult", "Lane", "Retry", "Settled", "Worker"]


JobHandler = Callable[[ClaimedJob], Awaitable[JobResult]]


@dataclass(frozen=True, slots=True)
class Lane:
    """Job kinds that share ``capacity`` jobs in flight; one tenant holds at most
    ``tenant_share`` of it while others wait."""

    name: str
    kinds: frozenset[str]
    capacity: int
    tenant_share: float = 1.0
    affinity: Affinity | None = None

    @property
    def tenant_cap(self) -> int:
        return max(1, int(self.capacity * self.tenant_share))


# A job whose handler met a database outage is tried again this soon after the database is back.
_STORAGE_RETRY = timedelta(seconds=2)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, StorageError) and exc.transient


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
        lanes: list[Lane] | None = None,
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.handlers = handlers
        if lanes is None:
            lanes = [Lane("jobs", frozenset(handlers), concurrency)]
        covered = set().union(*(lane.kinds for lane in lanes)) if lanes else set()
        if set(handlers) - covered:  # every handled kind runs in some lane
            lanes = [*lanes, Lane("other", frozenset(set(handlers) - covered), concurrency)]
        self.lanes = [lane for lane in lanes if lane.kinds & set(handlers)]
        self.concurrency = sum(lane.capacity for lane in self.lanes)
        self.lease = lease
        self.policy = LeasePolicy.for_lease(lease.total_seconds())
        self.poll_interval = poll_interval
        self.unexpected_retry = unexpected_retry
        self.max_backoff = max_backoff
        self.worker_id = worker_id or str(this_worker_id())
        self._identity = WorkerId.parse(self.worker_id)
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._holder: dict[int, tuple[str, str | None]] = {}  # job id -> (lane, tenant)
        # Lanes whose last claim may have left ready work behind (no room, or a tenant at its
        # share): a job of theirs that ends wakes the claim loop. Any other lane's ready work
        # arrives with a wake-up of its own (NOTIFY, or the in-process enqueue), so its ending
        # jobs do not each cost a claim.
        self._capped: set[str] = set()
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._results: GroupCommit[tuple[ClaimedJob, JobResult], None] = GroupCommit(
            self._record_many, shared_errors=(StorageError,))
        self.listening = asyncio.Event()
        """Set once PostgreSQL wake-ups are subscribed (never on SQLite)."""

    def wake(self) -> None:
        """Look for work now instead of at the next poll (called after an enqueue in-process)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, drain_timeout: float = 30.0) -> None:
        log.info("worker %s started (%s)", self.worker_id, "; ".join(
            f"{lane.name}: {lane.capacity} at once, kinds {', '.join(sorted(lane.kinds & set(self.handlers)))}"
            for lane in self.lanes) or "no job kinds")
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        listener = asyncio.create_task(self.queue.listen(self.wake, stop,
                                                         listening=self.listening))  # PostgreSQL NOTIFY
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
                claimed: list[ClaimedJob] = []
                free = 0
                try:
                    # Held until the claimed jobs are registered: the heartbeat releases any job
                    # of ours it does not know (a claim whose answer was lost).
                    async with self._claiming:
                        claimed, free = await self._claim()
                    failures = 0
                except StorageError as exc:
                    if not _transient(exc):
                        raise
                    failures += 1
                    await self._pause(stop, self._backoff(failures))
                    continue
                if len(claimed) < max(free, 1):
                    self._wake.clear()
                    await self._pause(stop, self.poll_interval, wake=True)
        finally:
            try:
                await self._drain(drain_timeout)
            finally:
                heartbeat.cancel()
                listener.cancel()
                await asyncio.gather(heartbeat, listener, return_exceptions=True)
            log.info("worker %s stopped", self.worker_id)

    async def _claim(self) -> tuple[list[ClaimedJob], int]:
        """Claim for every lane with free capacity, in one transaction (one trip to a database
        thread: a round used to be one per lane, mostly an empty webhook claim per message).
        Returns the claimed jobs and how many slots were free."""
        plans: list[tuple[Lane, int, dict[str | None, int]]] = []
        for lane in self.lanes:
            held: dict[str | None, int] = {}
            running = 0
            for name, tenant in self._holder.values():
                if name == lane.name:
                    running += 1
                    held[tenant] = held.get(tenant, 0) + 1
            if lane.capacity - running > 0:
                plans.append((lane, lane.capacity - running, held))
            else:
                self._capped.add(lane.name)
        if not plans:
            return [], 0
        got = await asyncio.to_thread(self._claim_lanes, plans)
        claimed: list[ClaimedJob] = []
        for (lane, _, _), (jobs, capped) in zip(plans, got, strict=True):
            self._start(lane, jobs)
            claimed += jobs
            self._note_capped(lane, capped)
        return claimed, sum(free for _, free, _ in plans)

    def _claim_lanes(self, plans: Sequence[tuple[Lane, int, dict[str | None, int]]]
                     ) -> list[tuple[list[ClaimedJob], bool]]:
        """In a database thread: each lane's claim, in one session (on PostgreSQL each statement
        commits by itself: :meth:`JobQueue.claiming`)."""
        now = self.clock.now()
        with self.queue.claiming() as session:
            return [self._claim_lane(session, lane, free, held, now) for lane, free, held in plans]

    def _claim_lane(self, session: Session, lane: Lane, free: int, held: dict[str | None, int],
                    now: datetime) -> tuple[list[ClaimedJob], bool]:
        """One lane: tenants up to their share first; then, if nobody else is waiting, more for
        tenants at their share — but one share of the lane always stays free for a tenant whose
        work arrives next. Returns the claimed jobs and whether the claim may have left ready
        work behind (the lane filled, or a tenant at its share)."""
        claim = functools.partial(self.queue.claim, worker_id=self.worker_id, now=now, lease=self.lease,
                                  kinds=sorted(lane.kinds & set(self.handlers)), affinity=lane.affinity,
                                  live_since=self.policy.live_since(now), session=session)
        if lane.tenant_share >= 1:
            claimed = claim(limit=free)
            return claimed, len(claimed) >= free
        claimed = claim(limit=free, held=held, tenant_cap=lane.tenant_cap)
        held = dict(held)
        for job in claimed:
            held[job.tenant_id] = held.get(job.tenant_id, 0) + 1
        # The claim for tenants past their share only adds to those at it: this answers for both.
        at_share = any(t is not None and n >= lane.tenant_cap for t, n in held.items())
        spare = free - len(claimed) - lane.tenant_cap
        if spare > 0 and at_share:
            claimed += claim(limit=spare)
        return claimed, len(claimed) >= free or at_share

    def _note_capped(self, lane: Lane, capped: bool) -> None:
        if capped:
            self._capped.add(lane.name)
        else:
            self._capped.discard(lane.name)

    def _start(self, lane: Lane, jobs: list[ClaimedJob]) -> None:
        for job in jobs:
            task = asyncio.create_task(self._run_one(job))
            self._inflight[job.id] = task
            self._holder[job.id] = (lane.name, job.tenant_id)
            task.add_done_callback(functools.partial(self._finished, job.id))

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

    def _finished(self, job_id: int, task: asyncio.Task[None] | None = None) -> None:
        # A job its handler settled itself (:class:`Settled`) may be claimed again before the
        # handler's task ends: that new run is not this one's to forget.
        lane = None
        if task is None or self._inflight.get(job_id) is task:
            self._inflight.pop(job_id, None)
            lane, _ = self._holder.pop(job_id, (None, None))
        if lane is None or lane in self._capped or not self.listening.is_set():
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
        if not isinstance(result, Settled):  # else written by the handler, with its own work
            await self._settle(job, result)
        again = result.result if isinstance(result, Settled) else result
        if isinstance(again, Retry) and again.run_at <= self.clock.now():
            self._wake.set()  # ready again now, and no NOTIFY says so

    async def _settle(self, job: ClaimedJob, result: JobResult) -> None:
        """Record ``result``, in one transaction with the other jobs finishing now (group
        commit); through a database outage it waits in memory, as every job result does."""
        await self._results.submit_riding_out("", [(job, result)])

    def _record_many(self, _key: str, items: Sequence[tuple[ClaimedJob, JobResult]]) -> list[None]:
        now = self.clock.now()
        self.queue.settle_many([(job.id, replace(result, run_at=max(result.run_at, now))
                                 if isinstance(result, Retry) else result) for job, result in items],
                               worker_id=self.worker_id, now=now)
        return [None] * len(items)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Renew every lease this worker holds, and free the jobs of dead workers on this node."""
        interval = self.policy.heartbeat.total_seconds()
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._claiming:
                    now = self.clock.now()
                    await asyncio.to_thread(self.queue.heartbeat, worker_id=self.worker_id, now=now,
                                            until=self.policy.until(now), job_ids=list(self._inflight))
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
