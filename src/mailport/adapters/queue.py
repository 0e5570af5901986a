"""The durable job queue on the database: enqueue, claim with a lease, finish, retry.

One table serves every kind of background work. Claiming is a single ``UPDATE … RETURNING`` over
the ready jobs; on PostgreSQL the inner select takes ``FOR UPDATE SKIP LOCKED`` so any number of
workers on any hosts claim disjoint jobs without waiting on each other. SQLite serializes writers
by itself, which is why the SQLite default runs its worker inside the serving process.

Leases follow :mod:`mailport.core.leases` — one rule for every job: a worker renews all its
jobs with one :meth:`JobQueue.heartbeat`; a job whose lease (``locked_until``) ran out is
claimable again (its worker vanished); a job holds its account's concurrency slot only while
it is renewed (:meth:`JobQueue.holds_slot`); a worker known to be dead has its jobs released at
once, ahead of the backlog (:meth:`JobQueue.release_worker`).

Jobs that share a limited resource (a mailbox's sends under its concurrency limit) can be
claimed with an :class:`Affinity`: a worker leaves such a job to the live worker that already
holds enough of them to fill the resource's slots alone, so two workers do not split one
mailbox's slots and have half their begins refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.id_lists import PerDialect, one_of
from mailport.adapters.storage.row_insert import RowInsert
from mailport.adapters.storage.statistics import FirstStatistics
from mailport.adapters.storage.tables import Job, utc_param
from mailport.core.jobs import Done, Fail, JobResult, Retry, Settled
from mailport.core.leases import RECOVERED_RUN_AT

log = logging.getLogger(__name__)

READY, RUNNING, DONE, FAILED = "ready", "running", "done", "failed"
_JOBS = cast(Table, Job.__table__)
# One prepared UPDATE for every settled job (executemany): run_at is kept unless a retry sets it.
_SETTLE = update(_JOBS).where(_JOBS.c.id == bindparam("b_id"), _JOBS.c.locked_by == bindparam("b_worker")).values(
    locked_by=None, locked_until=None, renewed_at=None,
    run_at=func.coalesce(bindparam("b_run_at", type_=_JOBS.c.run_at.type), _JOBS.c.run_at))
# PostgreSQL: the same in one statement for the whole batch (an executemany was one execution
# per job, each with its own round of statement overhead on both sides).
_SETTLE_PG = text(
    "UPDATE jobs AS j SET state = v.state, last_error = v.last_error, updated_at = v.updated_at, locked_by = NULL, "
    "locked_until = NULL, renewed_at = NULL, run_at = coalesce(v.run_at, j.run_at) "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:states AS varchar[]), CAST(:errors AS text[]), "
    "CAST(:run_ats AS timestamptz[]), CAST(:updated AS timestamptz[])) AS v(id, state, last_error, run_at, updated_at) "
    "WHERE j.id = v.id AND j.locked_by = :worker"
)
CHANNEL = "mailport_jobs"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :b_payload)")
# A wake-up's payload tells which job kinds became ready, and for which tenants when few
# (``kind,kind;tenant,tenant``: :func:`wake_payload`), so that a worker claims only the lanes
# that run them, and not for a tenant already at its share there (``Worker.notified``).
_PAYLOAD_TENANTS = 16
_WAKE_PAYLOAD = re.compile(r"[a-z0-9_.]+(,[a-z0-9_.]+)*(;[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)?")


def wake_payload(jobs: Iterable[tuple[str, str | None]]) -> str | None:
    """The ``NOTIFY`` payload for jobs (kind, tenant) that became ready; ``None`` for none.
    Tenants are left out (any tenant) when a job has none or there are many."""
    kinds: set[str] = set()
    tenants: set[str | None] = set()
    for kind, tenant in jobs:
        kinds.add(kind)
        tenants.add(tenant)
    if not kinds:
        return None
    payload = ",".join(sorted(kinds))
    if None not in tenants and len(tenants) <= _PAYLOAD_TENANTS:
        payload += ";" + ",".join(sorted(cast(set[str], tenants)))
    if not _WAKE_PAYLOAD.fullmatch(payload):
        payload = ",".join(sorted(kinds))  # a tenant id of another shape: say any tenant
    return payload if _WAKE_PAYLOAD.fullmatch(payload) else ""


def read_wake_payload(payload: str | None) -> tuple[set[str] | None, set[str] | None]:
    """A payload's job kinds and tenants (``None``: every kind, any tenant)."""
    if not payload or not _WAKE_PAYLOAD.fullmatch(payload):
        return None, None
    kinds, _, tenants = payload.partition(";")
    return set(kinds.split(",")), set(tenants.split(",")) if tenants else None
