"""Crash and concurrency tests with real ``mailport worker`` processes.

* SQLite: 2,000 queued messages, a worker SIGKILLed in the middle, another started — every
  message delivered to the sink; duplicates are counted and bounded by what was in flight.
* PostgreSQL: two workers drain one queue; no message is sent twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from outbox_helpers import outbox_runtime, sink_account

from lab import SmtpSink, free_port
from mailport.adapters.storage.tables import Job
from mailport.adapters.storage.tables_outbox import Message
from mailport.runtime import Runtime
from mailport.services.send import SendRequest

# The default lease: the restarted worker must not need it (it sees its predecessor's process
# is gone and takes the jobs over at once); it only bounds a worker that vanished elsewhere.
LEASE_SECONDS = 60


def _queue(rt: Runtime, tenant: str, account: str, count: int) -> None:
    for n in range(count):
        rt.outbox.submit(tenant, SendRequest(account_id=account, to=[f"klant{n % 50}@example.org"],
                                             subject=f"Factuur {n}", text=f"Factuur nummer {n}.",
                                             metadata={"n": str(n)}))


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "mailport.cli", "worker"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _env(rt: Runtime, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    s = rt.settings
    env.update(
        MAILPORT_ENV="test", MAILPORT_DATA_DIR=str(tmp_path / "var"),
        MAILPORT_DATABASE_URL=s.effective_database_url,
        MAILPORT_SECRET_KEY=s.secret_key, MAILPORT_ADMIN_KEY=s.admin_key,
        MAILPORT_ALLOW_PRIVATE_HOSTS="true", MAILPORT_ALLOW_INSECURE_AUTH="true",
        MAILPORT_WORKER_LEASE=str(LEASE_SECONDS), MAILPORT_WORKER_CONCURRENCY="8",
        MAILPORT_SEND_ACCOUNT_CONCURRENCY="8", MAILPORT_SEND_RETRY_MIN_DELAY="0.5",
        MAILPORT_SEND_RETRY_MAX_DELAY="1", MAILPORT_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def _count(rt: Runtime, where: Callable[[], sa.ColumnElement[bool]], table: type = Message) -> int:
    with rt.db.session() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(table).where(where())) or 0)


def _message_ids(sink: SmtpSink) -> list[str]:
    parser = BytesHeaderParser()
    return [str(parser.parsebytes(m.data)["Message-ID"]) for m in list(sink.messages)]


def _wait_all_sent(rt: Runtime, total: int, procs: list[subprocess.Popen[bytes]], log: Path,
                   timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _count(rt, lambda: Message.state == "sent") < total:
        for proc in procs:
            assert proc.poll() is None, "a worker exited:\n" + log.read_text()[-3000:]
        assert time.monotonic() < deadline, (
            f"{_count(rt, lambda: Message.state == 'sent')} of {total} sent\n" + log.read_text()[-3000:])
        time.sleep(0.2)


@pytest.mark.slow
def test_sigkill_mid_queue_loses_nothing(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    total = 2000
    rt = outbox_runtime(tmp_path)
    tenant = rt.tenants.create(name="Crash").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    _queue(rt, tenant, account, total)
    env = _env(rt, tmp_path)
    log = tmp_path / "workers.log"

    first = _worker(env, log)
    try:
        deadline = time.monotonic() + 60
        while len(smtp_sink.messages) < total * 0.4:
            assert first.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the first worker made too little progress"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    received_at_kill = len(smtp_sink.messages)
    # What the dead worker held: jobs it had claimed (lease still running) when it died.
    in_flight = _count(rt, lambda: (Job.kind == "send") & (Job.state == "running"), Job)
    sent_at_kill = _count(rt, lambda: Message.state == "sent")
    with rt.db.session() as s:
        cut_off = list(s.scalars(sa.select(Message.id).where(Message.state == "sending")))
    assert 0 < sent_at_kill < total

    second = _worker(env, log)
    try:
        # Within seconds of the restart, not after the 60 s lease, the cut-off messages are sent.
        deadline = time.monotonic() + LEASE_SECONDS / 2
        while _count(rt, lambda: Message.id.in_(cut_off) & (Message.state != "sent")):
            assert time.monotonic() < deadline, "the messages cut off by the kill waited for the lease"
            time.sleep(0.1)
        _wait_all_sent(rt, total, [second], log, timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    ids = _message_ids(smtp_sink)
    counts = Counter(ids)
    duplicates = len(ids) - len(counts)
    with rt.db.session() as s:
        expected = set(s.scalars(sa.select(Message.header_message_id)))
    print(f"\ncrash test: {total} messages, killed after {received_at_kill} received "
          f"({sent_at_kill} recorded sent), in flight at the kill: {in_flight}, "
          f"duplicates: {duplicates}")
    assert set(counts) == expected and len(expected) == total  # every message arrived
    assert duplicates <= in_flight
    assert _count(rt, lambda: Message.state != "sent") == 0
    rt.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_two_postgres_workers_send_each_message_once(tmp_path: Path, pg_url: str,
                                                     smtp_sink: SmtpSink) -> None:
    # PostgreSQL only (no SQLite variant): with SQLite one worker runs inside the serving process.
    database_url = pg_url
    total = 600
    rt = outbox_runtime(tmp_path, database_url)
    tenant = rt.tenants.create(name="Two workers").tenant.id
    accounts = [sink_account(rt, tenant, smtp_sink.port, email=f"user{n}@example.test") for n in ("", "2")]
    for account in accounts:
        _queue(rt, tenant, account, total // 2)
    env = _env(rt, tmp_path)
    log = tmp_path / "workers.log"
    workers = [_worker(env, log) for _ in range(2)]
    try:
        _wait_all_sent(rt, total, workers, log, timeout=90)
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            proc.wait(30)

    counts = Counter(_message_ids(smtp_sink))
    assert len(counts) == total
    assert [mid for mid, n in counts.items() if n > 1] == []
    with rt.db.session() as s:
        attempts = set(s.scalars(sa.select(Message.attempts)))
    assert attempts == {1}  # no message was claimed by both workers
    rt.close()


class _TalkingSink:
    """An aiosmtpd sink that counts the SMTP transactions open at once (MAIL until the DATA
    reply, which it holds back a little so that they overlap), and the most it saw."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.talking = self.most = 0
        self.received: list[bytes] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port(), auth_required=False,
                                     auth_require_tls=False, ready_timeout=10,
                                     authenticator=lambda *_: AuthResult(success=True))

    async def handle_MAIL(self, server: object, session: object, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        self.talking += 1
        self.most = max(self.most, self.talking)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        await asyncio.sleep(0.03)
        self.received.append(bytes(envelope.original_content or envelope.content))
        self.talking -= 1
        return "250 2.0.0 OK"


@pytest.mark.slow
def test_two_workers_keep_a_mailboxs_limit_while_sends_begin_ahead(tmp_path: Path, database_url: str) -> None:
    """A worker begins a mailbox's sends ahead of its free SMTP slots (more than the limit are
    ``sending`` at once), yet with two worker processes on the mailbox no more than the limit
    talk to its server at once, and each message is sent once — on PostgreSQL and on SQLite."""
    total, limit = 90, 3
    sink = _TalkingSink()
    sink.controller.start()
    rt = outbox_runtime(tmp_path, database_url)
    try:
        tenant = rt.tenants.create(name="Limit").tenant.id
        account = sink_account(rt, tenant, sink.controller.port)
        _queue(rt, tenant, account, total)
        env = _env(rt, tmp_path, MAILPORT_SEND_ACCOUNT_CONCURRENCY=str(limit), MAILPORT_WORKER_CONCURRENCY="64")
        log = tmp_path / "workers.log"
        workers = [_worker(env, log) for _ in range(2)]
        most_sending = 0
        try:
            deadline = time.monotonic() + 90
            while (sent := _count(rt, lambda: Message.state == "sent")) < total:
                most_sending = max(most_sending, _count(rt, lambda: Message.state == "sending"))
                for proc in workers:
                    assert proc.poll() is None, "a worker exited:\n" + log.read_text()[-3000:]
                assert time.monotonic() < deadline, f"{sent} of {total} sent\n" + log.read_text()[-3000:]
                time.sleep(0.005)
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                proc.wait(30)
    finally:
        sink.controller.stop()
    parser = BytesHeaderParser()
    counts = Counter(str(parser.parsebytes(raw)["Message-ID"]) for raw in sink.received)
    assert len(counts) == total and max(counts.values()) == 1
    assert sink.most <= limit, f"{sink.most} transactions at once; the limit is {limit}"
    assert most_sending > limit  # the sends were begun ahead of their slots
    rt.close()


@pytest.mark.slow
def test_sigkill_of_serve_during_batches_loses_nothing_and_a_resubmit_sends_nothing_twice(
        tmp_path: Path, smtp_sink: SmtpSink) -> None:
    """The host product posts month-end batches to ``mailport serve`` (SQLite, embedded worker);
    serve is SIGKILLed while batches are arriving and mail is going out. Every batch answered
    before the kill is committed; the product then resubmits *every* batch with the same
    idempotency keys (it cannot know which answers were lost) — nothing is sent twice beyond
    what was in flight, nothing is lost."""
    import httpx

    batches, size = 16, 50
    rt = outbox_runtime(tmp_path)
    created = rt.tenants.create(name="Crash")
    tenant_key = created.api_key
    account = sink_account(rt, created.tenant.id, smtp_sink.port)
    log = tmp_path / "serve.log"
    port = _free_port()
    env = _env(rt, tmp_path, MAILPORT_PORT=str(port), MAILPORT_EMBEDDED_WORKER="true")
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {tenant_key}"}

    def items(b: int) -> list[dict[str, object]]:
        return [{"account": account, "to": [f"klant{n % 50}@example.org"], "subject": f"Factuur {n}",
                 "text": f"Factuur nummer {n}.", "idempotency_key": f"inv-{n}"}
                for n in range(b * size, (b + 1) * size)]

    serve = _serve(env, log, base)
    answered = 0
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for b in range(batches):
                if answered >= batches // 2 and len(smtp_sink.messages) > 0:
                    break
                resp = client.post("/v1/messages/batch", json={"messages": items(b)})
                assert resp.status_code == 200 and resp.json()["accepted"] == size, resp.text
                answered += 1
        serve.send_signal(signal.SIGKILL)
        serve.wait(10)
    finally:
        if serve.poll() is None:
            serve.kill()
    committed = _count(rt, lambda: sa.true())
    assert committed >= answered * size  # every answered batch was committed before its 200
    in_flight = _count(rt, lambda: (Job.kind == "send") & (Job.state == "running"), Job)

    serve = _serve(env, log, base)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            replayed = 0
            for b in range(batches):  # resubmit everything, as a product that lost track would
                body = client.post("/v1/messages/batch", json={"messages": items(b)}).json()
                assert body["failed"] == 0, body
                replayed += body["replayed"]
        assert replayed == committed
        _wait_all_sent(rt, batches * size, [serve], log, timeout=120)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)

    ids = _message_ids(smtp_sink)
    counts = Counter(ids)
    duplicates = len(ids) - len(counts)
    with rt.db.session() as s:
        expected = set(s.scalars(sa.select(Message.header_message_id)))
    print(f"\nbatch crash test: {batches * size} messages in batches of {size}; killed after "
          f"{answered} batches answered ({committed} committed), in flight: {in_flight}, "
          f"duplicates: {duplicates}")
    assert len(expected) == batches * size and set(counts) == expected
    assert duplicates <= in_flight
    rt.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(env: dict[str, str], log: Path, base: str) -> subprocess.Popen[bytes]:
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "mailport.cli", "serve"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.1)
