"""PostgreSQL reads awaited on the event loop itself, for the read on every API request.

The API checks the presented key on every request (never cached: a revoked key is refused at once,
by every process). On PostgreSQL that read went through a thread (``run_in_threadpool``) so the
loop did not wait for the network: the hop — a pool submit, a wake-up of the thread, the GIL handed
over and back, the result scheduled on the loop — cost more CPU than the statement (~150–270 µs
against ~150 µs per request, bench/bench_send.py). Here the loop awaits the statement on a psycopg
``AsyncConnection`` of its own, in autocommit (a read needs no transaction, as
:meth:`~mailport.adapters.storage.database.Database.reading`).

A few connections per process (``size``); more concurrent reads wait for one. Connections belong
to the loop that opened them: another loop (a test client's, or after a fork) starts afresh. An
idle connection is checked before use as the synchronous pool checks its own (its socket must be
quiet: a server that ended the session says so or closes it), and one idle for longer than
``IDLE_SECONDS`` is replaced rather than pinged.

The statement itself goes over libpq directly (``pgconn``: prepared once per connection, text
parameters, each column loaded by psycopg's own loader for its type), waiting for the socket on the
loop: psycopg's ``AsyncConnection.execute`` spent as much CPU in its generic waiting (a poll, a
timer and a reader per wait) as in the statement — 160–190 against 90–110 µs per read here. A
statement or parameter this path does not know (anything but ``%(name)s`` placeholders and
``str``/``int``/``bool``/``None``/aware ``datetime`` values) goes through ``execute`` as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

__all__ = ["AsyncReaders"]

IDLE_SECONDS = 30.0
# A forked child's copies of its parent's connections: kept referenced, because collecting one
# would end (libpq's finish) the parent's session on the shared socket.
_INHERITED: list[Any] = []


class AsyncReaders:
    """Autocommit psycopg ``AsyncConnection`` s for one running event loop."""

    def __init__(self, connect_args: Sequence[Any], connect_kwargs: Mapping[str, Any], *, size: int = 4) -> None:
        self._args = tuple(connect_args)
        self._kwargs = {**connect_kwargs, "autocommit": True}
        self._size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()
        self._idle: list[tuple[Any, float]] = []  # (connection, idle since), most recent last
        self._slots: asyncio.Semaphore | None = None

    async def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of one statement. psycopg's errors are raised as they are (the caller
        translates them); a connection that failed is closed, not reused."""
        slots = self._for_running_loop()
        async with slots:
            conn = await self._take()
            try:
                rows = await _Direct.rows(conn, sql, params)
                if rows is None:  # not a statement the direct path knows
                    cursor = await conn.execute(sql, params)
                    rows = list(await cursor.fetchall())
            except BaseException:
                _close_now(conn)  # unknown state (failed, or cancelled mid-statement)
                raise
            self._idle.append((conn, time.monotonic()))
            return rows

    def close(self) -> None:
        """Close the idle connections (a connection in use closes when its read ends)."""
        idle, self._idle = self._idle, []
        if os.getpid() != self._pid:  # never the parent's sessions from a forked child
            _INHERITED.extend(conn for conn, _ in idle)
            return
        for conn, _ in idle:
            _close_now(conn)

    def _for_running_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if os.getpid() != self._pid:  # forked: the parent's sockets are not ours to use or end
            _INHERITED.extend(conn for conn, _ in self._idle)
            self._pid, self._idle, self._loop, self._slots = os.getpid(), [], None, None
        if loop is not self._loop or self._slots is None:
            self.close()  # the old loop's connections cannot be awaited on this one
            self._loop, self._slots = loop, asyncio.Semaphore(self._size)
        return self._slots

    async def _take(self) -> Any:
        now = time.monotonic()
        while self._idle:
            conn, since = self._idle.pop()
            if now - since <= IDLE_SECONDS and _quiet(conn):
                return conn
            _close_now(conn)
        import psycopg

        return await psycopg.AsyncConnection.connect(*self._args, **self._kwargs)


