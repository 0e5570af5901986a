"""Inbox sync benchmarks against a private lab Dovecot (started here, stopped at the end).

``imap_initial_sync``: 10,000 messages (filled with MULTIAPPEND, 500 per command) synced from
Dovecot into a fresh SQLite store by ``InboxService.sync_account`` — messages per second, against
the same run's raw imapclient fetch of the same mailbox's headers (``UID SEARCH SINCE`` + ``UID
FETCH (BODY.PEEK[HEADER])`` in batches of 500, no parsing, no storage). Target ratio ≥ 0.8.

``idle_accounts_rss_mb``: resident memory of this one process holding N accounts (default 1,000,
one lab user each) connected and in IDLE through ``InboxSyncEngine``, against the same process's RSS
before the engine started (runtime built, accounts created). Plain IMAP on loopback: with TLS,
Dovecot keeps a login process per connection to proxy it, which the lab's process limits do not
allow 1,000 times; the client's TLS memory is measured separately by ``--tls-sample``.

Run: ``python bench/bench_imap.py [--messages 10000] [--accounts 1000]``. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import pwd
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

import imapclient
import psutil

from lab.mail import MailLab
from lab.tls import LabCA
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput
from mailport.settings import load_settings

PASSWORD = "Bench-Passw0rd"


def line(name: str, value: float, unit: str, base: float, base_unit: str) -> None:
    ratio = value / base if base else float("inf")
    print(f"BENCH {name} {value:.1f} {unit} baseline {base:.1f} {base_unit} ratio {ratio:.2f}", flush=True)


def message(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {i % 97} <customer{i % 97}@customer{i % 13}.example>"
    msg["To"] = "bench@example.test"
    if i % 5 == 0:
        msg["Cc"] = "accounts@customer.example"
    msg["Subject"] = f"Order {i}: delivery of {i % 7 + 1} pallets"
    msg["Date"] = format_datetime(datetime.now(UTC) - timedelta(minutes=i))
    msg["Message-ID"] = make_msgid(idstring=f"bench{i}", domain="customer.example")
    if i % 3 == 0:
        msg["In-Reply-To"] = f"<inv-{i - 1}@shop.example>"
        msg["References"] = f"<inv-{i - 1}@shop.example>"
    msg.set_content(f"Hello,\n\nplease deliver order {i} on Friday.\n\nRegards,\nCustomer {i % 97}\n" + "x" * 600)
    return msg.as_bytes()


def fill(lab: MailLab, email: str, count: int) -> float:
    client = imapclient.IMAPClient(lab.host, port=lab.imap_port, ssl=False, timeout=120)
    client.login(email, PASSWORD)
    t0 = time.perf_counter()
    try:
        for start in range(0, count, 500):
            client.multiappend("INBOX", [message(i) for i in range(start, min(count, start + 500))])
    finally:
        client.logout()
    return time.perf_counter() - t0


def fill_maildir(lab: MailLab, email: str, count: int) -> float:
    """Write the messages straight into the user's Maildir (``new/``), as a local delivery agent
    would: seconds instead of minutes of APPEND on a busy machine. Dovecot indexes them (and
    assigns UIDs) on the first SELECT, which the warm-up fetch below pays for."""
    t0 = time.perf_counter()
    base = lab.maildir_path(email)
    owner = pwd.getpwnam(lab.run_user)
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    stamp = time.time()
    for i in range(count):
        path = base / "new" / f"{int(stamp)}.M{i}P{os.getpid()}.bench"
        path.write_bytes(message(i).replace(b"\n", b"\r\n"))
        os.utime(path, (stamp - i, stamp - i))
    for directory in [base.parents[2], base.parents[1], base.parent, base, *base.iterdir()]:
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    for path in (base / "new").iterdir():
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return time.perf_counter() - t0


def raw_header_fetch(lab: MailLab, email: str, since: datetime) -> tuple[int, float, float]:
    client = imapclient.IMAPClient(lab.host, port=lab.imap_port, ssl=False, timeout=120)
    client.login(email, PASSWORD)
    try:
        t0 = time.perf_counter()
        c0 = time.process_time()
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["SINCE", since.date()])
        fetched = 0
        for start in range(0, len(uids), 500):
            fetched += len(client.fetch(uids[start:start + 500], ["BODY.PEEK[HEADER]"]))
        return fetched, time.perf_counter() - t0, time.process_time() - c0
    finally:
        client.logout()


def start_profile(path: str | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling this process (collapsed stacks) while the measured part runs."""
    if not path:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    proc = subprocess.Popen([str(spy), "record", "-p", str(os.getpid()), "-r", "200", "-f", "raw",
                             "-o", path, "--nonblocking"], stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    return proc


def stop_profile(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def runtime_for(lab: MailLab, data_dir: Path) -> Runtime:
    settings = load_settings(env="test", data_dir=data_dir, admin_key="mpa_bench_key_0123456789",
                             secret_key="b1:" + "B" * 43 + "=", allow_private_hosts=True, allow_insecure_auth=True,
                             ca_file=str(lab.ca_pem_path), connect_timeout=60.0)
    rt = Runtime(settings=settings)
    rt.db.migrate()
    return rt


def account(rt: Runtime, lab: MailLab, tenant: str, email: str) -> str:
    return rt.accounts.create(tenant, AccountInput(
        email=email, password=PASSWORD,
        smtp={"host": "127.0.0.1", "port": lab.submission_port, "security": "none"},
        imap={"host": "127.0.0.1", "port": lab.imap_port, "security": "none"},
    )).id


async def bench_initial_sync(lab: MailLab, count: int, work: Path, profile_path: str | None = None) -> None:
    email = "bench@example.test"
    lab.add_user(email, PASSWORD)
    seconds = fill_maildir(lab, email, count)
    print(f"# wrote {count} messages into the Maildir in {seconds:.1f} s", flush=True)
    since = datetime.now(UTC) - timedelta(days=90)
    raw_header_fetch(lab, email, since)  # Dovecot indexes the new mail and warms its caches
    raw_n, raw_s, raw_cpu = raw_header_fetch(lab, email, since)
    rt = runtime_for(lab, work / "sync")
    try:
        tenant = rt.tenants.create(name="Bench").tenant.id
        account_id = account(rt, lab, tenant, email)
        profiler = start_profile(profile_path)
        t0 = time.perf_counter()
        c0 = time.process_time()
        report = await rt.inbox.sync_account(tenant, account_id)
        ours_s = time.perf_counter() - t0
        ours_cpu = time.process_time() - c0
        stop_profile(profiler)
        synced = report.added
        assert synced == count == raw_n, (synced, count, raw_n)
        print(f"# raw imapclient header fetch {raw_n} in {raw_s:.2f} s ({raw_cpu / raw_n * 1e3:.3f} ms CPU/msg); "
              f"inbox sync {synced} in {ours_s:.2f} s ({ours_cpu / synced * 1e3:.3f} ms CPU/msg)", flush=True)
        line("imap_initial_sync", synced / ours_s, "msg/s", raw_n / raw_s, "msg/s")
    finally:
        rt.close()


async def bench_idle_accounts(lab: MailLab, count: int, work: Path) -> None:
    users = {f"idle{i}@example.test": PASSWORD for i in range(count)}
    lab.add_users(users)
    rt = runtime_for(lab, work / "idle")
    process = psutil.Process()
    try:
        tenant = rt.tenants.create(name="Idle").tenant.id
        for email in users:
            account(rt, lab, tenant, email)
        gc.collect()
        before = process.memory_info().rss / 2**20
        engine = rt.make_inbox_engine(worker_id="bench")
        engine.claim_interval = 0.2
        engine.idle_timeout = engine.poll_interval = 600.0
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        t0 = time.perf_counter()
        while len(engine.connected) < count:
            if task.done():
                task.result()
            await asyncio.sleep(0.5)
            if time.perf_counter() - t0 > 600:
                raise SystemExit(f"only {len(engine.connected)} of {count} accounts connected in 10 min")
        await asyncio.sleep(3)  # every account inside IDLE, nothing left in flight
        gc.collect()
        after = process.memory_info().rss / 2**20
        print(f"# {count} accounts connected and idle after {time.perf_counter() - t0:.1f} s; "
              f"{(after - before) * 1024 / count:.0f} KiB per account", flush=True)
        line("idle_accounts_rss_mb", after, "MB", before, "MB")
        stop.set()
        await task
    finally:
        rt.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--profile", help="write py-spy collapsed stacks of the sync to this file")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    with tempfile.TemporaryDirectory(prefix="mailport-bench-imap-") as tmp:
        work = Path(tmp)
        ca = LabCA(work / "ca")
        with MailLab(ca) as lab:
            if args.messages:
                await bench_initial_sync(lab, args.messages, work, args.profile)
            if args.accounts:
                await bench_idle_accounts(lab, args.accounts, work)


if __name__ == "__main__":
    asyncio.run(main())
