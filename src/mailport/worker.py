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

A claim round is a few statements whatever it finds, so a lane is claimed for only when it may
find something: on a ``NOTIFY`` naming its kinds, for a tenant below its share here (on SQLite the
same wake payload comes from this process's own commits and through ``serve``'s pipe); when a
sixteenth of its capacity has ended since it last left work behind (:attr:`Lane.refill`); and on
the poll. A lane whose claim found nothing (another worker was faster) answers the next NOTIFY
after a pause that doubles while claims keep finding nothing (:meth:`Worker.notified`).

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
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mailport.adapters.group_commit import GroupCommit
from mailport.adapters.liveness import process_gone, this_worker_id
from mailport.adapters.queue import Affinity, ClaimedJob, JobQueue, read_wake_payload
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

    @property
    def refill(self) -> int:
        """Jobs ended since a lane's last claim at which a lane that left ready work behind (it
        filled, or its tenants are at their share) is claimed for again: a claim round costs the
        database about as much for one job as for sixteen, and such a worker holds a backlog of
        its own (a mailbox's sends wait for its few SMTP slots), so topping it up after every
        ended job was most of the claims (bench/bench_send.py, session 13)."""
        return max(1, self.capacity // 16)


@dataclass(slots=True)
class _LaneState:
    """What a worker knows of one of its lanes between claims: when to claim for it, and how."""

    lane: Lane
    held: dict[str | None, int] = field(default_factory=dict)  # running jobs by tenant
    ended: int = 0  # jobs ended since the lane's last claim
    # After a claim that may have left ready work behind: the room the lane keeps free (0: it
    # filled; one share: a tenant is at its share). ``None``: the claim took all there was.
    kept: int | None = None
    due: bool = True  # woken since its last claim
    by_notify: bool = False  # due by NOTIFYs alone (now or at ``due_at``): finding nothing pauses the next
    due_at: float | None = None  # a NOTIFY held back by the pause makes it due then
    claimed_at: float = -math.inf
    looked_at: float = -math.inf  # its last claim that looked for every tenant's jobs
    # The tenants NOTIFYs named since its last claim (``None``: any tenant's work may be ready).
    waiting: set[str] | None = None
    quiet_until: float = 0.0
    quiet_step: float = 0.0

    @property
    def running(self) -> int:
        return sum(self.held.values())

    def is_due(self, now: float, poll_interval: float) -> bool:
        return (self.due or now - self.claimed_at >= poll_interval
                or (self.due_at is not None and self.due_at <= now))

    @property
    def refill_due(self) -> bool:
        """It left ready work behind, and a round's worth of its jobs has ended since."""
        return self.kept is not None and self.ended >= self.lane.refill

    def all_at_share(self, tenants: set[str]) -> bool:
        return all(self.held.get(t, 0) >= self.lane.tenant_cap for t in tenants)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


# The pause before a NOTIFY wakes a lane whose last claim found nothing, doubling while they do.
_QUIET_FIRST, _QUIET_LONGEST = 0.02, 0.16
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
        # Each lane is claimed for only when it may find something (the module's docstring):
        # a claim round is a few statements whatever it finds.
        self._lanes = {lane.name: _LaneState(lane) for lane in self.lanes}
        self._lane_of = {kind: lane.name for lane in self.lanes for kind in lane.kinds}
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._results: GroupCommit[tuple[ClaimedJob, JobResult], None] = GroupCommit(
            self._record_many, shared_errors=(StorageError,))
        self.listening = asyncio.Event()
        """Set once PostgreSQL wake-ups are subscribed (never on SQLite)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        # SQLite: no NOTIFY, so the jobs this process makes ready are told to this worker by its
        # queue after their commit, and serve's API processes tell through its pipe (notified).
        self._told_locally = queue.db.is_sqlite
        if self._told_locally:
            queue.on_ready = self.notify_threadsafe

    def notified(self, payload: str | None) -> None:
        """A ``NOTIFY`` (:meth:`JobQueue.listen`): jobs became ready. Only the lanes that run
        their kinds are claimed for; not a lane that left work behind while the tenants named are
        all at their share there (its refill, once a round's worth of jobs has ended, claims
        theirs); and a lane whose last claim found nothing only after a short pause."""
        kinds, tenants = read_wake_payload(payload)
        now = _loop_time()
        for state in self._lanes.values():
            if kinds is not None and not state.lane.kinds & kinds:
                continue
            if tenants is None:
                state.waiting = None
            elif state.waiting is not None:
                state.waiting.update(tenants)
            if (tenants is not None and state.kept is not None and not state.refill_due
                    and state.all_at_share(tenants)):
                continue  # their jobs would wait here behind their own: the refill claims them
            if now < state.quiet_until:
                if state.due_at is None and not state.due:
                    state.due_at, state.by_notify = state.quiet_until, True
                self._wake.set()  # the pause takes the new time into account
            elif not state.is_due(now, self.poll_interval):
                state.due = state.by_notify = True
                self._wake.set()

    def notify_threadsafe(self, payload: str | None) -> None:
        """:meth:`notified` from any thread (a commit in a database thread); before :meth:`run`
        has started, nothing (its first claim looks at everything)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.notified, payload)

    def _wake_lane(self, lane: str | None) -> None:
        """Claim for ``lane`` (``None``: every lane, for any tenant's work) now."""
        for state in self._lanes.values() if lane is None else [self._lanes[lane]]:
            state.due, state.by_notify = True, False
            if lane is None:
                state.waiting = None
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, drain_timeout: float = 30.0) -> None:
        log.info("worker %s started (%s)", self.worker_id, "; ".join(
            f"{lane.name}: {lane.capacity} at once, kinds {', '.join(sorted(lane.kinds & set(self.handlers)))}"
            for lane in self.lanes) or "no job kinds")
        self._loop = asyncio.get_running_loop()
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        listener = asyncio.create_task(self.queue.listen(self.notified, stop,
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
                    if not self._due_lanes():
                        await self._pause(stop, self._until_due(), wake=True)
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
        plans: list[tuple[Lane, int, dict[str | None, int], bool]] = []
        now = _loop_time()
        due = [state for state in self._lanes.values() if state.is_due(now, self.poll_interval)]
        notified = {state.lane.name for state in due if state.by_notify}
        waited: dict[str, set[str] | None] = {}
        for state in due:
            lane = state.lane
            # Once a poll interval a claim looks for every tenant's jobs (a retry that came due
            # tells nobody); NOTIFYs during the claim collect their tenants for the next one.
            waiting = state.waiting if now - state.looked_at < self.poll_interval else None
            waited[lane.name] = waiting
            state.due, state.by_notify, state.due_at = False, False, None
            state.claimed_at, state.ended, state.waiting = now, 0, set()
            free = lane.capacity - state.running
            if free > 0:
                others = waiting is None or not state.all_at_share(waiting)
                if others:
                    state.looked_at = now
                plans.append((lane, free, dict(state.held), others))
            else:
                state.kept, state.waiting = 0, None
        if not plans:
            return [], 0
        try:
            got = await asyncio.to_thread(self._claim_lanes, plans)
        except BaseException:
            for lane, *_ in plans:  # not looked at after all
                state = self._lanes[lane.name]
                state.due, state.by_notify, state.waiting = True, lane.name in notified, None
            raise
        claimed: list[ClaimedJob] = []
        for (lane, *_), (jobs, kept) in zip(plans, got, strict=True):
            state = self._lanes[lane.name]
            self._start(state, jobs)
            claimed += jobs
            if jobs:
                state.quiet_until = state.quiet_step = 0.0
            elif lane.name in notified:
                state.quiet_step = min(max(state.quiet_step * 2, _QUIET_FIRST), _QUIET_LONGEST)
                state.quiet_until = now + state.quiet_step
            state.kept = kept
            if kept == 0:
                state.waiting = None  # it filled: other tenants' jobs may be left behind
        return claimed, sum(free for _, free, *_ in plans)

    def _due_lanes(self) -> list[str]:
        """The lanes to claim for now: woken ones, and those not claimed for a poll interval."""
        now = _loop_time()
        return [name for name, state in self._lanes.items() if state.is_due(now, self.poll_interval)]

    def _until_due(self) -> float:
        """Seconds until some lane is due (its poll, or a NOTIFY held back)."""
        times = [state.claimed_at + self.poll_interval for state in self._lanes.values()]
        times += [state.due_at for state in self._lanes.values() if state.due_at is not None]
        return max(0.0, min(times) - _loop_time()) if times else self.poll_interval

    def _claim_lanes(self, plans: Sequence[tuple[Lane, int, dict[str | None, int], bool]]
                     ) -> list[tuple[list[ClaimedJob], int | None]]:
        """In a database thread: each lane's claim, in one session (on PostgreSQL each statement
        commits by itself: :meth:`JobQueue.claiming`)."""
        now = self.clock.now()
        with self.queue.claiming() as session:
            return [self._claim_lane(session, lane, free, held, now, others=others)
                    for lane, free, held, others in plans]

    def _claim_lane(self, session: Session, lane: Lane, free: int, held: dict[str | None, int],
                    now: datetime, *, others: bool = True) -> tuple[list[ClaimedJob], int | None]:
        """One lane: tenants up to their share first; then, if nobody else is waiting, more for
        tenants at their share — but one share of the lane always stays free for a tenant whose
        work arrives next. Returns the claimed jobs and, when the claim may have left ready work
        behind, the room the lane keeps free (0: it filled; a share: a tenant is at its share),
        else ``None``."""
        claim = functools.partial(self.queue.claim, worker_id=self.worker_id, now=now, lease=self.lease,
                                  kinds=sorted(lane.kinds & set(self.handlers)), affinity=lane.affinity,
                                  live_since=self.policy.live_since(now), session=session)
        if lane.tenant_share >= 1:
            claimed = claim(limit=free)
            return claimed, 0 if len(claimed) >= free else None
        claimed = claim(limit=free, held=held, tenant_cap=lane.tenant_cap, others=others)
        held = dict(held)
        for job in claimed:
            held[job.tenant_id] = held.get(job.tenant_id, 0) + 1
        # The claim for tenants past their share only adds to those at it: this answers for both.
        at_share = any(t is not None and n >= lane.tenant_cap for t, n in held.items())
        spare = free - len(claimed) - lane.tenant_cap
        if spare > 0 and at_share:
            claimed += claim(limit=spare)
        if len(claimed) >= free:
            return claimed, 0
        return claimed, lane.tenant_cap if at_share else None

    def _start(self, state: _LaneState, jobs: list[ClaimedJob]) -> None:
        for job in jobs:
            task = asyncio.create_task(self._run_one(job))
            self._inflight[job.id] = task
            self._holder[job.id] = (state.lane.name, job.tenant_id)
            state.held[job.tenant_id] = state.held.get(job.tenant_id, 0) + 1
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
            lane, tenant = self._holder.pop(job_id, (None, None))
            if lane is not None:
                state = self._lanes[lane]
                state.held[tenant] -= 1
                if not state.held[tenant]:
                    del state.held[tenant]
                state.ended += 1
        if lane is None or not (self.listening.is_set() or self._told_locally):
            self._wake_lane(None)  # nothing tells of new work (not listening yet), or not our job any more
        elif self._lanes[lane].refill_due:
            self._wake_lane(lane)  # it left ready work behind, and a round's worth has ended since

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
            self._wake_lane(self._lane_of.get(job.kind))  # ready again now, and no NOTIFY says so

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
                if self.queue.statistics_due and not stop.is_set():
                    await asyncio.to_thread(self.queue.tend_statistics)
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
                    self._wake_lane(None)
