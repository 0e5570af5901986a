"""Issue 17 item 11: /metrics needs the operator's metrics token (open only in development
without one), and ``mailport worker`` serves its own /metrics under the same rule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.api.app import create_app

TOKEN = "mt_Zq8Xv2Lp5Nw9Rt3Ky7Hb1Jd4Fg6Sc0Ma"


def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, metrics_token=TOKEN)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        assert api.get("/metrics").status_code == 401
        assert api.get("/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"}).status_code == 401
        assert api.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 401
        ok = api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "mailport_queue_jobs" in ok.text
    runtime.close()


def test_metrics_are_open_in_development_without_a_token(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, env="development")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        assert api.get("/metrics").status_code == 200
    runtime.close()


def test_metrics_are_closed_in_production_without_a_token(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, env="production", public_url="https://mail.example.com",
                           admin_key="mpa_Q3v9xK2pL7mN4rT8wY1zA6bC5dE0fGhJ")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        closed = api.get("/metrics")
        assert closed.status_code == 403 and closed.json()["code"] == "metrics.token_missing"
    runtime.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_worker_serves_its_own_metrics_behind_the_token(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_ENV="test", MAILPORT_DATA_DIR=str(tmp_path / "var"), MAILPORT_ADMIN_KEY=ADMIN_KEY,
               MAILPORT_METRICS_TOKEN=TOKEN, MAILPORT_WORKER_METRICS_PORT=str(port), MAILPORT_INBOX_MAX_ACCOUNTS="0")
    proc = subprocess.Popen([sys.executable, "-m", "mailport.cli", "worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                refused = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the worker's /metrics did not answer within 60 s"
                time.sleep(0.2)
        assert refused.status_code == 401
        ok = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "mailport_queue_jobs" in ok.text
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert TOKEN not in output
