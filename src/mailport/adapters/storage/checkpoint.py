"""SQLite's WAL checkpoints on a thread of their own, outside the writers' turn.

By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 pages: that commit
copies the pages back into the database file and waits for two ``fdatasync`` calls (~15 ms each
on the lab's disk) while it holds the writers' turn (``database._Turns``), so every accept and
every worker write queued behind it waits too — the tail of ``api_accept_p99_ms`` in
bench/bench_send.py. Here each process turns the automatic checkpoint off on its connections and
a daemon thread runs a PASSIVE checkpoint (which never blocks writers or readers) at most once a
``period`` after commits happened. The WAL stays as bounded as before: a PASSIVE checkpoint is
what the automatic one ran, only not inside a commit. A process killed between checkpoints
leaves a WAL that the next open recovers, as it always did.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

__all__ = ["Checkpointer"]

log = logging.getLogger(__name__)


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` for the database at ``path`` after commits.

    :meth:`committed` is cheap (called after every commit); the thread starts with the first."""

    def __init__(self, path: Path, *, period: float = 1.0) -> None:
        self.path = path
        self.period = period
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.checkpoints = 0  # completed runs, for tests and curiosity

    def committed(self) -> None:
        if self._thread is None:
            self._start()
        self._dirty.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopping.is_set():
                self._dirty.wait()
                if self._stopping.wait(self.period):  # gather a period's commits into one run
                    break
                self._dirty.clear()
                if conn is None:
                    conn = self._connect()
                if conn is not None:
                    self._checkpoint(conn)
        finally:
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._checkpoint(conn)  # what the last period wrote
                conn.close()

    def _connect(self) -> sqlite3.Connection | None:
        try:  # mode=rw: never create a database where the owner's file has gone
            return sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=30, check_same_thread=False)
        except sqlite3.Error as exc:
            log.debug("WAL checkpoint skipped: %s", exc)
            return None

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # a busy or closing database: the next period tries again
            log.debug("WAL checkpoint skipped: %s", exc)
        else:
            self.checkpoints += 1

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(timeout)
