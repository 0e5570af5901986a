"""`mailport serve` as a process: it migrates, answers /healthz, and stops cleanly on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_DATA_DIR=str(tmp_path / "var"), MAILPORT_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "mailport.cli", "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.2)
        assert resp.status_code == 200 and resp.json() == {"status": "ok"}
        assert (tmp_path / "var" / "mailport.db").exists()
        assert (tmp_path / "var" / "admin.key").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    # uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is a clean exit too.
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output and "stopped" in output
    admin_key = (tmp_path / "var" / "admin.key").read_text().strip()
    assert admin_key not in output
