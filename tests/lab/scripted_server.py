"""A TCP server on loopback, in a thread with its own event loop, that answers each connection
with a script (``_session``): for servers whose replies no real server in the lab gives — an
Exchange Online tenant with SMTP AUTH off, or a reply in Latin-1 bytes."""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from .ports import LOOPBACK


class ScriptedServer:
    """Subclasses write ``_session``; ``port`` is known once started."""

    name = "lab-scripted-server"

    def __init__(self) -> None:
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        async def serve() -> None:
            self._server = await asyncio.start_server(self._session, LOOPBACK, 0)
            self.port = self._server.sockets[0].getsockname()[1]

        self._loop.run_until_complete(serve())
        self._thread = threading.Thread(target=self._loop.run_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
