"""First statistics for the busy tables of a new PostgreSQL installation.

PostgreSQL plans by the statistics ``ANALYZE`` gathers; autovacuum gathers them a minute or more
after a table filled. A new installation's first month-end run fills ``jobs``, ``messages`` and
their neighbours with thousands of rows within seconds, and until then the planner knows no more
than "a few rows, 0.5 % of them in any one state": a worker's claim read and sorted every ready
job (20,000 ready: 20,000 rows read for 16 taken, 5–9 ms a claim instead of a fraction of one,
bench/bench_send.py "session 15"). Once a table has been analyzed, PostgreSQL scales what it
learned to the table's current size and autovacuum keeps it up to date, so this is needed once:
each of :data:`TABLES` is analyzed when it holds :data:`MIN_ROWS` rows and has never been analyzed,
by one worker at a time (a try-lock; the others carry on). An installation whose role may not
analyze its tables gets PostgreSQL's warning and autovacuum's pace, as before.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from mailport.adapters.storage.database import Database

__all__ = ["MIN_ROWS", "TABLES", "FirstStatistics"]

log = logging.getLogger(__name__)

TABLES = ("jobs", "messages", "message_contents", "message_recipients", "events", "webhook_deliveries")
MIN_ROWS = 1000
_EVERY = 5.0  # seconds between looks, while a table is still without statistics
_LOCK = "mailport.first_statistics"


class FirstStatistics:
    """Analyzes each of :data:`TABLES` once, when it has filled before autovacuum got to it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.done = db.is_sqlite  # SQLite's planner needs none of this (its indexes decide)
        self._looked_at = -float("inf")
        self._tried: set[str] = set()

    @property
    def due(self) -> bool:
        """Time for another look (the caller may skip the thread hop otherwise)."""
        return not self.done and time.monotonic() - self._looked_at >= _EVERY

    def refresh(self) -> list[str]:
        """Analyze the tables that are due (at most one look every few seconds); their names.
        Once every table has statistics, never looks again. Never raises: this only speeds
        PostgreSQL's plans up, and a database that is away is the claim loop's business."""
        if not self.due:
            return []
        self._looked_at = time.monotonic()
        try:
            return self._analyze_due()
        except SQLAlchemyError as exc:
            log.info("first statistics: not now (%s)", type(exc.orig if isinstance(exc, DBAPIError) else exc).__name__)
            return []

    def _analyze_due(self) -> list[str]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT relname, n_live_tup + n_dead_tup, last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL "
                "FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY(:tables)"),
                {"tables": list(TABLES)}).all()
            conn.rollback()
            if rows and all(analyzed or name in self._tried for name, _, analyzed in rows):
                self.done = True
                return []
            due = [name for name, count, analyzed in rows
                   if not analyzed and count >= MIN_ROWS and name not in self._tried]
            if not due or not conn.scalar(text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))"), {"k": _LOCK}):
                conn.rollback()
                return []
            conn.commit()
            try:
                for name in due:  # names from the fixed list above, never from input
                    self._tried.add(name)  # a role that may not analyze gets one warning, not one every look
                    conn.execute(text(f'ANALYZE "{name}"'))
                    conn.commit()  # each table's lock held only for its own ANALYZE
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), {"k": _LOCK})
                conn.commit()
        log.info("gave PostgreSQL its first statistics of %s", ", ".join(due))
        return due
