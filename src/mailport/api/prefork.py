"""``mailport serve --processes N``: N API processes on one listening socket (pre-fork).

One API process is bound by one core: the accept path is Python under one GIL (~0.5 ms of CPU per
batch item, bench/bench_send.py), and cutting that CPU further stopped paying. The process the
operator started becomes a supervisor that serves no request itself:

- it binds and listens on the socket, then starts N children (``mailport serve`` with the hidden
  ``--listen-fd``) that inherit it; the kernel hands each new connection to one child that is
  waiting in ``accept``, so a busy child leaves new connections to an idle one;
- with the embedded worker it starts the worker child once (not once per API process); the
  worker's stdin is a pipe made here, and every API child holds its write end and writes a byte
  after each commit — the same wake-up as one process, whichever child accepted the message;
- SIGTERM or SIGINT: the API children get SIGTERM and drain (uvicorn answers what is in
  progress), then the last write end of the worker's pipe is closed and the worker finishes what
  it runs and exits;
- a child that exits while serving is started again (at most once a second per slot);
- each API child's stdin is a pipe from the supervisor: if the supervisor is killed (-9), the pipe
  ends and the children drain and exit; then the worker's pipe has no writer left and it stops.

Per-process state stays per process: the failed-authentication throttle and the large-body budget
(``MAILPORT_LARGE_REQUEST_*``) count per API process, as with N processes behind a load balancer
(docs/security.md). Idempotency keys and UI sessions live in the database and hold across them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

from mailport.runtime import Runtime, WorkerChild

__all__ = ["serve_processes"]

log = logging.getLogger("mailport.serve")

_RESTART_PAUSE = 1.0  # seconds between two starts of one slot (a child failing at start-up)
_DRAIN_TIMEOUT = 40.0  # seconds the API children have to answer what is in progress


class _Child:
    def __init__(self, command: list[str], env: dict[str, str], fds: tuple[int, ...]) -> None:
        self.command, self.env, self.fds = command, env, fds
        self.proc = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.started = time.monotonic()
        return subprocess.Popen(self.command, env=self.env, stdin=subprocess.PIPE, pass_fds=self.fds)

    def restart_if_exited(self) -> None:
        if self.proc.poll() is not None and time.monotonic() - self.started >= _RESTART_PAUSE:
            log.error("API process %d exited with %s; starting another", self.proc.pid, self.proc.returncode)
            self.proc = self._spawn()

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        try:
            self.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("API process %d did not drain in time; killing it", self.proc.pid)
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()


def _listen(settings_host: str, port: int, backlog: int) -> socket.socket:
    sock = uvicorn.Config(app="", host=settings_host, port=port).bind_socket()  # logs where it listens
    # Listening before any child is up: a connection made meanwhile waits in the backlog.
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def serve_processes(runtime: Runtime, *, processes: int, api_command: list[str],
                    worker_command: list[str] | None) -> None:
    """Supervise ``processes`` API children (``api_command`` + the listening socket's and the wake
    pipe's descriptors) and, given ``worker_command``, one embedded worker, until SIGTERM/SIGINT."""
    s = runtime.settings
    sock = _listen(s.host, s.port, 2048)
    wake_read = wake_write = -1
    worker = None
    if worker_command is not None:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)  # a full pipe already holds a wake-up
        worker = WorkerChild.start(worker_command, runtime, stdin=wake_read)
    env = dict(os.environ)
    # The children read the same settings; these may have come from serve's options or files.
    env.update(MAILPORT_DATABASE_URL=s.effective_database_url, MAILPORT_DATA_DIR=str(s.data_dir),
               MAILPORT_HOST=s.host, MAILPORT_PORT=str(s.port), MAILPORT_EMBEDDED_WORKER="false",
               MAILPORT_API_PROCESSES="1")
    command = [*api_command, "--listen-fd", str(sock.fileno()), "--wake-fd", str(wake_write)]
    fds = (sock.fileno(),) if wake_write < 0 else (sock.fileno(), wake_write)
    stopping: list[int] = []

    def stop(sig: int, _frame: FrameType | None) -> None:
        stopping.append(sig)

    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {
        sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    children = [_Child(command, env, fds) for _ in range(processes)]
    log.info("serving on %s:%d with %d API processes%s", s.host, s.port, processes,
             " and the embedded worker" if worker is not None else "")
    try:
        while not stopping:
            time.sleep(0.1)
            for child in children:
                if not stopping:
                    child.restart_if_exited()
            if worker is not None and not stopping and worker_command is not None:
                worker.restart_if_exited(worker_command, runtime, stdin=wake_read)
    finally:
        for child in children:
            child.terminate()
        deadline = time.monotonic() + _DRAIN_TIMEOUT
        for child in children:
            child.wait(deadline)
        sock.close()
        if worker is not None:
            os.close(wake_write)  # the last write end: the worker sees the end of its stdin
            worker.stop(40.0)
            os.close(wake_read)
        runtime.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
