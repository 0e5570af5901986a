"""Live test runs of the mailbox page: started by one request, watched by the page's polling.

A run lives in this process's memory only, for a few minutes: it holds the stages seen so far
and, at the end, the report — never the password (the running task has it in its closure and
drops it when done). The ``fingerprint`` (an HMAC of the tested settings and password) lets
"Save" record a finished test as the account's verification only if nothing changed since.
With several server processes a poll may reach a process that does not know the run; the page
then says so and offers to test again (sticky sessions avoid it; ``serve --processes N`` has none:
a browser's polls mostly reuse one keep-alive connection, and so one process).
"""

from __future__ import annotations

import asyncio
import logging
import secrets as random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mailport.core.verification import StageResult

__all__ = ["Run", "RunRegistry"]

log = logging.getLogger(__name__)

KEEP_SECONDS = 900.0
MAX_RUNS_PER_SESSION = 5


@dataclass(slots=True)
class Run:
    id: str
    session_id: str
    stages: list[str]
    fingerprint: str
    account_id: str | None
    started: float = field(default_factory=time.monotonic)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: dict[str, Any] | None = None
    crashed: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        return self.report is not None or self.crashed

    def stage_rows(self) -> list[dict[str, Any]]:
        """Every planned stage with its result so far (``pending`` until one arrives)."""
        source = {s["stage"]: s for s in self.report["stages"]} if self.report else self.results
        rows = []
        for stage in self.stages:
            row = source.get(stage)
            rows.append(row if row else {"stage": stage, "status": "skipped" if self.done else "pending",
                                         "duration_ms": None, "code": None})
        return rows


class RunRegistry:
    """The runs of this process, by id; old runs are dropped as new ones start."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}

    def start(
        self,
        *,
        session_id: str,
        stages: list[str],
        fingerprint: str,
        account_id: str | None,
        work: Callable[[Callable[[StageResult], None]], Awaitable[dict[str, Any]]],
    ) -> Run:
        self._prune()
        mine = [r for r in self._runs.values() if r.session_id == session_id and not r.done]
        for old in mine[: max(0, len(mine) - MAX_RUNS_PER_SESSION + 1)]:
            if old.task is not None:
                old.task.cancel()  # a user pressing "test" again does not pile up connections
        run = Run(id=random.token_urlsafe(12), session_id=session_id, stages=stages,
                  fingerprint=fingerprint, account_id=account_id)

        def progress(result: StageResult) -> None:
            run.results[result.stage.value] = result.to_dict()

        async def execute() -> None:
            try:
                run.report = await work(progress)
            except asyncio.CancelledError:
                run.crashed = True
                raise
            except Exception:
                # The report already carries every remote failure; reaching here is a bug,
                # which the page shows as "could not be completed" and the log keeps.
                run.crashed = True
                log.exception("test run %s failed unexpectedly", run.id)

        run.task = asyncio.create_task(execute())
        self._runs[run.id] = run
        return run

    def get(self, run_id: str, *, session_id: str) -> Run | None:
        run = self._runs.get(run_id)
        return run if run is not None and run.session_id == session_id else None

    def _prune(self) -> None:
        now = time.monotonic()
        for run_id in [r.id for r in self._runs.values() if r.done and now - r.started > KEEP_SECONDS]:
            del self._runs[run_id]
