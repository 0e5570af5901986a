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
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import time
from collections.abc import Mapping, Sequence
from typing import Any

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
