"""Group commit: the accept requests waiting at one moment are written in one transaction.

One ``POST /v1/messages`` alone costs a handful of statements, a commit and (on SQLite) the
database's single write lock; two hundred of them a second from separate threads spend their time
queueing for that lock and for the GIL, not writing (``bench/bench_send.py``). Here a request
joins a queue; while one batch is being written, the next ones gather, and the next write takes
them all: one writer thread, one transaction per tenant per round, one fsync for the lot. An
isolated request is written at once — there is no timer to wait for.

The durability promise is unchanged: a caller's future resolves only after its transaction
committed (or with the error its item alone would have got).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from mailport.errors import StorageError

__all__ = ["GroupCommit"]

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Item, Result]):
    tenant_id: str
    items: Sequence[Item]
    future: asyncio.Future[list[Result]] = field(repr=False)


class GroupCommit(Generic[Item, Result]):
    """Runs ``write(tenant_id, items) -> results`` (blocking; one result per item, in order) in
    a worker thread, merging the calls that wait at the same time."""

    def __init__(self, write: Callable[[str, Sequence[Item]], list[Result]], *,
                 max_items: int = 500, shared_errors: tuple[type[Exception], ...] = ()) -> None:
        self._write = write
        self._shared_errors = shared_errors
        """Errors that are everyone's (the database is down): the others are retried call by
        call, so one request that trips a bug does not fail those it was merged with."""
        self._max_items = max_items
        self._waiting: list[_Waiting[Item, Result]] = []
        self._writer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, tenant_id: str, items: Sequence[Item]) -> list[Result]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # futures and the writer task belong to one event loop
            self._loop, self._waiting, self._writer = loop, [], None
        future: asyncio.Future[list[Result]] = loop.create_future()
        self._waiting.append(_Waiting(tenant_id, items, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # shield: a client that hangs up must not cancel the write the others wait for
        return await asyncio.shield(future)

    async def submit_riding_out(self, tenant_id: str, items: Sequence[Item]) -> list[Result]:
        """:meth:`submit`, repeated with backoff while the database is away (a transient
        :class:`StorageError`): for results that must not be lost, such as what a server already
        accepted. Other errors are raised; cancelling the caller gives up."""
        delay = 0.2
        while True:
            try:
                return await self.submit(tenant_id, items)
            except StorageError as exc:
                if not exc.transient:
                    raise
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(5.0, delay * 2)

    async def _drain(self) -> None:
        while self._waiting:
            batch: list[_Waiting[Item, Result]] = []
            size = 0
            while self._waiting and (not batch or size + len(self._waiting[0].items) <= self._max_items):
                waiting = self._waiting.pop(0)
                batch.append(waiting)
                size += len(waiting.items)
            await asyncio.to_thread(self._write_round, batch)

    def _write_round(self, batch: list[_Waiting[Item, Result]]) -> None:
        """In the writer thread: one ``write`` per tenant; results handed back on the loop."""
        by_tenant: dict[str, list[_Waiting[Item, Result]]] = {}
        for waiting in batch:
            by_tenant.setdefault(waiting.tenant_id, []).append(waiting)
        for tenant_id, group in by_tenant.items():
            try:
                results = self._write(tenant_id, [item for w in group for item in w.items])
            except Exception as exc:  # noqa: BLE001 - sorted below: shared, or retried alone
                if len(group) == 1 or isinstance(exc, self._shared_errors):
                    for waiting in group:  # the transaction failed for all: each caller hears it
                        _settle(waiting.future, exc=exc)
                    continue
                for waiting in group:
                    self._write_round([waiting])
                continue
            start = 0
            for waiting in group:
                _settle(waiting.future, results=results[start:start + len(waiting.items)])
                start += len(waiting.items)


def _settle(future: asyncio.Future[list[Result]], *, results: list[Result] | None = None,
            exc: BaseException | None = None) -> None:
    def set_() -> None:
        if future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(results or [])

    future.get_loop().call_soon_threadsafe(set_)