def _quiet(conn: Any) -> bool:
    """Open, and nothing to read on its socket while idle (else the server ended the session)."""
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _close_now(conn: Any) -> None:
    # libpq's finish is synchronous and does not wait for the server: safe on any loop
    with contextlib.suppress(Exception):  # already gone
        conn.pgconn.finish()


class _Unsupported(Exception):
    pass


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")


@dataclass(slots=True)
class _Statement:
    name: bytes  # its prepared statement's
    loads: list[Callable[[Any], Any]] | None = None  # each column's psycopg loader, once it has run


class _Direct:
    """One statement over the connection's libpq handle (see the module doc)."""

    _converted: ClassVar[dict[str, tuple[bytes, tuple[str, ...]] | None]] = {}
    # per connection: statement -> its prepared name, and its columns' loaders once it has run
    _prepared: ClassVar[weakref.WeakKeyDictionary[Any, dict[bytes, _Statement]]] = weakref.WeakKeyDictionary()

    @classmethod
    async def rows(cls, conn: Any, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]] | None:
        from psycopg import errors, pq

        converted = cls._convert(sql)
        if converted is None or not isinstance(params, Mapping):
            return None
        query, names = converted
        try:
            values = [_text(params[name]) for name in names]
        except (_Unsupported, KeyError):
            return None
        pgconn = conn.pgconn
        prepared = cls._prepared.setdefault(conn, {})
        statement = prepared.get(query)
        if statement is None:
            statement = _Statement(f"mailport_{len(prepared)}".encode())
            pgconn.send_prepare(statement.name, query)
            for result in await _results(pgconn):
                if result.status != pq.ExecStatus.COMMAND_OK:
                    raise errors.error_from_result(result, encoding=conn.info.encoding)
            prepared[query] = statement
        pgconn.send_query_prepared(statement.name, values)
        results = await _results(pgconn)
        result = results[-1]
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise errors.error_from_result(result, encoding=conn.info.encoding)
        if statement.loads is None:  # a prepared statement's columns keep their types
            statement.loads = []
            for column in range(result.nfields):
                oid = result.ftype(column)
                loader = conn.adapters.get_loader(oid, pq.Format.TEXT) or conn.adapters.get_loader(0, pq.Format.TEXT)
                statement.loads.append(loader(oid, conn).load)
        loads = statement.loads
        return [tuple(None if (value := result.get_value(row, column)) is None else loads[column](value)
                      for column in range(result.nfields)) for row in range(result.ntuples)]

    @classmethod
    def _convert(cls, sql: str) -> tuple[bytes, tuple[str, ...]] | None:
        """psycopg's ``%(name)s`` placeholders as ``$n``; ``None`` for any other form."""
        if sql in cls._converted:
            return cls._converted[sql]
        names: list[str] = []
        unsupported = False

        def number(match: re.Match[str]) -> str:
            nonlocal unsupported
            if match.group(0) == "%%":
                return "%"
            if match.group(1) is None:  # %s, %b, %t: positional or binary placeholders
                unsupported = True
                return ""
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        query = _PLACEHOLDER.sub(number, sql)
        converted = None if unsupported else (query.encode(), tuple(names))
        if len(cls._converted) < 256:
            cls._converted[sql] = converted
        return converted


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text format (the server infers its type from the statement)."""
    if value is None:
        return None
    if isinstance(value, str):
        if "\x00" in value:  # a text parameter ends at a NUL: psycopg refuses it with its own error
            raise _Unsupported
        return value.encode()
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat().encode()
    raise _Unsupported


async def _results(pgconn: Any) -> list[Any]:
    """Send what is queued and read the statement's results, waiting for the socket on the loop."""
    loop = asyncio.get_running_loop()
    while pgconn.flush():  # 1 while the socket took only part of it
        await _ready(loop, pgconn.socket, write=True)
    results: list[Any] = []
    while True:
        pgconn.consume_input()
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                return results
            results.append(result)
        await _ready(loop, pgconn.socket, write=False)


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, *, write: bool) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    (loop.add_writer if write else loop.add_reader)(fd, wake)
    try:
        await ready
    finally:
        (loop.remove_writer if write else loop.remove_reader)(fd)
