"""Engine, sessions and migrations — the one place that knows which database we talk to."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mailport.errors import StorageError

MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary but fixed: the advisory-lock key all mailport processes agree on for migrations.
_MIGRATION_LOCK = 0x6D61696C706F7274  # "mailport"


_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal", ".lock")


def protect_sqlite_files(path: Path) -> None:
    """The database holds mail: its directory is the owner's alone (0700) and its files are
    0600. The file is created here with that mode before SQLite opens it; SQLite gives its WAL
    and shared-memory files the main file's mode. Files of an older installation are fixed."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        info = directory.stat()
        # Only a directory of our own, and never a shared sticky one such as /tmp.
        if info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX and info.st_mode & 0o077:
            directory.chmod(0o700)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in _SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if companion.stat().st_mode & 0o077:
                companion.chmod(0o600)


class Database:
    """Owns the engine and hands out transactional sessions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                protect_sqlite_files(Path(path))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StorageError("the database failed") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def migrate(self, revision: str = "heads") -> None:
        """Bring the schema to ``revision`` with Alembic (idempotent).

        ``heads``: features add their tables in migrations that branch from a common base and
        are merged later, so every head is applied. On PostgreSQL a session advisory lock makes
        processes of a fleet that start together migrate one after the other (the later ones
        find nothing left to do) instead of racing on the same DDL.
        """
        if self.is_sqlite:
            # SQLite has no advisory locks; a lock file beside the database does the same for
            # the processes of one box (``serve`` and a CLI command starting together).
            with _file_lock(self._sqlite_path()):
                command.upgrade(alembic_config(self), revision)
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(self), revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                conn.commit()

    def _sqlite_path(self) -> Path | None:
        path = self.url.removeprefix("sqlite:///")
        return Path(path) if path and path != ":memory:" else None

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _file_lock(db_path: Path | None) -> Iterator[None]:
    if db_path is None:
        yield
        return
    with open(db_path.with_name(db_path.name + ".migrate.lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the API read while the embedded worker writes; secure_delete zeroes freed pages
    # so a removed account's ciphertext does not linger in the file.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
