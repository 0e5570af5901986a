"""The mailbox page's live test runs: started by one request, watched by the page's polling.

A run executes in the process whose request started it (the test's connections and the password
live there, in the running task's closure, and are dropped when it ends). Its progress is kept
in the database (``ui_test_runs``), so a poll answers the same in every API process of
``serve --processes N`` or behind a load balancer without sticky sessions.

- **Progress and heartbeat.** The running process writes each stage as it arrives and renews
  ``updated_at`` every :data:`HEARTBEAT` seconds. A row still running whose ``updated_at`` is older
  than :data:`STALE_AFTER` belongs to a process that died (killed, restarted): the page says the
  test was interrupted instead of polling for ever.
- **What is stored.** The planned stages, each stage's result and the final report — what the
  page shows, and what an account keeps as its last status anyway — and a fingerprint: an HMAC
  of the tested settings and password under a key derived from the secret key (which also opens
  the stored passwords, so the fingerprint gives a database reader nothing new). "Save", in any
  process, records a finished test as the account's verification only if the fingerprint of
  what is saved matches.
- **Whose run.** A run is read only by the session that started it (and so only by its tenant).
- **How long.** A session keeps at most :data:`MAX_RUNS_PER_SESSION` running: a user pressing
  "test" again cancels the oldest (its process sees the cancel at its next heartbeat). Retention
  deletes runs older than :data:`KEEP` (``services/retention.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets as random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailport.adapters.secrets import derived_key
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.ui_run_repository import RUNNING, UiRunRepository
from mailport.clock import Clock
from mailport.core.verification import StageResult
from mailport.errors import ConfigurationError, MailportError

__all__ = ["HEARTBEAT", "KEEP", "STALE_AFTER", "TestRun", "TestRuns"]

log = logging.getLogger(__name__)

HEARTBEAT = 2.0
"""Seconds between two renewals of a running run's ``updated_at``."""
STALE_AFTER = timedelta(seconds=20)
"""A running run not renewed for this long was lost with its process (ten missed heartbeats:
a busy event loop is slow, not dead)."""
KEEP = timedelta(hours=1)
"""Long enough to press "Save" after a test; retention deletes older runs."""
MAX_RUNS_PER_SESSION = 5

