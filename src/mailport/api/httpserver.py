"""Running the app under uvicorn with the connection limits of docs/security.md.

uvicorn bounds header size (h11/httptools) and idle keep-alive connections, but not the time a
client may take to send its headers: 300 connections trickling one header byte at a time stayed
open for a minute. :class:`HeaderDeadlineProtocol` closes a connection whose request headers are
not complete within ``MAILPORT_HTTP_HEADER_TIMEOUT`` seconds of the connection (or of the end of
the previous response). Slow bodies are cut by :class:`mailport.api.guard.RequestGuard`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mailport.settings import Settings

__all__ = ["HeaderDeadlineProtocol", "run", "run_inherited"]


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_for(settings: Settings) -> type[HeaderDeadlineProtocol]:
    return type("HeaderDeadline", (HeaderDeadlineProtocol,), {"header_timeout": settings.http_header_timeout})


def _options(settings: Settings) -> dict[str, Any]:
    return {"host": settings.host, "port": settings.port, "log_config": None, "proxy_headers": True,
            "access_log": False, "http": protocol_for(settings),
            "timeout_keep_alive": settings.http_keep_alive_timeout,
            "limit_concurrency": settings.http_limit_concurrency}


def run(app: Any, settings: Settings) -> None:
    uvicorn.run(app, **_options(settings))


class _ChildServer(uvicorn.Server):
    """An API process of ``serve --processes N`` (:mod:`mailport.api.prefork`).

    It accepts on the listening socket it shares with the other API processes in a thread that
    waits in a blocking ``accept()``: Linux hands a new connection to one waiting process, the one
    that has waited longest, so connections go round the processes in turn. Waiting in the event
    loop instead (epoll) wakes every process and the first to run takes all that queued: of a host
    product's 4 keep-alive connections one process got 3 and did 70 % of the work.

    Its stdin is a pipe from the supervisor, and its end — the supervisor stopped or was killed —
    drains this process like a SIGTERM, so no API process is left serving without its supervisor.
    """

    def __init__(self, config: uvicorn.Config, listener: socket.socket) -> None:
        super().__init__(config)
        self._listener = listener

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app's lifespan; connections come from _accept
        if not self.started:
            return
        loop = asyncio.get_running_loop()
        loop.add_reader(0, self._supervisor_said, loop)
        threading.Thread(target=self._accept, args=(loop,), name="accept", daemon=True).start()

    def _accept(self, loop: asyncio.AbstractEventLoop) -> None:
        config = self.config

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop)

        def serve(conn: socket.socket) -> None:
            loop.create_task(loop.connect_accepted_socket(protocol, conn))

        while not self.should_exit:
            try:
                conn, _ = self._listener.accept()
            except BlockingIOError:
                continue  # SO_RCVTIMEO: a look at should_exit, so a draining process stops taking turns
            except OSError:
                time.sleep(0.01)  # out of descriptors (EMFILE): let connections end first
                continue
            try:
                # Also while draining: a connection taken is answered, not dropped.
                loop.call_soon_threadsafe(serve, conn)
            except RuntimeError:  # the loop has finished: this process is exiting
                conn.close()
                return

    def _supervisor_said(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            data = os.read(0, 512)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(0)
            self.should_exit = True


def run_inherited(app: Any, settings: Settings, listen_fd: int) -> None:
    """Serve on the listening socket ``listen_fd`` the supervisor bound (and shares with the other
    API processes)."""
    listener = socket.socket(fileno=listen_fd)
    listener.setblocking(True)  # the one file description of every process: accept() waits in turn
    # ... for at most a quarter of a second (EAGAIN), so that the accepting thread of a process that
    # drains leaves the queue instead of taking one more connection from the others.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 250_000))
    server = _ChildServer(uvicorn.Config(app, **_options(settings)), listener)
    server.run()
    if not server.started:
        sys.exit(3)  # as uvicorn.run: the supervisor logs the exit and starts another
