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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.tables import Job
from mailport.core.leases import RECOVERED_RUN_AT

READY, RUNNING, DONE, FAILED = "ready", "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    tenant_id: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


class JobQueue:
    def __init__(self, db: Database) -> None:
        self.db = db

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
            return job.id
        try:
            with self.db.session() as s:
                if dedupe_key is not None and self._exists(s, kind, dedupe_key):
                    return None
                s.add(job)
                s.flush()
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

    @staticmethod
    def _exists(s: Session, kind: str, dedupe_key: str) -> bool:
        return s.scalar(select(Job.id).where(Job.kind == kind, Job.dedupe_key == dedupe_key)) is not None

    def claim(
        self, *, worker_id: str, now: datetime, lease: timedelta, limit: int, kinds: list[str] | None = None
    ) -> list[ClaimedJob]:
        claimable = or_(
            and_(Job.state == READY, Job.run_at <= now),
            and_(Job.state == RUNNING, Job.locked_until < now),
        )
        inner = select(Job.id).where(claimable)
        if kinds:
            inner = inner.where(Job.kind.in_(kinds))
        inner = inner.order_by(Job.run_at, Job.id).limit(limit)
        if not self.db.is_sqlite:
            inner = inner.with_for_update(skip_locked=True)
        stmt = (
            update(Job)
            .where(Job.id.in_(inner.scalar_subquery()))
            .values(
                state=RUNNING, locked_by=worker_id, locked_until=now + lease, renewed_at=now,
                attempts=Job.attempts + 1, updated_at=now,
            )
            .returning(Job.id, Job.kind, Job.tenant_id, Job.payload, Job.attempts, Job.created_at)
            .execution_options(synchronize_session=False)
        )
        with self.db.session() as s:
            rows = s.execute(stmt).all()
        return [
            ClaimedJob(id=r.id, kind=r.kind, tenant_id=r.tenant_id, payload=r.payload,
                       attempts=r.attempts, created_at=r.created_at)
            for r in rows
        ]

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

    def heartbeat(self, *, worker_id: str, now: datetime, until: datetime) -> int:
        """Renew every lease ``worker_id`` holds, in one statement; returns how many."""
        with self.db.session() as s:
            result = s.execute(
                update(Job).where(Job.locked_by == worker_id, Job.state == RUNNING)
                .values(locked_until=until, renewed_at=now)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

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
            result = s.execute(
                update(Job).where(which, Job.state == RUNNING)
                .values(state=READY, run_at=RECOVERED_RUN_AT, locked_by=None, locked_until=None,
                        renewed_at=None, last_error=error, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    def holds_slot(*, now: datetime | BindParameter[Any],
                   live_since: datetime | BindParameter[Any]) -> ColumnElement[bool]:
        """SQL of :func:`mailport.core.leases.holds_slot`: running, lease valid, still renewed."""
        return and_(Job.state == RUNNING, Job.locked_until >= now, Job.renewed_at >= live_since)

    def complete(self, *, job_id: int, worker_id: str, now: datetime) -> None:
        self._finish(job_id, worker_id, now, state=DONE, error=None)

    def fail(self, *, job_id: int, worker_id: str, now: datetime, error: str) -> None:
        self._finish(job_id, worker_id, now, state=FAILED, error=error)

    def retry(self, *, job_id: int, worker_id: str, now: datetime, run_at: datetime, error: str | None) -> None:
        with self.db.session() as s:
            s.execute(
                update(Job).where(Job.id == job_id, Job.locked_by == worker_id)
                .values(state=READY, run_at=run_at, locked_by=None, locked_until=None,
                        renewed_at=None, last_error=error, updated_at=now)
            )

    def _finish(self, job_id: int, worker_id: str, now: datetime, *, state: str, error: str | None) -> None:
        with self.db.session() as s:
            s.execute(
                update(Job).where(Job.id == job_id, Job.locked_by == worker_id)
                .values(state=state, locked_by=None, locked_until=None, renewed_at=None, last_error=error,
                        updated_at=now)
            )

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

