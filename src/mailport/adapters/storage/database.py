"""Engine, sessions and migrations — the one place that knows which database we talk to."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import select
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from mailport.adapters.storage.async_reads import AsyncReaders
from mailport.adapters.storage.checkpoint import Checkpointer
from mailport.errors import StorageError

log = logging.getLogger(__name__)
T = TypeVar("T")
_AFTER_COMMIT = "mailport.after_commit"  # a session's info key: Database.after_commit's callbacks
_RELAPSE = 10.0  # seconds after "database back" in which a failure belongs to the same outage

MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary but fixed: the advisory-lock key all mailport processes agree on for migrations.
_MIGRATION_LOCK = 0x6D61696C706F7274  # "mailport"


_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal", ".lock", ".turns")


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


class _Turns:
    """One SQLite transaction at a time, across the threads and processes of one database.

    SQLite has one writer at a time. A transaction that finds its lock taken sleeps in SQLite's
    busy handler (1, 2, 5 … 100 ms steps) or fails at once when its read snapshot went stale —
    ``mailport serve``'s API and its worker child, each with several threads, spent more time
    sleeping there than writing. Here threads queue on a lock and processes on ``flock`` of a
    companion file, and the kernel hands the turn over the moment it is released. A process that
    dies holding it releases it with its file descriptor. Re-entrant within a thread.
    """

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        if path is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited (O_CLOEXEC)

    def __enter__(self) -> None:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1 and self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._depth -= 1
                self._lock.release()
                raise

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()


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
            # No pool_pre_ping: its ``;`` was a round trip on every checkout (two per accepted
            # message on PostgreSQL); ``_checked_out`` looks at the idle socket instead.
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if not self.is_sqlite:
            event.listen(self.engine, "checkout", _checked_out)
            event.listen(self.engine, "checkin", _checked_in)
        self._checkpointer: Checkpointer | None = None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            file = self._sqlite_path()
            if file is not None:
                # Checkpoints on a thread, not inside the commit that holds the writers' turn.
                checkpointer = self._checkpointer = Checkpointer(file)
                event.listen(self.engine, "connect", _no_autocheckpoint)
                event.listen(self.engine, "commit", lambda _conn: checkpointer.committed())
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: reads run in autocommit, without BEGIN and ROLLBACK. At READ COMMITTED each
        # statement takes its own snapshot either way, so a read sees what it saw before; and a
        # ROLLBACK makes psycopg forget the connection's prepared statements (DEALLOCATE ALL),
        # which the API key check did to every pooled connection on every request.
        self._reads = self._sessions if self.is_sqlite else sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
        self._turns: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if self.is_sqlite:
            path = url.removeprefix("sqlite:///")
            self._turns = _Turns(Path(path + ".turns") if path and path != ":memory:" else None)
        self._outage_lock = threading.Lock()
        self._down_since: float | None = None
        self._back_at = float("-inf")
        self._readers = threading.local()  # this thread's driver connection for RowRead
        self._all_readers: list[sqlite3.Connection] = []
        self._reader_generation = 0
        self._driver_reads = (self.is_sqlite and self._sqlite_path() is not None) or \
            self.engine.dialect.driver == "psycopg"
        self._readers_lock = threading.Lock()
        self._async_readers: AsyncReaders | None = None
        if self.engine.dialect.driver == "psycopg":
            cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
            self._async_readers = AsyncReaders(cargs, cparams)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error.

        A failure raises :class:`StorageError` with ``transient=True`` when the database is
        unreachable or restarting (worth waiting for) and ``False`` for what waiting cannot fix
        (a schema that does not match this version, a constraint).
        """
        with self._turns:
            yield from self._transaction()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite it does not queue for the writers' turn (a WAL
        reader neither waits for nor blocks the writer), so an API key check or a page does not
        wait behind a worker's batch; on PostgreSQL it runs in autocommit, so nothing may be
        written in it (on SQLite anything written is rolled back)."""
        session = self._reads()
        try:
            yield session
        except SQLAlchemyError as exc:
            raise self._failure(exc) from exc
        finally:
            session.close()  # not rollback(): that would expire the rows handed out

    @contextmanager
    def statements(self) -> Iterator[Session]:
        """A session whose every statement commits on its own, for work that is safe statement by
        statement (a claim: each ``UPDATE … RETURNING`` takes its jobs atomically, and a claim
        whose answer is lost is released by the heartbeat). On PostgreSQL it runs in autocommit:
        no BEGIN and COMMIT round trips around a one-statement claim. On SQLite it is
        :meth:`session` (one transaction, in the writers' turn)."""
        if self.is_sqlite:
            with self.session() as session:
                yield session
            return
        with self.reading() as session:
            yield session
        if self._down_since is not None:
            self._outage_ended()

    @property
    def has_driver_reads(self) -> bool:
        """True where :meth:`driver_rows` reads (a SQLite file, or PostgreSQL through psycopg)."""
        return self._driver_reads

    def driver_rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of one read-only statement in the driver's own SQL (:class:`~.row_read.RowRead`).

        SQLite: on a connection this thread keeps for such reads. It is in autocommit mode, and
        every row is fetched, so each read is a WAL snapshot of its own that ends with the call:
        it neither waits for the writers' turn nor holds back a checkpoint. PostgreSQL: on a
        pooled connection put in autocommit for the statement (no BEGIN or ROLLBACK, as
        :meth:`reading`), without a session or Core's execution around it."""
        if not self.is_sqlite:
            return self._pg_rows(sql, params)
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        try:
            if conn is None or self._readers.generation != self._reader_generation:  # disposed since
                conn = self._readers.conn = self._open_reader()
                self._readers.generation = self._reader_generation
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            if conn is not None:
                self._readers.conn = None
                self._close_reader(conn)
            failure = DBAPIError.instance(sql, params, exc, sqlite3.Error)
            raise self._failure(failure) from failure

    @property
    def has_async_reads(self) -> bool:
        """True where :meth:`driver_rows_async` reads on the event loop (PostgreSQL through psycopg)."""
        return self._async_readers is not None

    async def driver_rows_async(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """:meth:`driver_rows` awaited on the running event loop, without a thread
        (:class:`~.async_reads.AsyncReaders`); only where :attr:`has_async_reads`."""
        import psycopg

        assert self._async_readers is not None, "driver_rows_async needs PostgreSQL through psycopg"
        try:
            rows = await self._async_readers.rows(sql, params)
        except psycopg.Error as exc:
            failure = DBAPIError.instance(sql, params, exc, psycopg.Error)
            raise self._failure(failure) from failure
        if self._down_since is not None:
            self._outage_ended()
        return rows

    def _pg_rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            pooled = self.engine.raw_connection()  # the checkout's socket check runs as for a session
        except SQLAlchemyError as exc:
            raise self._failure(exc) from exc
        conn: Any = pooled.driver_connection
        try:
            conn.autocommit = True  # idle: the pool rolled back whatever its last user left
            try:
                return list(conn.execute(sql, params).fetchall())
            finally:
                if not conn.broken and not conn.closed:
                    conn.autocommit = False
        except psycopg.Error as exc:
            if conn.broken or conn.closed:
                pooled.invalidate(exc)
            failure = DBAPIError.instance(sql, params, exc, psycopg.Error)
            raise self._failure(failure) from failure
        finally:
            pooled.close()

    def _open_reader(self) -> sqlite3.Connection:
        # mode=rw: never create a database where the owner's file has gone
        conn = sqlite3.connect(f"file:{self._sqlite_path()}?mode=rw", uri=True, timeout=30,
                               check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        with self._readers_lock:
            self._all_readers.append(conn)
        return conn

    def _close_reader(self, conn: sqlite3.Connection) -> None:
        with self._readers_lock:
            if conn in self._all_readers:
                self._all_readers.remove(conn)
        with contextlib.suppress(sqlite3.Error):
            conn.close()

    def _transaction(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            try:
                session.rollback()
            except SQLAlchemyError:
                pass  # the connection is gone; the pool discards it
            raise self._failure(exc) from exc
        except BaseException:
            session.rollback()
            raise
        else:
            if self._down_since is not None:
                self._outage_ended()
            for callback in session.info.pop(_AFTER_COMMIT, ()):
                try:
                    callback()
                except Exception:  # the transaction stands; what it tells is a courtesy
                    log.exception("a callback after a commit failed")
        finally:
            session.close()

    @staticmethod
    def after_commit(session: Session, callback: Callable[[], None]) -> None:
        """Call ``callback`` once ``session``'s transaction (:meth:`session`) has committed —
        not if it rolls back. It runs on the committing thread; what it raises is logged, the
        commit stands."""
        session.info.setdefault(_AFTER_COMMIT, []).append(callback)

    def _failure(self, exc: SQLAlchemyError) -> StorageError:
        """The :class:`StorageError` for ``exc``; a transient one starts (or continues) an outage."""
        transient = is_transient(exc)
        if transient:
            self._outage_began(exc)
        return StorageError("the database failed", transient=transient)

    @property
    def unavailable(self) -> bool:
        """True between a transient failure and the next successful transaction."""
        return self._down_since is not None

    def _outage_began(self, exc: SQLAlchemyError) -> None:
        with self._outage_lock:
            if self._down_since is not None:
                return
            now = time.monotonic()
            self._down_since = now
            # A server coming back fails a few stale connections and early queries: a relapse
            # within _RELAPSE of "back" continues the same outage, silently.
            relapse = now - self._back_at < _RELAPSE
        if not relapse:
            # Once per outage, not once per query: the workers keep trying quietly.
            log.warning("database unavailable (%s); waiting for it to come back",
                        type(getattr(exc, "orig", None) or exc).__name__)

    def _outage_ended(self) -> None:
        with self._outage_lock:
            since, self._down_since = self._down_since, None
            relapse = since is not None and since - self._back_at < _RELAPSE
            self._back_at = time.monotonic()
        if since is not None and not relapse:
            log.warning("database back after %.1f s", self._back_at - since)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def migrate_when_reachable(self, *, max_delay: float = 5.0) -> None:
        """:meth:`migrate`, first waiting for a database that is not reachable yet (a worker
        started during a database restart waits instead of exiting). Anything else is raised."""
        delay, waiting = 0.2, False
        while True:
            try:
                self.migrate()
                break
            except StorageError as exc:
                cause = exc.__cause__
                if not exc.transient or not isinstance(cause, SQLAlchemyError):
                    raise
                if not waiting:
                    waiting = True
                    self._outage_began(cause)
            except SQLAlchemyError as exc:
                if not is_transient(exc):
                    raise
                if not waiting:
                    waiting = True
                    self._outage_began(exc)
            time.sleep(delay * (0.5 + random.random() / 2))
            delay = min(max_delay, delay * 2)
        if waiting:
            self._outage_ended()

    def migrate(self, revision: str = "heads") -> None:
        """Bring the schema to ``revision`` with Alembic (idempotent).

        ``heads``: features add their tables in migrations that branch from a common base and
        are merged later, so every head is applied. On PostgreSQL a session advisory lock makes
        processes of a fleet that start together migrate one after the other (the later ones
        find nothing left to do) instead of racing on the same DDL.

        A database that cannot be used (refused, no such database, wrong password) is a
        :class:`StorageError` naming it (password hidden) and the server's reason, ``transient``
        when waiting may help — not the driver's traceback.
        """
        try:
            self._upgrade(revision)
        except OperationalError as exc:
            shown = make_url(self.url).render_as_string(hide_password=True)
            reason = " ".join(str(exc.orig if exc.orig is not None else exc).split())
            raise StorageError(f"cannot use the database {shown}: {reason}",
                               transient=is_transient(exc)) from exc

    def _upgrade(self, revision: str) -> None:
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
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._readers_lock:
            readers, self._all_readers = self._all_readers, []
            self._reader_generation += 1
        for conn in readers:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        if self._async_readers is not None:
            self._async_readers.close()
        self.engine.dispose()
        if isinstance(self._turns, _Turns):
            self._turns.close()


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


# Messages of errors that waiting will not fix, although the driver calls them "operational".
_PERMANENT = ("no such table", "no such column", "has no column", "does not exist", "syntax error")


def is_transient(exc: BaseException) -> bool:
    """A lost or refused connection, a restarting server, a busy SQLite file: try again later."""
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig if exc.orig is not None else exc).lower()
        return not any(marker in text for marker in _PERMANENT)
    # psycopg reports a refused connection, "the database system is starting up" and an admin
    # shutdown as OperationalError (above), and a connection cut mid-statement as InterfaceError.
    return isinstance(exc, InterfaceError)


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg


# A connection idle in the pool longer than this is pinged (a round trip) before use, as
# pool_pre_ping did for every checkout: a firewall or NAT that drops idle connections silently
# leaves a socket that looks quiet. Under load connections are idle for milliseconds.
IDLE_PING_SECONDS = 30.0


def _checked_in(_dbapi_conn: Any, record: Any) -> None:
    record.info["mailport_idle_since"] = time.monotonic()


def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection is still good if its socket is quiet: a server that ends a
    session (shutdown, ``pg_terminate_backend``, a crash, a restart) says so or closes the socket,
    either of which makes it readable. Readable while idle, or closed: the pool discards it and
    opens another (``DisconnectionError``; SQLAlchemy tries three times). A connection idle for
    longer than ``IDLE_PING_SECONDS`` is also pinged. This replaces ``pool_pre_ping``, which sent a
    ``;`` — a round trip — on every checkout (two per accepted message on PostgreSQL)."""
    pgconn = getattr(dbapi_conn, "pgconn", None)
    if pgconn is None:  # not psycopg: nothing to look at
        return
    if dbapi_conn.closed or dbapi_conn.broken:
        raise DisconnectionError("the pooled connection was closed")
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except (OSError, ValueError) as exc:  # no socket any more
        raise DisconnectionError("the pooled connection has no socket") from exc
    if readable:
        raise DisconnectionError("the server spoke on an idle pooled connection (likely its goodbye)")
    idle_since = record.info.get("mailport_idle_since")
    if idle_since is not None and time.monotonic() - idle_since > IDLE_PING_SECONDS:
        from psycopg import Error, pq

        try:  # libpq directly: psycopg would open a transaction around it
            answer = pgconn.exec_(b";")
        except Error as exc:
            raise DisconnectionError("the pooled connection did not answer a ping") from exc
        if answer.status != pq.ExecStatus.EMPTY_QUERY:
            raise DisconnectionError("the pooled connection did not answer a ping")


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


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