_QUEUED_KEYS = PerDialect(lambda postgresql: select(_JOBS.c.dedupe_key).where(
    _JOBS.c.kind == bindparam("b_kind"), one_of(_JOBS.c.dedupe_key, "b_keys", postgresql=postgresql)))


@dataclass(frozen=True, slots=True)
class Affinity:
    """Jobs of ``kind`` whose payload's ``key`` names a resource with ``threshold`` slots (a
    mailbox's sends and its concurrency limit). A claim skips such a job while another live
    worker holds at least ``threshold`` running jobs of the same resource (and more than this
    one, or as many with an id that sorts first): that worker fills every slot by itself, and a
    second holder's jobs would only be refused at the resource's limit and bounce. Below the
    threshold nobody is skipped, so many resources with a few jobs each still spread over all
    workers. Only values starting with ``prefix`` count (the
    platform relay is not a mailbox with slots). This is a preference, not the limit: the
    limit itself is checked when a send begins."""

    kind: str
    key: str
    threshold: int
    prefix: str = ""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    tenant_id: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    locked_by: str | None = None  # the worker that claimed it


def settled_values(outcome: JobResult) -> tuple[str, datetime | None, str | None]:
    """A job's ``state``, new ``run_at`` (``None``: kept) and ``last_error`` for a result."""
    result = outcome.result if isinstance(outcome, Settled) else outcome
    match result:
        case Done():
            return DONE, None, None
        case Retry(run_at=retry_at, error=error):
            return READY, retry_at, error
        case Fail(error=error):
            return FAILED, None, error
    raise TypeError(f"not a job result: {result!r}")


def _claimed(rows: Any, worker_id: str) -> list[ClaimedJob]:
    return [ClaimedJob(id=r.id, kind=r.kind, tenant_id=r.tenant_id, payload=r.payload, attempts=r.attempts,
                       created_at=r.created_at, locked_by=worker_id) for r in rows]


def _not_filled_elsewhere(affinity: Affinity) -> ColumnElement[bool]:
    """Not a job of a resource that another live worker (``b_worker`` is this one, ``b_live``
    when a heartbeat counts as live) holds ``threshold`` running jobs of — unless this worker
    holds more of it (or as many, and its id sorts first): when both filled it during a burst,
    each used to leave it to the other, and the two kept splitting it. Uncorrelated subqueries
    over the running jobs (a few hundred rows at most, found by ``ix_jobs_ready``), which
    PostgreSQL runs once per claim."""
    def held() -> Any:
        other = _JOBS.alias()
        resource = other.c.payload[affinity.key].as_string()
        return (
            select(other.c.locked_by.label("w"), resource.label("r"), func.count().label("n"))
            .where(other.c.kind == affinity.kind, other.c.state == RUNNING,
                   other.c.locked_until >= bindparam("b_now"), other.c.renewed_at >= bindparam("b_live"),
                   resource.startswith(affinity.prefix, autoescape=True))
            .group_by(other.c.locked_by, resource)
            .subquery()
        )

    them, mine = held(), held()
    worker: BindParameter[str] = bindparam("b_worker")
    own = func.coalesce(mine.c.n, 0)
    filled = (
        select(them.c.r)
        .select_from(them.outerjoin(mine, and_(mine.c.r == them.c.r, mine.c.w == worker)))
        .where(them.c.w != worker, them.c.n >= affinity.threshold,
               or_(them.c.n > own, and_(them.c.n == own, them.c.w < worker)))
    )
    # NOT IN of a NULL is NULL (not true): a job without the key is never skipped
    return or_(_JOBS.c.kind != affinity.kind,
               func.coalesce(_JOBS.c.payload[affinity.key].as_string(), "").not_in(filled.scalar_subquery()))


@dataclass(frozen=True, slots=True)
class _Claims:
    """A claim's statements (:func:`_claim_statements`)."""

    scan: Any  # the capped claim's candidates: (id, tenant_id, seen)
    take_listed: Any  # the UPDATE that takes a list of them
    take_oldest: Any  # the uncapped claim's one UPDATE of the oldest
    tenants: Any  # the tenants with ready jobs, one index probe each
    of_tenants: Any  # the oldest claimable ready jobs of each tenant of ``b_tenants`` (SQLite: ``b_tenant``)
    untenanted: Any  # the same of the jobs without a tenant


