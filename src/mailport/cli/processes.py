"""The processes an operator runs: ``serve``, ``worker``, ``migrate``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
import uvicorn

from mailport.cli.common import DatabaseUrl, DataDir, build_runtime, err, fail, out
from mailport.errors import MailportError
from mailport.runtime import Runtime, WakeLines, event_loop_factory, settle_heap


def register(app: typer.Typer) -> None:
    app.command()(migrate)
    app.command()(serve)
    app.command()(worker)


def migrate(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Bring the database schema up to date (safe to run repeatedly)."""
    try:
        build_runtime(database_url=database_url, data_dir=data_dir)
    except MailportError as exc:
        fail(exc)
    out.print("database is up to date")


def serve(
    host: Annotated[str | None, typer.Option(envvar="MAILPORT_HOST", help="Listen address.",
                                             show_default=False)] = None,
    port: Annotated[int | None, typer.Option(envvar="MAILPORT_PORT", help="Listen port.", show_default=False)] = None,
    embedded_worker: Annotated[
        bool | None, typer.Option("--worker/--no-worker", envvar="MAILPORT_EMBEDDED_WORKER",
                                  help="Run the job worker inside this process.", show_default=False)
    ] = None,
    processes: Annotated[int | None, typer.Option(
        envvar="MAILPORT_API_PROCESSES", min=1, max=64, show_default=False,
        help="API processes on the one listening socket (default 1); the worker still runs once.")] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    listen_fd: Annotated[int | None, typer.Option(hidden=True, help="Started by serve --processes: the "
                                                                    "listening socket to serve on.")] = None,
    wake_fd: Annotated[int, typer.Option(hidden=True, help="Started by serve --processes: the embedded "
                                                           "worker's wake-up pipe (-1: none).")] = -1,
) -> None:
    """Run the HTTP API, the web pages and (by default) the worker. With --processes N: N API
    processes on one socket and the worker once, this process their supervisor."""
    if listen_fd is not None:
        _serve_api_child(listen_fd, wake_fd)
        return
    try:
        runtime = build_runtime(database_url=database_url, data_dir=data_dir, host=host, port=port,
                                embedded_worker=embedded_worker, api_processes=processes, wait_for_database=True)
    except MailportError as exc:
        fail(exc)
    s = runtime.settings
    if not s.is_production and not s.database_url:
        err.print(f"development mode: SQLite at {s.effective_database_url.removeprefix('sqlite:///')}, "
                  f"operator key in {s.data_dir / 'admin.key'}", highlight=False, soft_wrap=True)
    worker_process = [sys.executable, "-m", "mailport.cli", "worker", "--parent-pipe"]
    if s.api_processes > 1:
        from mailport.api.prefork import serve_processes

        serve_processes(runtime, processes=s.api_processes,
                        api_command=[sys.executable, "-m", "mailport.cli", "serve"],
                        worker_command=worker_process if s.embedded_worker else None)
        return
    # Imported only here: the supervisor of --processes N needs neither (nor their memory).
    from mailport.api import httpserver
    from mailport.api.app import create_app

    # The embedded worker runs as a child process of its own (its own interpreter and GIL), so
    # the API answers in milliseconds however busy sending is; in-process is for tests.
    api = create_app(runtime, embedded_worker=s.embedded_worker, worker_process=worker_process)
    # A batch of 100 invoices allocates enough to start a full collection every 2,000 messages
    # or so, and each walked the app's 180,000 startup objects: ~60 µs of every accepted
    # message's API CPU (bench/accept_stages.py).
    settle_heap()
    httpserver.run(api, s)


def _serve_api_child(listen_fd: int, wake_fd: int) -> None:
    """One API process of ``serve --processes N``: the supervisor migrated the schema, bound the
    socket and runs the embedded worker; this process wakes that worker after each commit."""
    from mailport.api import httpserver
    from mailport.api.app import create_app
    from mailport.runtime import wake_through

    try:
        runtime = build_runtime(migrate=False)
    except MailportError as exc:
        fail(exc)
    if wake_fd >= 0:
        runtime.queue.on_ready = functools.partial(wake_through, wake_fd)
    api = create_app(runtime)
    settle_heap()
    httpserver.run_inherited(api, runtime.settings, listen_fd)


def worker(
    database_url: DatabaseUrl = None, data_dir: DataDir = None,
    parent_pipe: Annotated[bool, typer.Option("--parent-pipe", hidden=True,
                                              help="Started by serve: wake on stdin, stop at its end.")] = False,
) -> None:
    """Run a worker: sends, webhooks, domain checks and inbox sync (any number, on any hosts, on PostgreSQL)."""
    try:
        runtime = build_runtime(database_url=database_url, data_dir=data_dir, wait_for_database=True)
    except MailportError as exc:
        fail(exc)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        metrics_server = _worker_metrics_server(runtime)
        serving = asyncio.create_task(metrics_server.serve()) if metrics_server else None
        try:
            if not parent_pipe:
                await runtime.run_background(stop)
                return
            # Ctrl-C in serve's terminal reaches the whole group; serve closes the pipe to stop us.
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, signal.SIG_IGN)

            def attach(wake: Callable[[str | None], None]) -> None:
                lines = WakeLines()

                class Pipe(asyncio.Protocol):
                    def data_received(self, data: bytes) -> None:
                        for payload in lines.feed(data):  # serve committed jobs (runtime.wake_through)
                            wake(payload)

                    def eof_received(self) -> bool | None:
                        stop.set()  # serve exited (or was killed): finish what is running, then stop
                        return None

                    def connection_lost(self, exc: Exception | None) -> None:
                        stop.set()

                loop.create_task(loop.connect_read_pipe(Pipe, sys.stdin.buffer))

            await runtime.run_background(stop, on_wake=attach)
        finally:
            if metrics_server is not None and serving is not None:
                metrics_server.should_exit = True
                await serving

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(run())


def _worker_metrics_server(runtime: Runtime) -> uvicorn.Server | None:
    """The worker's ``/metrics`` on ``MAILPORT_WORKER_METRICS_PORT`` (0 = none)."""
    s = runtime.settings
    if not s.worker_metrics_port:
        return None
    from mailport.api.routers.metrics import worker_app

    config = uvicorn.Config(worker_app(runtime), host=s.worker_metrics_host, port=s.worker_metrics_port,
                            log_config=None, access_log=False, lifespan="off")
    return _SignalFreeServer(config)


class _SignalFreeServer(uvicorn.Server):
    """uvicorn inside the worker: SIGTERM belongs to the worker's graceful stop, not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
