"""The mailbox page's live test runs, as statements (table ``ui_test_runs``).

Every write of the running process is conditional on the row still being ``running``: a run
cancelled by a newer one (from any process) or pruned answers ``False``, and its process stops it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailport.adapters.storage.tables_sessions import UiTestRun

__all__ = ["UiRunRepository"]

RUNNING = "running"


class UiRunRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, *, run_id: str, tenant_id: str, session_id: str, account_id: str | None, stages: list[str],
            fingerprint: str, now: datetime) -> None:
        self.s.add(UiTestRun(id=run_id, tenant_id=tenant_id, session_id=session_id, account_id=account_id,
                             state=RUNNING, stages=stages, results={}, report=None, fingerprint=fingerprint,
                             started_at=now, updated_at=now))

    def get(self, run_id: str, *, tenant_id: str, session_id: str) -> UiTestRun | None:
        """The run, only for the session (and so the tenant) that started it."""
        return self.s.scalar(select(UiTestRun).where(UiTestRun.id == run_id, UiTestRun.tenant_id == tenant_id,
                                                     UiTestRun.session_id == session_id))

    def running_of(self, session_id: str) -> list[str]:
        """The session's running runs, oldest first."""
        return list(self.s.scalars(select(UiTestRun.id).where(UiTestRun.session_id == session_id,
                                                              UiTestRun.state == RUNNING)
                                   .order_by(UiTestRun.started_at, UiTestRun.id)))

    def cancel(self, run_ids: list[str], *, now: datetime) -> None:
        if run_ids:
            self.s.execute(update(UiTestRun).where(UiTestRun.id.in_(run_ids), UiTestRun.state == RUNNING)
                           .values(state="cancelled", updated_at=now))

    def post(self, run_id: str, *, results: dict[str, Any], now: datetime) -> bool:
        """The stages so far and the heartbeat; ``False`` when the run is no longer running."""
        done = self.s.execute(update(UiTestRun).where(UiTestRun.id == run_id, UiTestRun.state == RUNNING)
                              .values(results=results, updated_at=now))
        return bool(getattr(done, "rowcount", 0))

    def finish(self, run_id: str, *, state: str, results: dict[str, Any], report: dict[str, Any] | None,
               now: datetime) -> None:
        self.s.execute(update(UiTestRun).where(UiTestRun.id == run_id, UiTestRun.state == RUNNING)
                       .values(state=state, results=results, report=report, updated_at=now))