_REAP_EVERY = timedelta(seconds=1)  # how often a queue makes lapsed leases ready again (JobQueue._reap)


def _given_back(which: ColumnElement[bool], *, now: datetime, error: str) -> Any:
    """The UPDATE that gives the running jobs ``which`` selects back to the queue: ready at
    once, ahead of the backlog, unlocked; their holder, should it come back, finds its lease gone
    (:meth:`JobQueue.extend`)."""
    return (update(Job).where(which, Job.state == RUNNING)
            .values(state=READY, run_at=RECOVERED_RUN_AT, locked_by=None, locked_until=None,
                    renewed_at=None, last_error=error, updated_at=now)
            .execution_options(synchronize_session=False))
# The capped claim looks at this many times as many of the oldest ready jobs as it wants for
# tenants below their share before it asks each tenant for its own (:meth:`JobQueue._candidates`).
_CLAIM_WINDOW = 4
# Inline, not a parameter: whether ix_jobs_ready_tenant (``WHERE state = 'ready'``) may be used is
# decided when the statement is planned, before a parameter's value is known.
_READY_LITERAL: ColumnElement[str] = literal_column(f"'{READY}'")


@functools.cache
def _claim_statements(postgresql: bool, affinity: Affinity | None, with_kinds: bool) -> _Claims:
    """The claim's statements, built once per shape (building a select costs more Python time
    than the database takes to run it, and a worker claims after every wake-up). Parameters:
    ``b_now``, ``b_until``, ``b_worker``, ``b_live``, ``b_kinds``, ``b_limit``, and ``b_full``
    (tenants at their cap) with ``b_window``, ``b_ids``, ``b_tenants`` or ``b_each``."""
    jobs = _JOBS.c
    now = bindparam("b_now", type_=jobs.run_at.type)
    ready = and_(jobs.state == READY, jobs.run_at <= now)
    wanted: list[ColumnElement[bool]] = []
    if with_kinds:
        wanted.append(one_of(jobs.kind, "b_kinds", postgresql=postgresql))
    if affinity is not None:
        wanted.append(_not_filled_elsewhere(affinity))

    def oldest_ids() -> Any:
        """The oldest ready jobs' ids, in the order of ``ix_jobs_ready`` and stopping at the limit
        (lapsed leases are made ready again first: :meth:`JobQueue._reap`). One scan of "ready,
        or running with a lapsed lease" read and sorted every due job: at a month-end depth of
        300,000 a claim took 200 ms on PostgreSQL and 250 ms on SQLite — holding SQLite's write
        lock, which the API's accepts wait for (bench/bench_send.py, session 12)."""
        scan = select(jobs.id).where(ready, *wanted).order_by(jobs.run_at, jobs.id).limit(bindparam("b_limit"))
        return scan.with_for_update(skip_locked=True) if postgresql else scan

    # The capped claim's candidates: of the oldest ``b_window`` ready jobs those of tenants below
    # their share, with how many ready ones were looked at (``seen``: the window was full, so a
    # tenant's job behind it was not seen) — one tenant's month-end backlog at the front of the
    # queue was otherwise walked through on every claim while it held its share.
    limit: BindParameter[int] = bindparam("b_limit")
    window = (select(jobs.id, jobs.tenant_id, jobs.run_at).where(ready, *wanted)
              .order_by(jobs.run_at, jobs.id).limit(bindparam("b_window")).cte("window"))
    seen = select(func.count()).select_from(window).scalar_subquery()
    scan = (select(window.c.id, window.c.tenant_id, seen.label("seen"))
            .where(or_(window.c.tenant_id.is_(None), ~one_of(window.c.tenant_id, "b_full", postgresql=postgresql)))
            .order_by(window.c.run_at, window.c.id).limit(limit))

    # Each tenant with ready jobs, one probe of ix_jobs_ready_tenant each (a loose index scan).
    # Ordered by (tenant, run_at), which that index alone gives: the index of all jobs by tenant
    # would walk the done and dead rows of the next tenants for a ready one.
    other = _JOBS.alias("later")
    first = select(select(jobs.tenant_id).where(jobs.state == _READY_LITERAL, jobs.tenant_id.is_not(None))
                   .order_by(jobs.tenant_id, jobs.run_at).limit(1).scalar_subquery().label("tenant_id"))
    walk = first.cte("tenants", recursive=True)
    walk = walk.union_all(
        select(select(other.c.tenant_id)
               .where(other.c.state == _READY_LITERAL, other.c.tenant_id > walk.c.tenant_id)
               .order_by(other.c.tenant_id, other.c.run_at).limit(1)
               .scalar_subquery())
        .where(walk.c.tenant_id.is_not(None)))
    tenants = select(walk.c.tenant_id).where(walk.c.tenant_id.is_not(None))

    def own(which: ColumnElement[bool]) -> Any:
        return (select(jobs.id, jobs.tenant_id, jobs.run_at)
                .where(jobs.state == _READY_LITERAL, jobs.run_at <= now, which, *wanted)
                .order_by(jobs.run_at, jobs.id).limit(bindparam("b_each")))

    if postgresql:
        listed_tenants = (func.unnest(bindparam("b_tenants", type_=ARRAY(String))).table_valued("tenant")
                          .render_derived(name="t"))
        each = own(jobs.tenant_id == listed_tenants.c.tenant).lateral("each")
        of_tenants = select(each.c.id, each.c.tenant_id, each.c.run_at).select_from(
            listed_tenants.join(each, true()))
    else:
        of_tenants = own(jobs.tenant_id == bindparam("b_tenant"))
    untenanted = own(jobs.tenant_id.is_(None))

    def take(which: ColumnElement[bool]) -> Any:
        return (update(_JOBS).where(which)
                .values(state=RUNNING, locked_by=bindparam("b_worker"),
                        locked_until=bindparam("b_until", type_=jobs.locked_until.type), renewed_at=now,
                        attempts=jobs.attempts + 1, updated_at=now)
                .returning(jobs.id, jobs.kind, jobs.tenant_id, jobs.payload, jobs.attempts, jobs.created_at))

    listed = and_(one_of(jobs.id, "b_ids", postgresql=postgresql), ready)
    chosen = oldest_ids().scalar_subquery()
    # ``= ANY(ARRAY(…))``, not ``IN (…)``: PostgreSQL may join ``IN`` with a scan of every job.
    return _Claims(scan=scan, take_listed=take(listed),
                   take_oldest=take(jobs.id == any_(func.array(chosen)) if postgresql else jobs.id.in_(chosen)),
                   tenants=tenants, of_tenants=of_tenants, untenanted=untenanted)


