"""The fault suite: what users run, broken on purpose, with real processes.

* ``mailport serve`` on SQLite SIGKILLed three times while 1,000 messages are sent (and restarted
  at once, as a supervisor does);
* a fleet on PostgreSQL — two ``serve --no-worker`` and two ``worker`` processes — loses one API
  process and one worker to SIGKILL (not restarted: the survivors carry on);
* PostgreSQL itself restarted (``pg_ctl restart -m fast``) and stopped for 5 s (``-m immediate``)
  under load, the workers left alone — a throwaway cluster of this test, never the shared one;
* the SMTP server down for 60 s;
* a temporary and a permanent refusal (451 + 550) in one message, in both orders.

Each prints accepted / delivered once / lost / duplicated / seconds until the first delivery
after the fault, and asserts: nothing lost, duplicates no more than the messages in flight at
the fault, every worker still running, and the first delivery after a kill within 10 s of the
process being back — not after the 60 s lease, which is only for a worker that vanished without
a trace.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from dbfixtures import ADMIN_KEY
from lab import SmtpSink
from lab.pg_cluster import PgCluster, available
from lab.ports import free_port
from mailport.client import Client
from mailport.errors import MailportError

pytestmark = [pytest.mark.slow]

SECRET_KEY = "t1:" + "C" * 43 + "="
LEASE = 60  # the default: every bound measured here must beat it by far
BACK_WITHIN = 10.0


# ---------------------------------------------------------------------------------------------
# Processes


class Procs:
    """``mailport`` processes of one test, their logs, and kills."""

    def __init__(self, tmp_path: Path, database_url: str, **extra: str) -> None:
        self.tmp_path = tmp_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
        self.env.update(
            MAILPORT_ENV="test", MAILPORT_DATABASE_URL=database_url, MAILPORT_ADMIN_KEY=ADMIN_KEY,
            MAILPORT_SECRET_KEY=SECRET_KEY, MAILPORT_DATA_DIR=str(tmp_path / "var"),
            MAILPORT_ALLOW_PRIVATE_HOSTS="true", MAILPORT_ALLOW_INSECURE_AUTH="true",
            MAILPORT_WORKER_LEASE=str(LEASE), MAILPORT_WORKER_CONCURRENCY="8",
            MAILPORT_SEND_ACCOUNT_CONCURRENCY="4", MAILPORT_SEND_RETRY_MIN_DELAY="0.5",
            MAILPORT_SEND_RETRY_MAX_DELAY="2", MAILPORT_LOG_FORMAT="console",
            MAILPORT_LOG_LEVEL="INFO",
        )
        self.env.update(extra)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        env = dict(self.env)
        if args[0] == "serve":
            self.ports.setdefault(name, free_port())
            env["MAILPORT_PORT"] = str(self.ports[name])
        log = (self.tmp_path / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "mailport.cli", *args], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def wait_healthy(self, name: str, timeout: float = 60) -> float:
        """Wait until ``name`` answers /healthz; returns that moment (time.time())."""
        deadline = time.monotonic() + timeout
        with Client(self.url(name), max_retries=0, timeout=2) as probe:
            while True:
                try:
                    probe.health()
                    return time.time()
                except MailportError:
                    assert self.procs[name].poll() is None, self.logs()
                    assert time.monotonic() < deadline, f"{name} did not come up\n{self.logs()}"
                    time.sleep(0.05)

    def log_size(self, name: str) -> int:
        path = self.tmp_path / f"{name}.log"
        return path.stat().st_size if path.exists() else 0

    def wait_worker_started(self, name: str, offset: int, timeout: float = 90) -> float:
        """Wait until ``name``'s log shows, after byte ``offset``, that its job worker runs (serve
        runs it as a child process that starts after the API answers); returns time.time()."""
        path = self.tmp_path / f"{name}.log"
        deadline = time.monotonic() + timeout
        while True:
            with path.open("rb") as fh:
                fh.seek(offset)
                if re.search(rb"mailport\.worker: worker \S+ started", fh.read()):
                    return time.time()
            assert self.procs[name].poll() is None, self.logs()
            assert time.monotonic() < deadline, f"{name}'s worker did not start\n{self.logs()}"
            time.sleep(0.05)

    def kill9(self, name: str) -> None:
        """SIGKILL the process and its children at once (serve's worker child too), as the OOM
        killer or a lost container does — nobody gets to finish anything."""
        proc = self.procs[name]
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        proc.wait(10)
        psutil.wait_procs(children, timeout=10)

    def running(self, *names: str) -> bool:
        return all(self.procs[n].poll() is None for n in names)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
                         for p in sorted(self.tmp_path.glob("*.log")))

    def stop(self) -> dict[str, int | None]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes


# ---------------------------------------------------------------------------------------------
# Load and the scoreboard


@dataclass
class Load:
    """Sends ``total`` invoices through the given API processes from a few client threads, each
    retried with its Idempotency-Key until accepted (as a host product does across a crash)."""

    urls: list[str]
    api_key: str
    account: str
    total: int
    threads: int = 4
    accepted: dict[int, str] = field(default_factory=dict)  # n -> Message-ID header
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Load:
        self._workers = [threading.Thread(target=self._run, args=(k,), daemon=True)
                         for k in range(self.threads)]
        for t in self._workers:
            t.start()
        return self

    def _run(self, k: int) -> None:
        clients = [Client(url, api_key=self.api_key, max_retries=0, timeout=10) for url in self.urls]
        try:
            for n in range(k, self.total, self.threads):
                self._send(clients, n)
        finally:
            for c in clients:
                c.close()

    def _send(self, clients: list[Client], n: int) -> None:
        deadline = time.monotonic() + 120
        turn = n
        while True:
            client = clients[turn % len(clients)]
            try:
                message = client.messages.send(
                    account=self.account, to=[f"klant{n}@example.nl"], subject=f"Factuur {n}",
                    text=f"Factuur {n}", metadata={"n": str(n)}, idempotency_key=f"invoice-{n}")
            except MailportError as exc:  # process down or restarting: try again (elsewhere)
                if time.monotonic() > deadline:
                    with self._lock:
                        self.errors.append(f"{n}: {exc}")
                    return
                turn += 1
                time.sleep(0.1)
                continue
            with self._lock:
                self.accepted[n] = message.message_id_header
            return

    def join(self, timeout: float = 180) -> None:
        for t in self._workers:
            t.join(timeout)
        assert not self.errors, self.errors[:5]


def _received(sink: SmtpSink) -> list[tuple[str, float]]:
    parser = BytesHeaderParser()
    return [(str(parser.parsebytes(m.data)["Message-ID"]), m.received_at) for m in list(sink.messages)]


def _wait_for(condition: object, what: str, procs: Procs, timeout: float, *alive: str,
              every: float = 0.05) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert procs.running(*alive), f"a process exited while waiting for {what}\n{procs.logs()}"
        if time.monotonic() > deadline:
            detail = _states(procs.env["MAILPORT_DATABASE_URL"])
            raise AssertionError(f"timed out waiting for {what}\n{detail}\n{procs.logs()}")
        time.sleep(every)


def _first_delivery_after(sink: SmtpSink, moment: float, procs: Procs, *alive: str,
                          timeout: float = 60) -> float:
    """Seconds from ``moment`` (time.time()) until the sink received a message after it."""
    found: list[float] = []

    def delivered() -> bool:
        later = [m.received_at for m in list(sink.messages) if m.received_at >= moment]
        if later:
            found.append(min(later))
        return bool(later)

    _wait_for(delivered, "a delivery after the fault", procs, timeout, *alive)
    return found[0] - moment


_engines: dict[str, sa.Engine] = {}


def _scalar(database_url: str, sql: str) -> int:
    engine = _engines.get(database_url)
    if engine is None:
        engine = _engines[database_url] = sa.create_engine(database_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar() or 0)


def _running_sends(database_url: str) -> int:
    """Send jobs held by a worker right now: the most a fault can cut off mid-delivery."""
    return _scalar(database_url, "SELECT count(*) FROM jobs WHERE kind = 'send' AND state = 'running'")


def _all_sent(database_url: str, expected: int) -> bool:
    return _scalar(database_url, "SELECT count(*) FROM messages WHERE state = 'sent'") >= expected


def _states(database_url: str) -> str:
    """Messages and send jobs by state, for a failure message."""
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        messages = conn.execute(sa.text("SELECT state, count(*) FROM messages GROUP BY state")).all()
        jobs = conn.execute(sa.text(
            "SELECT state, locked_by, count(*) FROM jobs WHERE kind = 'send' "
            "GROUP BY state, locked_by")).all()
    return f"messages: {messages}\nsend jobs: {jobs}"


def _score(name: str, load: Load, sink: SmtpSink, *, in_flight: int,
           first_after: list[float]) -> None:
    time.sleep(1.0)  # a duplicate still on its way would arrive now
    counts = Counter(mid for mid, _ in _received(sink))
    expected = set(load.accepted.values())
    delivered_once = sum(1 for mid in expected if counts[mid] == 1)
    lost = len(expected - set(counts))
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    stray = set(counts) - expected
    seconds = ", ".join(f"{s:.1f}" for s in first_after)
    print(f"\n[fault suite] {name}: accepted {len(expected)} / delivered once {delivered_once} / "
          f"lost {lost} / duplicated {duplicated} (in flight at the faults: {in_flight}) / "
          f"first delivery after the fault: {seconds} s")
    assert len(expected) == load.total
    assert lost == 0 and not stray
    assert duplicated <= in_flight


def _tenant_and_account(url: str, sink: SmtpSink) -> tuple[str, str]:
    with Client(url, api_key=ADMIN_KEY) as admin:
        tenant = admin.tenants.create(name="Faults BV")
    with Client(url, api_key=tenant.api_key) as client:
        account = client.accounts.create(
            email="user@example.test", password="password",
            smtp={"host": "127.0.0.1", "port": sink.port, "security": "none"})
    return tenant.api_key, account.id


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    reason = available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with PgCluster() as cluster:
        yield cluster


_db_counter = iter(range(1000))


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    if not pg_cluster.is_running():
        pg_cluster.start()
    return pg_cluster.create_database(f"faults_{next(_db_counter)}")


# ---------------------------------------------------------------------------------------------
# The faults


def test_serve_on_sqlite_killed_three_times_during_1000_sends(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    database_url = f"sqlite:///{tmp_path / 'var' / 'mailport.db'}"
    procs = Procs(tmp_path, database_url)
    procs.spawn("serve", "serve")
    try:
        procs.wait_healthy("serve")
        api_key, account = _tenant_and_account(procs.url("serve"), smtp_sink)
        load = Load([procs.url("serve")], api_key, account, total=1000).start()
        in_flight, first_after = 0, []
        for mark in (200, 450, 700):
            _wait_for(lambda m=mark: len(smtp_sink.messages) >= m, f"{mark} deliveries", procs, 120,
                      "serve")
            procs.kill9("serve")
            in_flight += _running_sends(database_url)
            offset = procs.log_size("serve")
            procs.spawn("serve", "serve")
            answering = procs.wait_healthy("serve")
            # serve is back when its worker (a child process) runs; how long that takes to start
            # is the machine's, the first delivery after it is mailport's.
            back = procs.wait_worker_started("serve", offset)
            first_after.append(_first_delivery_after(smtp_sink, back, procs, "serve"))
            print(f"\n[fault suite] serve restart {len(first_after)}: API answering after "
                  f"{back - answering:.1f} s before its worker ran; first delivery "
                  f"{first_after[-1]:.1f} s after the worker started")
        load.join()
        _wait_for(lambda: _all_sent(database_url, load.total), "every message sent", procs, 180,
                  "serve", every=0.3)
        assert procs.running("serve")
        _score("serve (SQLite) kill -9 x3 during 1,000 sends", load, smtp_sink, in_flight=in_flight,
               first_after=first_after)
        assert max(first_after) <= BACK_WITHIN, first_after
    finally:
        procs.stop()


def test_fleet_loses_an_api_process_and_a_worker(tmp_path: Path, smtp_sink: SmtpSink, pg_url: str) -> None:
    procs = Procs(tmp_path, pg_url)
    subprocess.run([sys.executable, "-m", "mailport.cli", "migrate"], env=procs.env, check=True,
                   capture_output=True, timeout=120)
    for name in ("api1", "api2"):
        procs.spawn(name, "serve", "--no-worker")
    for name in ("worker1", "worker2"):
        procs.spawn(name, "worker")
    try:
        for name in ("api1", "api2"):
            procs.wait_healthy(name)
        api_key, account = _tenant_and_account(procs.url("api1"), smtp_sink)
        load = Load([procs.url("api1"), procs.url("api2")], api_key, account, total=200).start()
        _wait_for(lambda: len(smtp_sink.messages) >= 60, "60 deliveries", procs, 120, "worker1")
        procs.kill9("api1")
        in_flight = _running_sends(pg_url)
        procs.kill9("worker1")
        killed = time.time()
        # The survivor is the process "back": its first delivery must not wait for the lease.
        first_after = [_first_delivery_after(smtp_sink, killed, procs, "worker2", "api2")]
        load.join()
        _wait_for(lambda: _all_sent(pg_url, load.total), "every message sent", procs, 180,
                  "worker2", "api2", every=0.3)
        _score("fleet (PostgreSQL) kill -9 of one API process and one worker", load, smtp_sink,
               in_flight=in_flight, first_after=first_after)
        assert procs.running("worker2", "api2")
        assert first_after[0] <= BACK_WITHIN
    finally:
        procs.stop()


@pytest.mark.parametrize("fault", ["pg_ctl restart -m fast", "5 s outage (stop -m immediate)"])
def test_workers_outlive_the_database(tmp_path: Path, smtp_sink: SmtpSink, pg_url: str,
                                      pg_cluster: PgCluster, fault: str) -> None:
    procs = Procs(tmp_path, pg_url)
    subprocess.run([sys.executable, "-m", "mailport.cli", "migrate"], env=procs.env, check=True,
                   capture_output=True, timeout=120)
    procs.spawn("api", "serve", "--no-worker")
    for name in ("worker1", "worker2"):
        procs.spawn(name, "worker")
    try:
        procs.wait_healthy("api")
        api_key, account = _tenant_and_account(procs.url("api"), smtp_sink)
        load = Load([procs.url("api")], api_key, account, total=160).start()
        _wait_for(lambda: len(smtp_sink.messages) >= 40, "40 deliveries", procs, 120,
                  "worker1", "worker2")
        in_flight = _running_sends(pg_url)
        if fault.startswith("pg_ctl restart"):
            pg_cluster.restart(mode="fast")
        else:
            pg_cluster.stop(mode="immediate")
            time.sleep(5)
            pg_cluster.start()
        back = time.time()
        first_after = [_first_delivery_after(smtp_sink, back, procs, "worker1", "worker2")]
        load.join()
        _wait_for(lambda: _all_sent(pg_url, load.total), "every message sent", procs, 180,
                  "worker1", "worker2", "api", every=0.3)
        assert procs.running("worker1", "worker2", "api"), procs.logs()
        _score(f"PostgreSQL {fault} under load", load, smtp_sink, in_flight=in_flight,
               first_after=first_after)
        assert first_after[0] <= BACK_WITHIN
        worker_log = (tmp_path / "worker1.log").read_text(errors="replace")
        # Once per outage, not once per query or tick.
        assert worker_log.count("database unavailable") <= 2, worker_log[-3000:]
    finally:
        codes = procs.stop()
    assert codes["worker1"] == 0 and codes["worker2"] == 0, procs.logs()


def test_smtp_server_down_for_60_seconds(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    database_url = f"sqlite:///{tmp_path / 'var' / 'mailport.db'}"
    procs = Procs(tmp_path, database_url)
    procs.spawn("serve", "serve")
    try:
        procs.wait_healthy("serve")
        api_key, account = _tenant_and_account(procs.url("serve"), smtp_sink)
        load = Load([procs.url("serve")], api_key, account, total=80, threads=2).start()
        _wait_for(lambda: len(smtp_sink.messages) >= 20, "20 deliveries", procs, 60, "serve")
        port = smtp_sink.port
        smtp_sink.stop()
        in_flight = _running_sends(database_url)
        time.sleep(60)
        assert procs.running("serve"), procs.logs()
        smtp_sink.start(port=port)
        back = time.time()
        first_after = [_first_delivery_after(smtp_sink, back, procs, "serve")]
        load.join()
        _wait_for(lambda: _all_sent(database_url, load.total), "every message sent", procs, 120,
                  "serve", every=0.3)
        _score("SMTP server down for 60 s", load, smtp_sink, in_flight=in_flight,
               first_after=first_after)
        # Deferred messages wait at most MAILPORT_SEND_RETRY_MAX_DELAY (2 s) plus a poll.
        assert first_after[0] <= BACK_WITHIN
    finally:
        procs.stop()


@pytest.mark.parametrize("order", ["451 then 550", "550 then 451"])
def test_451_and_550_in_one_message(tmp_path: Path, smtp_sink: SmtpSink, order: str) -> None:
    database_url = f"sqlite:///{tmp_path / 'var' / 'mailport.db'}"
    procs = Procs(tmp_path, database_url)
    procs.spawn("serve", "serve")
    try:
        procs.wait_healthy("serve")
        api_key, account = _tenant_and_account(procs.url("serve"), smtp_sink)
        smtp_sink.reject_recipient("later@example.org", "451 4.7.1 Greylisted, try again later")
        smtp_sink.reject_recipient("gone@example.org")
        to = ["later@example.org", "gone@example.org"]
        if order == "550 then 451":
            to.reverse()
        with Client(procs.url("serve"), api_key=api_key) as client:
            message = client.messages.send(account=account, to=to, subject="Factuur 7", text="Factuur 7")

            def deferred() -> bool:
                return client.messages.get(message.id).state == "deferred"

            _wait_for(deferred, "the deferral", procs, 30, "serve")
            view = client.messages.get(message.id)
            by_address = {r.address: r for r in view.recipients}
            later, gone = by_address["later@example.org"], by_address["gone@example.org"]
            assert (later.status, later.smtp_code) == ("deferred", 451)
            assert "Greylisted" in (later.text or "")
            assert (gone.status, gone.smtp_code, gone.diagnosis) == ("failed", 550, "send.recipient_unknown")
            assert "User unknown" in (gone.text or "")

            smtp_sink.reset()  # greylisting over; the unknown user stays unknown
            smtp_sink.reject_recipient("gone@example.org")
            _wait_for(lambda: client.messages.get(message.id).state == "sent", "the retry", procs, 30,
                      "serve")
            final = client.messages.get(message.id)
        assert {r.address: r.status for r in final.recipients} == {
            "later@example.org": "accepted", "gone@example.org": "failed"}
        assert [m.rcpt_tos for m in smtp_sink.messages] == [["later@example.org"]]
        print(f"\n[fault suite] 451 + 550 ({order}): accepted 1 / delivered once 1 (to the 451 "
              f"recipient, on attempt {final.attempts}) / lost 0 / duplicated 0 / the 550 "
              "recipient failed once, never retried")
    finally:
        procs.stop()
