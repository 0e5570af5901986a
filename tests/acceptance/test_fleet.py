"""A fleet on PostgreSQL: two ``mailport serve --no-worker`` API processes and two ``mailport
worker`` processes serve one tenant's traffic, sent through both API processes (with retried
idempotent requests landing on the other process) to an SMTP sink: every message is delivered
exactly once, and both workers take part."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbfixtures import ADMIN_KEY
from lab import SmtpSink
from lab.ports import free_port
from mailport.client import Client
from mailport.errors import MailportError

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MESSAGES = 40
SECRET_KEY = "t1:" + "B" * 43 + "="


class Fleet:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
        self.env.update(
            MAILPORT_ENV="test", MAILPORT_DATABASE_URL=database_url, MAILPORT_ADMIN_KEY=ADMIN_KEY,
            MAILPORT_SECRET_KEY=SECRET_KEY, MAILPORT_DATA_DIR=str(tmp_path / "var"),
            MAILPORT_ALLOW_PRIVATE_HOSTS="true", MAILPORT_ALLOW_INSECURE_AUTH="true",
            MAILPORT_WORKER_CONCURRENCY="2", MAILPORT_LOG_FORMAT="console",
        )
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []
        self.api_ports: list[int] = []

    def _spawn(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "mailport.cli", *args], env={**self.env, **env},
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def start(self) -> Fleet:
        # Migrations run once, before the fleet starts (as in an upgrade).
        subprocess.run([sys.executable, "-m", "mailport.cli", "migrate"], env=self.env, check=True,
                       capture_output=True, timeout=120)
        for n in (1, 2):
            port = free_port()
            self.api_ports.append(port)
            self._spawn(f"api{n}", "serve", "--no-worker", MAILPORT_PORT=str(port))
        self.workers = [self._spawn(f"worker{n}", "worker") for n in (1, 2)]
        deadline = time.monotonic() + 60
        for port in self.api_ports:
            with Client(f"http://127.0.0.1:{port}", max_retries=0) as probe:
                while True:
                    try:
                        probe.health()
                        break
                    except MailportError:  # not listening yet
                        assert time.monotonic() < deadline, self.logs()
                        assert all(p.poll() is None for p in self.procs), self.logs()
                        time.sleep(0.2)
        return self

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.tmp_path.glob("*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str) -> Iterator[Fleet]:
    running = Fleet(tmp_path, pg_url)
    try:
        yield running.start()
    finally:
        running.stop()


def test_two_api_processes_and_two_workers_send_each_message_exactly_once(
        fleet: Fleet, smtp_sink: SmtpSink, pg_url: str) -> None:
    api = [f"http://127.0.0.1:{port}" for port in fleet.api_ports]
    with Client(api[0], api_key=ADMIN_KEY) as admin:
        tenant = admin.tenants.create(name="Fleet BV")
    clients = [Client(url, api_key=tenant.api_key) for url in api]
    account = clients[1].accounts.create(
        email="user@example.test", password="password",
        smtp={"host": "127.0.0.1", "port": smtp_sink.port, "security": "none"})

    # Which workers hold jobs, sampled while they run (job rows do not keep the worker once done).
    holders: set[str] = set()
    sampling = threading.Event()
    engine = sa.create_engine(pg_url)

    def sample() -> None:
        while not sampling.is_set():
            with engine.connect() as conn:
                holders.update(r[0] for r in conn.execute(sa.text(
                    "SELECT DISTINCT locked_by FROM jobs WHERE kind = 'send' AND locked_by IS NOT NULL")))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def send(n: int) -> str:
        # Alternate API processes; each send is then repeated on the *other* process with the same
        # key, as a client retrying through a load balancer would.
        first, second = clients[n % 2], clients[(n + 1) % 2]
        kwargs = {"account": account.id, "to": [f"klant{n}@example.nl"], "subject": f"Factuur {n}",
                  "text": f"Factuur {n}", "metadata": {"invoice_id": str(n)}, "idempotency_key": f"invoice-{n}"}
        message = first.messages.send(**kwargs)  # type: ignore[arg-type]
        again = second.messages.send(**kwargs)  # type: ignore[arg-type]
        assert again.id == message.id and again.replayed
        return message.id

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(send, range(MESSAGES)))
        assert len(set(ids)) == MESSAGES

        deadline = time.monotonic() + 90
        while True:
            states = {m.id: m.state for m in clients[0].messages.iter(page_size=25)}
            if all(states.get(i) == "sent" for i in ids):
                break
            assert time.monotonic() < deadline, f"not all sent: {states}\n{fleet.logs()}"
            assert all(p.poll() is None for p in fleet.procs), fleet.logs()
            time.sleep(0.3)
        # A second delivery needs a send job that is claimed again: once every send job is done,
        # no worker can send anything more, and the sink holds all there will ever be.
        while True:
            with engine.connect() as conn:
                open_jobs = conn.execute(sa.text(
                    "SELECT count(*) FROM jobs WHERE kind = 'send' AND state <> 'done'")).scalar_one()
            if open_jobs == 0:
                break
            assert time.monotonic() < deadline, f"{open_jobs} send job(s) still open\n{fleet.logs()}"
            time.sleep(0.1)
    finally:
        sampling.set()
        sampler.join()
        engine.dispose()

    received = smtp_sink.messages
    subjects = sorted(m.message()["Subject"] for m in received)
    assert subjects == sorted(f"Factuur {n}" for n in range(MESSAGES)), "a message was lost or sent twice"
    assert len({m.message()["Message-ID"] for m in received}) == MESSAGES
    for n, message_id in enumerate(ids):
        message = clients[n % 2].messages.get(message_id)
        assert message.attempts == 1 and [e.type for e in message.events or []].count("message.sent") == 1
    worker_pids = {str(p.pid) for p in fleet.workers}
    assert {h.rsplit(":", 1)[-1] for h in holders} <= worker_pids
    assert len(holders) == 2, f"both workers should have sent: {holders}"
    for client in clients:
        client.close()