class JobQueue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._reaped_at: datetime | None = None
        self._statistics = FirstStatistics(db)
        self.on_ready: Callable[[str], None] | None = None
        """SQLite: told, after a commit that made jobs ready, their wake payload
        (:func:`wake_payload`) — the embedded worker's wake-up, in this process or through
        ``serve``'s pipe to its child. It may be called on any thread. PostgreSQL's workers hear
        ``NOTIFY`` instead."""

    @property
    def statistics_due(self) -> bool:
        """:meth:`tend_statistics` has something to look at (cheap, no database work)."""
        return self._statistics.due

    def tend_statistics(self) -> list[str]:
        """PostgreSQL: the first statistics of the tables the claims and the send jobs read, once
        they filled before autovacuum analyzed them (:mod:`mailport.adapters.storage.statistics`);
        the tables analyzed now. A worker calls it with its heartbeat."""
        return self._statistics.refresh()

    def enqueue(
        self,
        *,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        run_at: datetime | None = None,
        tenant_id: str | None = None,
        dedupe_key: str | None = None,
        session: Session | None = None,
    ) -> int | None:
        """Add a job; with ``session`` it joins the caller's transaction (commit together).

        With a ``dedupe_key`` an existing job of the same kind and key wins and ``None`` is returned.
        """
        job = Job(
            kind=kind, payload=payload, tenant_id=tenant_id, dedupe_key=dedupe_key, state=READY,
            run_at=run_at or now, attempts=0, created_at=now, updated_at=now,
        )
        if session is not None:
            if dedupe_key is not None and self._exists(session, kind, dedupe_key):
                return None
            session.add(job)
            session.flush()
            self._notify(session, wake_payload([(kind, tenant_id)]) if job.run_at <= now else None)
            return job.id
        try:
            with self.db.session() as s:
                if dedupe_key is not None and self._exists(s, kind, dedupe_key):
                    return None
                s.add(job)
                s.flush()
                self._notify(s, wake_payload([(kind, tenant_id)]) if job.run_at <= now else None)
                return job.id
        except Exception as exc:  # a concurrent enqueue of the same key won the race
            if isinstance(exc.__cause__, IntegrityError):
                return None
            raise

    def requeue(self, *, kind: str, dedupe_key: str, payload: dict[str, Any], now: datetime,
                tenant_id: str | None, session: Session) -> None:
        """Make the job of ``kind`` and ``dedupe_key`` ready now, in the caller's transaction:
        a finished or waiting one is reset (a running one is left to its worker); a job that
        retention removed already is added again."""
        existing = session.scalar(select(Job).where(Job.kind == kind, Job.dedupe_key == dedupe_key))
        if existing is None:
            self.enqueue(kind=kind, payload=payload, now=now, tenant_id=tenant_id, dedupe_key=dedupe_key,
                         session=session)
        elif existing.state != RUNNING:
            existing.state, existing.run_at, existing.last_error, existing.updated_at = READY, now, None, now
            existing.locked_by = existing.locked_until = existing.renewed_at = None
            self._notify(session, wake_payload([(kind, tenant_id)]))

    def enqueue_new(self, session: Session, jobs: list[dict[str, Any]], *, now: datetime) -> None:
        """Insert jobs whose dedupe keys are fresh (ids made in this transaction) in one
        executemany, in the caller's transaction: the accept path of a batch. Each dict holds
        ``kind``, ``payload``, ``tenant_id``, ``dedupe_key`` and optionally ``run_at``."""
        if not jobs:
            return
        rows = self.new_rows(jobs, now=now)
        self.insert_rows(session, rows)
        self._notify(session, self.wake_payload(rows, now=now))

    # The jobs table's INSERT of :meth:`new_rows` (a caller may write them in a statement of its own).
    INSERT_ROWS = RowInsert(cast(Table, Job.__table__))

    @staticmethod
    def new_rows(jobs: Sequence[Mapping[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
        """The rows :meth:`enqueue_new` stores for ``jobs`` (for a caller that stores them itself
        and wakes the workers with :meth:`wake_payload`: ``NOTIFY`` on :data:`CHANNEL`)."""
        return [{"kind": j["kind"], "payload": j["payload"], "tenant_id": j.get("tenant_id"),
                 "dedupe_key": j.get("dedupe_key"), "state": READY, "run_at": j.get("run_at") or now,
                 "attempts": 0, "created_at": now, "updated_at": now} for j in jobs]

    @classmethod
    def insert_rows(cls, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        cls.INSERT_ROWS.execute(session.connection(), rows)

    @staticmethod
    def wake_payload(rows: Sequence[Mapping[str, Any]], *, now: datetime) -> str | None:
        """The ``NOTIFY`` payload for these new rows (:func:`wake_payload` of those to run at
        once), or ``None`` when none is (nobody is to be woken)."""
        return wake_payload((str(r["kind"]), r.get("tenant_id")) for r in rows if r["run_at"] <= now)

    def enqueue_deduped(self, session: Session, jobs: list[dict[str, Any]], *, now: datetime) -> None:
        """:meth:`enqueue` of many jobs with dedupe keys, in the caller's transaction: one read
        finds the keys queued already (those win, as in :meth:`enqueue`), one executemany adds
        the rest. Same dict keys as :meth:`enqueue_new`."""
        if not jobs:
            return
        taken: set[tuple[str, str]] = set()
        for kind in {j["kind"] for j in jobs}:
            keys = [j["dedupe_key"] for j in jobs if j["kind"] == kind]
            found = session.scalars(_QUEUED_KEYS.for_session(session), {"b_kind": kind, "b_keys": keys})
            taken.update((kind, k) for k in found)
        self.enqueue_new(session, [j for j in jobs if (j["kind"], j["dedupe_key"]) not in taken], now=now)

    def _notify(self, s: Session, payload: str | None) -> None:
        """Wake the workers with ``payload`` (:func:`wake_payload`; ``None``: nothing became
        ready) when this transaction commits: ``NOTIFY`` on PostgreSQL (equal notifications of
        one transaction are folded into one), :meth:`tell_locally` on SQLite. A rolled-back job
        wakes nobody."""
        if payload is None:
            return
        if self.db.is_sqlite:
            self.tell_locally(s, payload)
        else:
            s.execute(_NOTIFY, {"b_payload": payload})

    def tell_locally(self, s: Session, payload: str | None) -> None:
        """SQLite: hand ``payload`` to :attr:`on_ready` once ``s`` commits (for a caller that
        stores jobs itself; on PostgreSQL its statement carries the ``NOTIFY``)."""
        if payload is not None and self.db.is_sqlite and (on_ready := self.on_ready) is not None:
            Database.after_commit(s, functools.partial(on_ready, payload))

    async def listen(self, on_wake: Callable[[str | None], None], stop: asyncio.Event, *,
                     listening: asyncio.Event | None = None) -> None:
        """PostgreSQL ``LISTEN``: call ``on_wake`` with the payload (:func:`read_wake_payload`;
        ``None`` after (re)connecting: anything may be ready) whenever jobs became ready, until
        ``stop``.

        A lost connection is re-opened with backoff (the poll covers the gap); on SQLite there
        is nothing to listen to and the in-process wake-up after an enqueue does the job.
        """
        if self.db.is_sqlite:
            return
        import psycopg

        dsn = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        delay = 0.2
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    delay = 0.2
                    if listening is not None:
                        listening.set()
                    on_wake(None)  # anything enqueued while we were not listening
                    async for notify in conn.notifies():
                        on_wake(notify.payload or None)
            except (psycopg.Error, OSError) as exc:
                log.debug("job wake-ups lost (%s); the poll covers until they are back", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    @staticmethod
    def _exists(s: Session, kind: str, dedupe_key: str) -> bool:
        return s.scalar(select(Job.id).where(Job.kind == kind, Job.dedupe_key == dedupe_key)) is not None

    def transaction(self) -> contextlib.AbstractContextManager[Session]:
        """A transaction on the queue's database (several claims in one: :meth:`claim`'s ``session``)."""
        return self.db.session()

    def claiming(self) -> contextlib.AbstractContextManager[Session]:
        """A session for several claims (:meth:`claim`'s ``session``): on PostgreSQL each of its
        statements commits on its own (:meth:`Database.statements` — every claim statement is
        safe alone, and a claim is one statement under a trickle), without BEGIN and COMMIT."""
        return self.db.statements()

    def claim(
        self, *, worker_id: str, now: datetime, lease: timedelta, limit: int, kinds: list[str] | None = None,
        held: Mapping[str | None, int] | None = None, tenant_cap: int | None = None,
        affinity: Affinity | None = None, live_since: datetime | None = None,
        session: Session | None = None, others: bool = True,
    ) -> list[ClaimedJob]:
        """Claim up to ``limit`` ready jobs (oldest first) for ``worker_id``.

        With ``tenant_cap``, no tenant ends up with more than that many jobs of this claim plus
        what ``held`` says it already runs here: tenants at their cap are skipped, so another
        tenant's job is claimed even when it is queued behind thousands of theirs (not looked
        for when the caller knows that no tenant below its cap has ready jobs: ``others``). With
        ``affinity`` (and ``live_since``, when a holder's heartbeat counts as live), the jobs of
        resources another worker fills are skipped (:class:`Affinity`). With ``session`` the claim
        joins that transaction.
        """
        postgresql = not self.db.is_sqlite
        params: dict[str, Any] = {"b_now": now, "b_until": now + lease, "b_worker": worker_id,
                                  "b_live": live_since or now, "b_kinds": kinds or []}
        # SQLite runs one worker (inside ``serve``): nobody to leave a mailbox to, and its
        # NOT IN would read every ready job's JSON on each claim, while PostgreSQL skips the
        # left side when no mailbox is filled elsewhere (the usual case).
        statements = _claim_statements(postgresql, affinity if postgresql else None, bool(kinds))
        take_listed, take_oldest = statements.take_listed, statements.take_oldest
        if tenant_cap is None:
            with self._joined(session) as s:
                self._reap(s.connection(), now)
                return _claimed(s.connection().execute(take_oldest, {**params, "b_limit": limit}), worker_id)
        budget = {t: tenant_cap - n for t, n in (held or {}).items()}
        picked: list[ClaimedJob] = []
        with self._joined(session) as s:
            connection = s.connection()
            self._reap(connection, now)
            # As many as the tenant with the least room left may take cannot put any tenant
            # over its cap: those are claimed in one statement. Fewer came back: that was every
            # ready job (the common case under a trickle, where each wake-up finds one or two).
            first = min(limit, tenant_cap, *(left for t, left in budget.items() if t is not None))
            if first > 0:
                picked = _claimed(connection.execute(take_oldest, {**params, "b_limit": first}), worker_id)
                if len(picked) < first:
                    return picked
                for job in picked:
                    budget[job.tenant_id] = budget.get(job.tenant_id, tenant_cap) - 1
            for _ in range(4 if others else 0):  # each round skips the tenants the previous one filled
                want = limit - len(picked)
                if want <= 0:
                    break
                full = [t for t, left in budget.items() if t is not None and left <= 0]
                rows = self._candidates(connection, statements, params, full, want * 2 + 16,
                                        each=min(want, tenant_cap))
                ids: list[int] = []
                for job_id, tenant in rows:
                    if len(ids) >= want:
                        break
                    left = budget.get(tenant, tenant_cap)
                    if tenant is not None and left <= 0:
                        continue
                    budget[tenant] = left - 1
                    ids.append(job_id)
                if ids:
                    picked += _claimed(connection.execute(take_listed, {**params, "b_ids": ids}), worker_id)
                if len(rows) < want * 2 + 16:
                    break  # saw every ready job
        return picked

    def _reap(self, connection: Any, now: datetime) -> None:
        """Make the jobs whose lease lapsed ready again, ahead of the backlog — at most once a
        second per queue, so that a claim is one plain scan of the ready jobs (a worker that
        vanished without a trace has its jobs taken over a second later at most)."""
        if self._reaped_at is not None and self._reaped_at <= now < self._reaped_at + _REAP_EVERY:
            return
        self._reaped_at = now
        connection.execute(_given_back(Job.locked_until < now, now=now, error="lease lapsed"))

    def _candidates(self, connection: Any, statements: _Claims, params: dict[str, Any], full: list[str],
                    limit: int, *, each: int) -> list[tuple[int, str | None]]:
        """The capped claim's candidates, oldest first: (id, tenant) of up to ``limit`` claimable
        jobs of tenants not in ``full``. From the oldest ready jobs when those hold enough, else
        (the window was full — a tenant at its share has thousands queued in front) from each
        tenant's own oldest ``each``, one index probe per tenant instead of a walk through the
        backlog: a claim at a depth of 300,000 behind one tenant took 200 ms on SQLite, holding
        the lock the API's accepts wait for (bench/bench_send.py ``claim_depth``)."""
        window = _CLAIM_WINDOW * limit
        rows = connection.execute(statements.scan, {**params, "b_full": full, "b_limit": limit,
                                                    "b_window": window}).all()
        if len(rows) >= limit or (rows and rows[0].seen < window):
            return [(r.id, r.tenant_id) for r in rows]
        found: list[tuple[datetime, int, str | None]] = []
        skip = set(full)
        tenants = [t for t in connection.execute(statements.tenants, params).scalars() if t not in skip]
        per = {**params, "b_each": each}
        if tenants and self.db.is_sqlite:
            for tenant in tenants:
                found += [(r.run_at, r.id, r.tenant_id)
                          for r in connection.execute(statements.of_tenants, {**per, "b_tenant": tenant})]
        elif tenants:
            found += [(r.run_at, r.id, r.tenant_id)
                      for r in connection.execute(statements.of_tenants, {**per, "b_tenants": tenants})]
        found += [(r.run_at, r.id, r.tenant_id) for r in connection.execute(statements.untenanted, per)]
        found.sort(key=lambda f: (f[0], f[1]))
        return [(job_id, tenant) for _, job_id, tenant in found[:limit]]

    def _joined(self, session: Session | None) -> contextlib.AbstractContextManager[Session]:
        return contextlib.nullcontext(session) if session is not None else self.db.session()

    def extend(self, *, job_id: int, worker_id: str, until: datetime, now: datetime | None = None) -> bool:
        """Renew one lease; False if the job was taken over meanwhile."""
        values: dict[str, Any] = {"locked_until": until}
        if now is not None:
            values["renewed_at"] = now
        with self.db.session() as s:
            result = s.execute(
                update(Job).where(Job.id == job_id, Job.locked_by == worker_id, Job.state == RUNNING)
                .values(**values)
            )
            return bool(getattr(result, "rowcount", 0))

    def heartbeat(self, *, worker_id: str, now: datetime, until: datetime, job_ids: list[int]) -> int:
        """Renew the leases of ``job_ids`` (the jobs ``worker_id`` is running), in one statement.

        Any other job still locked by ``worker_id`` is a claim whose answer never reached it (the
        connection broke after the commit): it is released, ahead of the backlog, instead of
        being held — and renewed — forever. Returns how many leases were renewed.
        """
        with self.db.session() as s:
            renewed = 0
            if job_ids:
                result = s.execute(
                    update(Job).where(Job.locked_by == worker_id, Job.state == RUNNING,
                                      one_of(Job.id, "b_ids", postgresql=not self.db.is_sqlite, value=job_ids))
                    .values(locked_until=until, renewed_at=now)
                    .execution_options(synchronize_session=False)
                )
                renewed = int(getattr(result, "rowcount", 0) or 0)
            s.execute(_given_back(
                and_(Job.locked_by == worker_id,
                     ~one_of(Job.id, "b_held", postgresql=not self.db.is_sqlite, value=job_ids)),
                now=now, error="claim lost in transit"))
            return renewed

    def holders(self) -> list[str]:
        """The workers holding running jobs (to find the dead ones among them)."""
        with self.db.session() as s:
            rows = s.scalars(select(Job.locked_by).where(Job.state == RUNNING).distinct())
            return [r for r in rows if r]

    def release_worker(self, *, worker_id: str, now: datetime) -> int:
        """Give back every job of a worker known to be dead: ready at once, before the backlog."""
        return self._release(Job.locked_by == worker_id, now=now, error="worker died")

    def release(self, *, job_ids: list[int], worker_id: str, now: datetime) -> int:
        """Give back jobs this worker claimed but will not finish (it is stopping)."""
        if not job_ids:
            return 0
        return self._release(and_(Job.id.in_(job_ids), Job.locked_by == worker_id), now=now,
                             error="released by a stopping worker")

    def _release(self, which: ColumnElement[bool], *, now: datetime, error: str) -> int:
        with self.db.session() as s:
            result = s.execute(_given_back(which, now=now, error=error))
            return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    def holds_slot(*, now: datetime | BindParameter[Any],
                   live_since: datetime | BindParameter[Any]) -> ColumnElement[bool]:
        """SQL of :func:`mailport.core.leases.holds_slot`: running, lease valid, still renewed."""
        return and_(Job.state == RUNNING, Job.locked_until >= now, Job.renewed_at >= live_since)

    def complete(self, *, job_id: int, worker_id: str, now: datetime) -> None:
        self.settle_many([(job_id, Done())], worker_id=worker_id, now=now)

    def fail(self, *, job_id: int, worker_id: str, now: datetime, error: str) -> None:
        self.settle_many([(job_id, Fail(error=error))], worker_id=worker_id, now=now)

    def retry(self, *, job_id: int, worker_id: str, now: datetime, run_at: datetime, error: str | None) -> None:
        self.settle_many([(job_id, Retry(run_at=run_at, error=error))], worker_id=worker_id, now=now)

    def settle_many(self, outcomes: list[tuple[int, JobResult]], *, worker_id: str, now: datetime,
                    session: Session | None = None) -> None:
        """Record many jobs' results in one transaction (a worker's group commit, or the
        caller's ``session``): done, failed, or back to ready at its ``run_at`` — each only while
        ``worker_id`` still holds it."""
        rows: list[dict[str, Any]] = []
        for job_id, outcome in outcomes:
            state, run_at, error = settled_values(outcome)
            rows.append({"b_id": job_id, "b_worker": worker_id, "state": state, "last_error": error,
                         "b_run_at": run_at, "updated_at": now})
        if not rows:
            return
        with self._joined(session) as s:
            connection = s.connection()
            if connection.dialect.name == "postgresql":
                connection.execute(_SETTLE_PG, {
                    "worker": worker_id, "ids": [r["b_id"] for r in rows], "states": [r["state"] for r in rows],
                    "errors": [r["last_error"] for r in rows], "run_ats": [utc_param(r["b_run_at"]) for r in rows],
                    "updated": [utc_param(now)] * len(rows)})
            else:
                connection.execute(_SETTLE, rows)

    def counts(self) -> dict[tuple[str, str], int]:
        """Jobs per (kind, state), for metrics."""
        with self.db.session() as s:
            rows = s.execute(select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)).all()
        return {(kind, state): int(count) for kind, state, count in rows}

    def depth(self) -> dict[str, int]:
        """Jobs per state (for metrics and readiness)."""
        with self.db.session() as s:
            rows = s.execute(select(Job.state, func.count()).group_by(Job.state)).all()
        return {state: int(count) for state, count in rows}

