"""Send benchmarks, each against a baseline measured in the same run.

- ``send_pipeline_sqlite``: messages/s from the first ``POST /v1/messages`` to the last message
  accepted by an aiosmtpd sink, through ``mailport serve`` (API + embedded worker, SQLite).
  Baseline: raw ``aiosmtplib`` with 8 reused, authenticated connections sending the same bytes
  to the same sink — the sink's own ceiling.
- ``send_pipeline_postgres``: the same with ``mailport serve --no-worker`` + ``mailport worker``
  processes on a scratch PostgreSQL database (skipped when PostgreSQL is not reachable).
- ``api_accept_p99_ms``: p99 latency of ``POST /v1/messages`` at an open-loop 200 requests/s
  (measured from each request's scheduled start, so queueing counts), while the worker sends
  what was accepted. Baseline: ``GET /healthz`` p99 at the same rate on the same server.

The sink runs in its own process (``--sink``) so it does not share a GIL with what is measured.
Prints ``BENCH <name> <value> <unit> baseline <value> <unit> ratio <r>`` lines.
Run: ``.venv/bin/python bench/bench_send.py [--messages N] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

ADMIN_KEY = "mpa_bench_operator_key_0123456789"
SECRET_KEY = "b1:" + base64.urlsafe_b64encode(b"\x07" * 32).decode()
PG_ADMIN_URL = os.environ.get("MAILPORT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SENDER = "bench@example.test"
PDF = b"%PDF-1.4\n" + secrets.token_bytes(13_500) + b"\n%%EOF\n"  # LAB.md's 20 KB invoice


def line(name: str, value: float, unit: str, base: float, base_unit: str) -> None:
    ratio = value / base if base else float("inf")
    print(f"BENCH {name} {value:.1f} {unit} baseline {base:.1f} {base_unit} ratio {ratio:.2f}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# The sink process


def run_sink(port: int) -> None:
    import warnings

    warnings.simplefilter("ignore")  # aiosmtpd's deprecation notes, once per AUTH
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Handler:
        count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Handler.count += 1
            return "250 2.0.0 OK: queued"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"password"
        return AuthResult(success=ok)

    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False, auth_required=True, data_size_limit=50_000_000)
    controller.start()
    print("ready", flush=True)
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        time.sleep(0.2)
    controller.stop()


@contextlib.contextmanager
def sink() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--sink", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


# ---------------------------------------------------------------------------------------------
# Baseline: raw aiosmtplib, 8 connections


def invoice_bytes() -> bytes:
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SENDER, "klant@example.org", "Factuur"
    msg.set_content("Beste klant,\n\nIn de bijlage vindt u de factuur.\n")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="factuur.pdf")
    return msg.as_bytes(policy=SMTP)


async def raw_baseline(port: int, count: int, connections: int = 8) -> float:
    import aiosmtplib

    raw = invoice_bytes()
    left = count

    async def one() -> None:
        nonlocal left
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        await client.login(SENDER, "password")
        while left > 0:
            left -= 1
            await client.sendmail(SENDER, ["klant@example.org"], raw)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return count / (time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# The pipeline: real mailport processes


class Installation:
    """``mailport serve`` (+ optional ``mailport worker`` processes) on a fresh database."""

    def __init__(self, *, data_dir: Path, database_url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
        self.env.update(
            MAILPORT_ENV="test", MAILPORT_DATA_DIR=str(data_dir), MAILPORT_DATABASE_URL=database_url,
            MAILPORT_ADMIN_KEY=ADMIN_KEY, MAILPORT_SECRET_KEY=SECRET_KEY, MAILPORT_PORT=str(self.port),
            MAILPORT_ALLOW_PRIVATE_HOSTS="true", MAILPORT_ALLOW_INSECURE_AUTH="true",
            MAILPORT_LOG_LEVEL="WARNING", MAILPORT_WORKER_CONCURRENCY="16",
            MAILPORT_SEND_ACCOUNT_CONCURRENCY="8", MAILPORT_EMBEDDED_WORKER="true" if workers == 0 else "false",
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir / "processes.log").open("ab")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.worker_count = workers

    def __enter__(self) -> Self:
        cli = [sys.executable, "-m", "mailport.cli"]
        subprocess.run([*cli, "migrate"], env=self.env, check=True, stdout=self.log, stderr=self.log)
        self.procs.append(subprocess.Popen([*cli, "serve"], env=self.env, stdout=self.log, stderr=self.log))
        for _ in range(self.worker_count):
            self.procs.append(subprocess.Popen([*cli, "worker"], env=self.env, stdout=self.log, stderr=self.log))
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mailport serve did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()

    def setup_account(self, sink_port: int) -> tuple[dict[str, str], str]:
        import httpx

        key = httpx.post(self.base + "/v1/tenants", json={"name": "Bench"},
                         headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        account = httpx.post(self.base + "/v1/accounts", headers=headers, json={
            "email": SENDER, "password": "password",
            "smtp": {"host": "127.0.0.1", "port": sink_port, "security": "none"},
        }).json()["id"]
        return headers, account

    def sent(self) -> int:
        import sqlalchemy as sa

        engine = self._engine()
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM messages WHERE state = 'sent'")).scalar() or 0)

    def _engine(self) -> Any:
        if not hasattr(self, "_cached_engine"):
            import sqlalchemy as sa

            self._cached_engine = sa.create_engine(self.database_url)
        return self._cached_engine


def message_body(account: str, n: int) -> dict[str, Any]:
    return {
        "account": account, "to": ["klant@example.org"], "subject": f"Factuur {n}",
        "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.\n",
        "attachments": [{"filename": "factuur.pdf", "content": base64.b64encode(PDF).decode()}],
        "metadata": {"invoice_id": str(n)},
    }


async def post_all(inst: Installation, headers: dict[str, str], account: str, count: int,
                   concurrency: int = 16) -> None:
    import httpx

    queue = iter(range(count))
    async with httpx.AsyncClient(base_url=inst.base, headers=headers, timeout=60) as client:
        async def one() -> None:
            for n in queue:
                resp = await client.post("/v1/messages", json=message_body(account, n))
                if resp.status_code != 202:
                    raise RuntimeError(f"POST /v1/messages: {resp.status_code} {resp.text[:300]}")

        await asyncio.gather(*(one() for _ in range(concurrency)))


def pipeline(inst: Installation, sink_port: int, count: int) -> tuple[float, dict[str, str], str]:
    """msg/s from the first POST to the last message sent; also the tenant key and account."""
    headers, account = inst.setup_account(sink_port)
    asyncio.run(post_all(inst, headers, account, 20))  # warm up: connections, caches
    wait_sent(inst, 20)
    started = time.perf_counter()
    asyncio.run(post_all(inst, headers, account, count))
    wait_sent(inst, 20 + count)
    return count / (time.perf_counter() - started), headers, account


def wait_sent(inst: Installation, total: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while inst.sent() < total:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {inst.sent()} of {total} messages sent")
        for proc in inst.procs:
            if proc.poll() is not None:
                raise RuntimeError("a mailport process exited; see processes.log")
        time.sleep(0.05)


async def open_loop_p99(inst: Installation, headers: dict[str, str], *, rate: float, seconds: float,
                        method: str, path: str, body: Any = None) -> float:
    """p99 in ms of requests started on a fixed schedule (latency counted from the schedule)."""
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=inst.base, headers=headers, timeout=60, limits=limits) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            try:
                resp = await client.request(method, path, json=body(i) if callable(body) else body)
            except httpx.TransportError:
                errors += 1
                return
            if resp.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text[:200]}")
            latencies.append((time.perf_counter() - scheduled) * 1000)

        total = int(rate * seconds)
        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
        took = time.perf_counter() - began
    print(f"# {method} {path} at {rate:.0f}/s: {len(latencies)} answered in {took:.1f} s "
          f"({len(latencies) / took:.0f}/s), {errors} transport errors, "
          f"p50 {statistics.median(latencies):.1f} ms", flush=True)
    return statistics.quantiles(latencies, n=100)[98]


# ---------------------------------------------------------------------------------------------


def postgres_url() -> str | None:
    import psycopg

    name = f"mailport_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name


def drop_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the 200 req/s runs")
    parser.add_argument("--pg-workers", type=int, default=1)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return 0

    with sink() as port, tempfile.TemporaryDirectory(prefix="mailport-bench-") as tmp:
        data = Path(os.environ.get("MAILPORT_BENCH_DIR") or tmp)
        baseline = asyncio.run(raw_baseline(port, args.messages))
        with Installation(data_dir=data / "sqlite", database_url=f"sqlite:///{data / 'sqlite' / 'mailport.db'}",
                          workers=0) as inst:
            rate, headers, account = pipeline(inst, port, args.messages)
            line("send_pipeline_sqlite", rate, "msg/s", baseline, "msg/s")
            health = asyncio.run(open_loop_p99(inst, headers, rate=200, seconds=args.seconds,
                                               method="GET", path="/healthz"))
            accept = asyncio.run(open_loop_p99(inst, headers, rate=200, seconds=args.seconds,
                                               method="POST", path="/v1/messages",
                                               body=lambda i: message_body(account, i)))
            line("api_accept_p99_ms", accept, "ms", health, "ms")

        url = postgres_url()
        if url is None:
            print("# send_pipeline_postgres skipped: PostgreSQL not reachable", flush=True)
            return 0
        try:
            baseline = asyncio.run(raw_baseline(port, args.messages))
            with Installation(data_dir=data / "pg", database_url=url, workers=args.pg_workers) as inst:
                rate, _, _ = pipeline(inst, port, args.messages)
                line("send_pipeline_postgres", rate, "msg/s", baseline, "msg/s")
        finally:
            drop_postgres(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
