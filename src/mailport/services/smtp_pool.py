"""Authenticated SMTP sessions kept open between messages of the same account.

Opening a submission connection costs a TCP + TLS handshake, EHLO and AUTH — on a typical server
more than sending a 20 KB invoice. A worker that sends a batch for one mailbox therefore reuses
its sessions for a short idle time. The pool key includes a hash of the endpoint and the secret,
so a changed password or host never reuses a connection authenticated the old way.

A reused connection may have been closed by the server while idle; that shows as a network
error at ``MAIL FROM`` — before any recipient was named, so the caller can safely try once more
on a fresh connection (:attr:`Lease.reused` tells it whether that is worth doing).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field

from mailport.adapters.smtp import SmtpSession

__all__ = ["Lease", "SmtpPool", "pool_key"]


def pool_key(*parts: object) -> str:
    """A key for connection settings + secret; hashed so the pool never holds the secret as a key."""
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()


@dataclass(eq=False)
class Lease:
    session: SmtpSession
    reused: bool
    _stack: AsyncExitStack
    _key: str
    _idle_since: float = field(default=0.0)


class SmtpPool:
    def __init__(self, *, idle_timeout: float = 20.0, max_idle_per_key: int = 16) -> None:
        self.idle_timeout = idle_timeout
        self.max_idle_per_key = max_idle_per_key
        self._idle: dict[str, list[Lease]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def acquire(
        self, key: str, opener: Callable[[], AbstractAsyncContextManager[SmtpSession]],
        *, fresh: bool = False,
    ) -> Lease:
        """An idle session for ``key`` (``reused=True``) or a newly opened one."""
        self._bind_loop()
        now = time.monotonic()
        idle = self._idle.get(key, [])
        while idle and not fresh:
            lease = idle.pop()
            if now - lease._idle_since <= self.idle_timeout:
                lease.reused = True
                return lease
            await self._close(lease)
        stack = AsyncExitStack()
        try:
            session = await stack.enter_async_context(opener())
        except BaseException:
            await stack.aclose()
            raise
        return Lease(session=session, reused=False, _stack=stack, _key=key)

    async def release(self, lease: Lease, *, reusable: bool) -> None:
        """Return a session for reuse, or close it (after an error that may have broken it)."""
        idle = self._idle.setdefault(lease._key, [])
        if reusable and len(idle) < self.max_idle_per_key and asyncio.get_running_loop() is self._loop:
            lease._idle_since = time.monotonic()
            idle.append(lease)
            return
        await self._close(lease)

    async def aclose(self) -> None:
        """QUIT every idle session (worker shutdown)."""
        leases = [lease for idle in self._idle.values() for lease in idle]
        self._idle.clear()
        for lease in leases:
            await self._close(lease)

    @contextlib.asynccontextmanager
    async def session(
        self, key: str, opener: Callable[[], AbstractAsyncContextManager[SmtpSession]]
    ) -> AsyncIterator[SmtpSession]:
        """Borrow a session for one block; it is reused only when the block ended normally."""
        lease = await self.acquire(key, opener)
        ok = False
        try:
            yield lease.session
            ok = True
        finally:
            await self.release(lease, reusable=ok)

    def _bind_loop(self) -> None:
        # Sessions belong to the event loop that opened them; a new loop (tests, a restarted
        # worker) starts with an empty pool instead of touching another loop's sockets.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._idle.clear()
            self._loop = loop

    @staticmethod
    async def _close(lease: Lease) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(lease._stack.aclose(), 5.0)