Work = Callable[[Callable[[StageResult], None]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class TestRun:
    """A run as the page shows it: read from the database, the same in every process."""

    __test__ = False  # not a pytest class, for all its name

    id: str
    stages: list[str]
    results: dict[str, dict[str, Any]]
    report: dict[str, Any] | None
    state: str
    """``running``, ``done``, ``crashed`` (a bug, or cancelled by a newer run) or ``interrupted``
    (its process stopped renewing it)."""
    fingerprint: str
    account_id: str | None = None

    @property
    def done(self) -> bool:
        return self.state != RUNNING

    @property
    def crashed(self) -> bool:
        return self.state in ("crashed", "cancelled")

    @property
    def interrupted(self) -> bool:
        return self.state == "interrupted"

    def stage_rows(self) -> list[dict[str, Any]]:
        """Every planned stage with its result so far (``pending`` until one arrives)."""
        source = {s["stage"]: s for s in self.report["stages"]} if self.report else self.results
        rows = []
        for stage in self.stages:
            row = source.get(stage)
            rows.append(row if row else {"stage": stage, "status": "skipped" if self.done else "pending",
                                         "duration_ms": None, "code": None})
        return rows


def state_at(state: str, updated_at: datetime, now: datetime) -> str:
    """The state a poll reports: a running row not renewed within :data:`STALE_AFTER` was interrupted."""
    return "interrupted" if state == RUNNING and now - updated_at > STALE_AFTER else state


@dataclass
class TestRuns:
    """Starts runs in this process and reads any process's runs from the database."""

    __test__ = False

    db: Database
    clock: Clock
    secret_key: str
    heartbeat: float = HEARTBEAT
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.secret_key:
            raise ConfigurationError("the web pages need MAILPORT_SECRET_KEY to sign their sessions")
        # The same key in every process (a fingerprint made in one is checked in another), derived
        # apart from the session and cipher keys.
        self.fingerprint_key = derived_key(self.secret_key, b"mailport ui-test-runs v1")

    async def start(self, *, tenant_id: str, session_id: str, stages: list[str], fingerprint: str,
                    account_id: str | None, work: Work) -> TestRun:
        run_id = random.token_urlsafe(12)
        now = self.clock.now()

        def insert() -> list[str]:
            with self.db.session() as s:
                repo = UiRunRepository(s)
                running = repo.running_of(session_id)
                # A user pressing "test" again does not pile up connections.
                older = running[: max(0, len(running) - MAX_RUNS_PER_SESSION + 1)]
                repo.cancel(older, now=now)
                repo.add(run_id=run_id, tenant_id=tenant_id, session_id=session_id, account_id=account_id,
                         stages=stages, fingerprint=fingerprint, now=now)
                return older

        for old in await asyncio.to_thread(insert):
            task = self._tasks.get(old)
            if task is not None:
                task.cancel()
        task = asyncio.create_task(self._execute(run_id, work))
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))
        return TestRun(id=run_id, stages=stages, results={}, report=None, state=RUNNING, fingerprint=fingerprint,
                       account_id=account_id)

    async def get(self, run_id: str, *, tenant_id: str, session_id: str) -> TestRun | None:
        """The run if this session started it (in any process); ``None`` otherwise."""
        def read() -> TestRun | None:
            with self.db.reading() as s:
                row = UiRunRepository(s).get(run_id, tenant_id=tenant_id, session_id=session_id)
                if row is None:
                    return None
                return TestRun(id=row.id, stages=list(row.stages), results=dict(row.results), report=row.report,
                               state=state_at(row.state, row.updated_at, self.clock.now()),
                               fingerprint=row.fingerprint, account_id=row.account_id)

        return await asyncio.to_thread(read) if run_id else None

    def task_of(self, run_id: str) -> asyncio.Task[None] | None:
        """The task running ``run_id`` in this process (tests wait for it)."""
        return self._tasks.get(run_id)

    async def _execute(self, run_id: str, work: Work) -> None:
        results: dict[str, dict[str, Any]] = {}
        changed = asyncio.Event()

        def progress(result: StageResult) -> None:
            results[result.stage.value] = result.to_dict()
            changed.set()

        job = asyncio.ensure_future(work(progress))
        keeper = asyncio.create_task(self._keep_posted(run_id, results, changed, job))
        report: dict[str, Any] | None = None
        state = "crashed"
        try:
            report = await job
            state = "done"
        except asyncio.CancelledError:
            job.cancel()
            raise
        except Exception:
            # The report already carries every remote failure; reaching here is a bug, which the
            # page shows as "could not be completed" and the log keeps.
            log.exception("test run %s failed unexpectedly", run_id)
        finally:
            keeper.cancel()
            await self._finish(run_id, state=state, results=dict(results), report=report)

    async def _finish(self, run_id: str, *, state: str, results: dict[str, Any],
                      report: dict[str, Any] | None) -> None:
        def write() -> None:
            with self.db.session() as s:
                UiRunRepository(s).finish(run_id, state=state, results=results, report=report, now=self.clock.now())

        try:
            # Shielded: a cancelled run (a newer one, or shutdown) still says it ended.
            await asyncio.shield(asyncio.to_thread(write))
        except (MailportError, RuntimeError, asyncio.CancelledError):
            # The database is away or the loop is closing: the heartbeat stops, and polls say
            # "interrupted" once it is stale — the same as for a process that died.
            log.warning("test run %s: its end could not be recorded", run_id, exc_info=True)

    async def _keep_posted(self, run_id: str, results: dict[str, Any], changed: asyncio.Event,
                           job: asyncio.Future[Any]) -> None:
        """Write the stages as they arrive and renew the heartbeat; stop the run when its row says
        it should (cancelled from another process, or pruned)."""
        def post(snapshot: dict[str, Any]) -> bool:
            with self.db.session() as s:
                return UiRunRepository(s).post(run_id, results=snapshot, now=self.clock.now())

        while not job.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=self.heartbeat)
            changed.clear()
            try:
                still = await asyncio.to_thread(post, dict(results))
            except MailportError:
                log.warning("test run %s: progress could not be recorded", run_id, exc_info=True)
                continue
            if not still:
                job.cancel()
                return

