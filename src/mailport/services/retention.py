"""Retention: the queue and the outbox keep themselves small.

Every ``retention_interval`` seconds one worker (whichever claims the ``prune`` job of that
slot) deletes

- jobs in a final state (``done``, ``failed``) older than ``retention_jobs_days``,
- webhook deliveries that were delivered (or gave up) that long ago,
- the bodies (wire bytes, envelope) of finished messages — sent, failed, cancelled, bounced —
  older than ``retention_bodies_days``: the message, its recipients and its history stay, the
  host product holds the documents,
- the web page's live test runs started more than an hour ago (``services/ui_test_runs.KEEP``).

Deletes run in chunks, each its own short transaction, so a first prune of a large backlog does
not hold the SQLite write lock (or long row locks on PostgreSQL) for long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailport.adapters.queue import DONE, FAILED, ClaimedJob, JobQueue
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.retention_repository import RetentionRepository
from mailport.clock import Clock
from mailport.core.jobs import Done, JobResult
from mailport.services.ui_test_runs import KEEP as TEST_RUNS_KEEP
from mailport.settings import Settings

__all__ = ["PRUNE_JOB", "Pruned", "RetentionService"]

log = logging.getLogger(__name__)

PRUNE_JOB = "prune"
_CHUNK = 2000
_FINISHED_MESSAGES = ("sent", "failed", "cancelled", "bounced")


@dataclass(frozen=True, slots=True)
class Pruned:
    jobs: int
    webhook_deliveries: int
    message_bodies: int
    ui_test_runs: int = 0


class RetentionService:
    def __init__(self, *, db: Database, queue: JobQueue, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.queue = queue
        self.clock = clock
        self.settings = settings

    def prune(self, *, now: datetime | None = None) -> Pruned:
        """Delete what is past its retention age (see the module doc)."""
        now = now or self.clock.now()
        jobs_before = now - timedelta(days=self.settings.retention_jobs_days)
        bodies_before = now - timedelta(days=self.settings.retention_bodies_days)
        jobs = self._chunked(lambda repo: repo.delete_jobs(states=(DONE, FAILED), before=jobs_before, limit=_CHUNK))
        hooks = self._chunked(lambda repo: repo.delete_webhook_deliveries(
            states=("delivered", "failed", "gone"), before=jobs_before, limit=_CHUNK))
        bodies = self._chunked(lambda repo: repo.delete_message_bodies(
            states=_FINISHED_MESSAGES, before=bodies_before, limit=_CHUNK))
        runs = self._chunked(lambda repo: repo.delete_ui_test_runs(before=now - TEST_RUNS_KEEP, limit=_CHUNK))
        pruned = Pruned(jobs=jobs, webhook_deliveries=hooks, message_bodies=bodies, ui_test_runs=runs)
        if jobs or hooks or bodies or runs:
            log.info("retention: pruned %d finished jobs, %d webhook deliveries, %d message bodies, %d test runs",
                     jobs, hooks, bodies, runs)
        return pruned

    def _chunked(self, step: Callable[[RetentionRepository], int]) -> int:
        """Run ``step`` (deletes up to ``_CHUNK`` rows) in its own transaction until a chunk is short."""
        total = 0
        while True:
            with self.db.session() as s:
                deleted = step(RetentionRepository(s))
            total += deleted
            if deleted < _CHUNK:
                return total

    def schedule(self, *, now: datetime | None = None) -> None:
        """Make sure the prune of the current interval slot is queued (once, whoever asks)."""
        now = now or self.clock.now()
        interval = max(1.0, self.settings.retention_interval)
        slot = int(now.timestamp() // interval)
        self.queue.enqueue(kind=PRUNE_JOB, payload={"slot": slot}, now=now,
                           run_at=datetime.fromtimestamp(slot * interval, tz=now.tzinfo),
                           dedupe_key=f"prune:{slot}")
        nxt = slot + 1
        self.queue.enqueue(kind=PRUNE_JOB, payload={"slot": nxt}, now=now,
                           run_at=datetime.fromtimestamp(nxt * interval, tz=now.tzinfo),
                           dedupe_key=f"prune:{nxt}")

    async def handle_prune(self, job: ClaimedJob) -> JobResult:
        await asyncio.to_thread(self.prune)
        await asyncio.to_thread(self.schedule)
        return Done()
