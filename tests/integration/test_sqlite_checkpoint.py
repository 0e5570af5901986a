"""SQLite's WAL checkpoints run on a thread of their own, not inside a commit (which holds the
writers' turn while it waits for the disk)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import text

from mailport.adapters.storage.checkpoint import Checkpointer
from mailport.adapters.storage.database import Database

BLOB = os.urandom(1 << 20)


def _wait_for(predicate: object, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_a_large_commit_returns_before_the_checkpoint_which_follows_on_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "mailport.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as s:
            assert s.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
            s.execute(text("CREATE TABLE blobs (data BLOB)"))
        with db.session() as s:  # 4 MB: some 1,000 pages, past SQLite's automatic threshold
            for _ in range(4):
                s.execute(text("INSERT INTO blobs VALUES (:d)"), {"d": BLOB})
        assert path.stat().st_size < 1 << 20  # the pages are in the WAL: the commit did not copy them
        assert _wait_for(lambda: path.stat().st_size >= 4 << 20)  # the thread did
        with db.reading() as s:
            assert s.execute(text("SELECT count(*) FROM blobs")).scalar() == 4
    finally:
        db.dispose()
    checkpointer = db._checkpointer
    assert checkpointer is not None and checkpointer.checkpoints >= 1
    assert checkpointer._thread is not None and not checkpointer._thread.is_alive()  # dispose stopped it


def test_the_checkpointer_never_creates_a_database_that_is_gone(tmp_path: Path) -> None:
    gone = tmp_path / "removed.db"
    checkpointer = Checkpointer(gone, period=0.01)
    checkpointer.committed()
    time.sleep(0.1)
    checkpointer.stop()
    assert not gone.exists() and checkpointer.checkpoints == 0
