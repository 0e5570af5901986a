"""Inbox sync against the lab's real Dovecot: initial window, incremental passes, deletes, flags,
UIDVALIDITY reset without duplicates, IDLE latency, restart mid-sync, leases."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbfixtures import make_runtime
from mailport.adapters.imap import SyncSession
from mailport.adapters.storage.tables_inbox import InboxMessage, InboxSync
from mailport.errors import RemoteError
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput

pytestmark = pytest.mark.lab

PASSWORD = "Inbox-Sync-Passw0rd"


@pytest.fixture
def mailbox(mail_lab: Any) -> str:
    email = f"sync{secrets.token_hex(4)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    return email


def lab_runtime(tmp_path: Path, mail_lab: Any, database_url: str | None = None) -> Runtime:
    return make_runtime(tmp_path, database_url, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path),
                        connect_timeout=5.0)


@pytest.fixture
def runtime(tmp_path: Path, mail_lab: Any) -> Iterator[Runtime]:
    rt = lab_runtime(tmp_path, mail_lab)
    yield rt
    rt.close()


def add_account(rt: Runtime, mail_lab: Any, email: str, *, tenant_name: str = "Bakkerij") -> tuple[str, str]:
    tenant = rt.tenants.create(name=tenant_name).tenant.id
    view = rt.accounts.create(tenant, AccountInput(
        email=email, password=PASSWORD,
        smtp={"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        imap={"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    ))
    return tenant, view.id


def make_message(subject: str, *, sender: str = "jane@customer.example", to: str = "shop@example.test",
                 body: str = "Hello, see the attached invoice.", when: datetime | None = None,
                 in_reply_to: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Jane Buyer <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="customer.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg


def append(mail_lab: Any, email: str, msg: EmailMessage, *, folder: str = "INBOX",
           when: datetime | None = None, flags: tuple[str, ...] = ()) -> int:
    client = mail_lab.imap_client(email, PASSWORD)
    try:
        result = client.append(folder, msg.as_bytes(), flags=flags, msg_time=when or datetime.now(UTC))
        uid = int(result.split(b"]")[0].split()[-1]) if b"APPENDUID" in result else 0
    finally:
        client.logout()
    return uid


def stored(rt: Runtime, account_id: str) -> list[InboxMessage]:
    with rt.db.session() as s:
        return list(s.scalars(sa.select(InboxMessage).where(InboxMessage.account_id == account_id,
                                                            InboxMessage.stale.is_(False))))


def subjects(rt: Runtime, account_id: str, direction: str = "in") -> list[str]:
    return sorted(m.subject for m in stored(rt, account_id) if m.direction == direction)


@pytest.mark.parametrize("extensions", ["qresync", "condstore", "plain"])
async def test_initial_sync_window_then_incremental_new_flags_and_deletes(
    runtime: Runtime, mail_lab: Any, mailbox: str, extensions: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Dovecot offers CONDSTORE and QRESYNC; the other paths are forced by not using them.
    if extensions != "qresync":
        async def no_enable(self: SyncSession) -> None:
            self.qresync_enabled = False

        monkeypatch.setattr(SyncSession, "enable_extensions", no_enable)
    if extensions == "plain":
        monkeypatch.setattr(SyncSession, "condstore", property(lambda self: False))
    tenant, account = add_account(runtime, mail_lab, mailbox)
    old = datetime.now(UTC) - timedelta(days=120)
    append(mail_lab, mailbox, make_message("Old order", when=old), when=old)
    first = make_message("Invoice question", body="Dear shop,\n\nwhy is invoice 42 so expensive?\n")
    append(mail_lab, mailbox, first)
    append(mail_lab, mailbox, make_message("Second", sender="Bob@Other.example"), flags=("\\Seen",))
    append(mail_lab, mailbox, make_message("Copy of invoice", sender=mailbox, to="jane@customer.example"),
           folder="Sent")

    report = await runtime.inbox.sync_account(tenant, account)
    assert subjects(runtime, account) == ["Invoice question", "Second"]  # 120 days old: outside the window
    assert subjects(runtime, account, "out") == ["Copy of invoice"]
    assert {f.role: f.reset for f in report.folders} == {"inbox": True, "sent": True}
    question = next(m for m in stored(runtime, account) if m.subject == "Invoice question")
    assert question.from_email == "jane@customer.example" and question.from_name == "Jane Buyer"
    assert question.snippet.startswith("Dear shop, why is invoice 42 so expensive?")
    assert question.header_message_id == first["Message-ID"] and question.size > 0
    state = runtime.inbox.sync_state(tenant, account)
    assert state.state == "idle" and state.last_sync_at is not None and state.error_code is None

    # Nothing new: an incremental pass changes nothing and fetches nothing.
    report = await runtime.inbox.sync_account(tenant, account)
    assert report.added == 0 and not any(f.reset for f in report.folders)

    # New mail, a flag change and a deletion on the server.
    append(mail_lab, mailbox, make_message("Third"))
    client = mail_lab.imap_client(mailbox, PASSWORD)
    try:
        client.select_folder("INBOX")
        uids = {client.fetch([u], ["ENVELOPE"])[u][b"ENVELOPE"].subject.decode(): u for u in client.search()}
        client.add_flags([uids["Invoice question"]], ["\\Flagged"])
        client.delete_messages([uids["Second"]])
        client.expunge()
    finally:
        client.logout()
    report = await runtime.inbox.sync_account(tenant, account)
    inbox = next(f for f in report.folders if f.role == "inbox")
    assert (inbox.added, inbox.removed, inbox.flags_changed) == (1, 1, 1)
    assert subjects(runtime, account) == ["Invoice question", "Third"]
    question = next(m for m in stored(runtime, account) if m.subject == "Invoice question")
    assert "\\Flagged" in question.flags
    async with runtime.imap_sync.connect(tenant, account) as ctx:  # the path this run took
        assert (ctx.sync.qresync, ctx.sync.condstore) == {
            "qresync": (True, True), "condstore": (False, True), "plain": (False, False)}[extensions]


async def test_uidvalidity_reset_resyncs_without_duplicates(runtime: Runtime, mail_lab: Any, mailbox: str) -> None:
    tenant, account = add_account(runtime, mail_lab, mailbox)
    msgs = [make_message(f"Sent {i}", sender=mailbox, to="jane@customer.example") for i in range(3)]
    for msg in msgs:
        append(mail_lab, mailbox, msg, folder="Sent")
    await runtime.inbox.sync_account(tenant, account)
    before = {m.header_message_id: m.id for m in stored(runtime, account) if m.direction == "out"}
    assert len(before) == 3

    # Delete and recreate the folder: same messages, new UIDVALIDITY, UIDs from 1 again.
    client = mail_lab.imap_client(mailbox, PASSWORD)
    try:
        old_validity = client.folder_status("Sent", ["UIDVALIDITY"])[b"UIDVALIDITY"]
        client.delete_folder("Sent")
        await asyncio.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
        client.create_folder("Sent")
        for msg in msgs[:2]:  # one message is gone for good
            client.append("Sent", msg.as_bytes())
        client.append("Sent", make_message("Sent later", sender=mailbox).as_bytes())
        assert client.folder_status("Sent", ["UIDVALIDITY"])[b"UIDVALIDITY"] != old_validity
    finally:
        client.logout()

    report = await runtime.inbox.sync_account(tenant, account)
    sent = next(f for f in report.folders if f.role == "sent")
    assert sent.reset and (sent.revived, sent.added, sent.removed) == (2, 1, 1)
    after = [m for m in stored(runtime, account) if m.direction == "out"]
    assert sorted(m.subject for m in after) == ["Sent 0", "Sent 1", "Sent later"]
    # the surviving rows kept their ids (links and API URLs stay valid)
    for m in after:
        if m.header_message_id in before:
            assert before[m.header_message_id] == m.id
    with runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(InboxMessage)
                        .where(InboxMessage.account_id == account)) == 3 + 0 + len(
            [m for m in stored(runtime, account) if m.direction == "in"])


async def _until(predicate: Any, *, timeout: float, interval: float = 0.02) -> float:
    start = time.monotonic()
    while True:
        if await asyncio.to_thread(predicate):
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, "condition not reached in time"
        await asyncio.sleep(interval)


async def test_idle_brings_new_mail_within_two_seconds_and_deletes(runtime: Runtime, mail_lab: Any,
                                                                   mailbox: str) -> None:
    _, account = add_account(runtime, mail_lab, mailbox)
    append(mail_lab, mailbox, make_message("Before"))
    engine = runtime.make_inbox_engine(worker_id="w1")
    engine.claim_interval = 0.1
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        await _until(lambda: subjects(runtime, account) == ["Before"], timeout=15)
        # Waiting for a change (IDLE): mail that lands before the server confirms IDLE is reported
        # in IDLE's first untagged responses, so from here on every append must show within 2 s.
        await _until(lambda: account in engine.waiting, timeout=5, interval=0.02)
        for i in range(3):
            await asyncio.to_thread(append, mail_lab, mailbox, make_message(f"Live {i}"))
            took = await _until(lambda i=i: f"Live {i}" in subjects(runtime, account), timeout=5)
            assert took < 2.0, f"new mail took {took:.2f} s"
        client = mail_lab.imap_client(mailbox, PASSWORD)
        try:
            client.select_folder("INBOX")
            client.delete_messages(client.search(["SUBJECT", "Before"]))
            client.expunge()
        finally:
            client.logout()
        took = await _until(lambda: "Before" not in subjects(runtime, account), timeout=5)
        assert took < 2.0
        with runtime.db.session() as s:
            row = s.get(InboxSync, account)
            assert row is not None and row.lease_owner == "w1" and row.state == "idle"
    finally:
        stop.set()
        await task
    with runtime.db.session() as s:
        row = s.get(InboxSync, account)
        assert row is not None and row.lease_owner is None  # released on shutdown


async def test_server_restart_mid_sync_recovers(runtime: Runtime, mail_lab: Any, mailbox: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _tenant, account = add_account(runtime, mail_lab, mailbox)
    client = mail_lab.imap_client(mailbox, PASSWORD)
    try:
        for i in range(30):
            client.append("INBOX", make_message(f"Bulk {i:02d}").as_bytes())
    finally:
        client.logout()

    original = SyncSession.stream_summaries
    original_connect = runtime.imap_sync.connect
    calls = {"n": 0, "connects": 0}

    async def stream_then_crash(self: SyncSession, uids: Any, *, batch: int = 500, **options: Any) -> Any:
        calls["n"] += 1
        async with aclosing(original(self, uids, batch=batch, **options)) as stream:
            async for chunk in stream:
                yield chunk
                if calls["n"] == 1:
                    # The server goes down between two batches of the initial sync (what it had
                    # already sent may still arrive from the socket's buffer).
                    await asyncio.to_thread(mail_lab.restart_dovecot, down_seconds=1.0)

    def counting_connect(tenant_id: str, account_id: str) -> Any:
        calls["connects"] += 1
        return original_connect(tenant_id, account_id)

    monkeypatch.setattr(SyncSession, "stream_summaries", stream_then_crash)
    monkeypatch.setattr(runtime.imap_sync, "connect", counting_connect)
    engine = runtime.make_inbox_engine(worker_id="w-restart")
    engine.claim_interval = 0.1
    engine.backoff_base = 0.2
    runtime.imap_sync.fetch_batch = 10
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        await _until(lambda: len(subjects(runtime, account)) == 30, timeout=30)

        def recovered() -> bool:
            # One read of state and failures: the dead connection's failure may be recorded just
            # after the batch that completed the sync (the server went down under its IDLE), and
            # only the reconnect's success clears it.
            with runtime.db.session() as s:
                row = s.get(InboxSync, account)
                return row is not None and row.state == "idle" and row.failures == 0 and calls["connects"] >= 2

        await _until(recovered, timeout=20)
        assert subjects(runtime, account) == sorted(f"Bulk {i:02d}" for i in range(30))  # no duplicates
        await asyncio.to_thread(append, mail_lab, mailbox, make_message("After restart"))
        await _until(lambda: "After restart" in subjects(runtime, account), timeout=15)
        assert calls["connects"] >= 2  # the connection died with the server; it reconnected
    finally:
        stop.set()
        await task


async def test_failure_is_recorded_with_a_diagnosis(runtime: Runtime, mail_lab: Any, mailbox: str) -> None:
    tenant, account = add_account(runtime, mail_lab, mailbox)
    runtime.accounts.update(tenant, account, {"imap": {"port": mail_lab.imap_port},  # TLS on a plain port
                                              "password": PASSWORD})
    with pytest.raises(RemoteError):
        await runtime.inbox.sync_account(tenant, account)
    state = runtime.inbox.sync_state(tenant, account)
    assert state.state == "error" and state.error_code and state.error_code.startswith(("tls.", "net."))
    assert state.to_dict()["error"]["code"] == state.error_code


async def test_cancelling_an_idle_always_cancels(runtime: Runtime, mail_lab: Any, mailbox: str) -> None:
    """Shutdown cancels accounts in IDLE at any moment, also while IDLE is ending because it was
    woken: the cancellation must never be swallowed (the engine would wait for ever)."""
    tenant, account = add_account(runtime, mail_lab, mailbox)
    for yields in range(4):
        async with runtime.imap_sync.connect(tenant, account) as ctx:
            await ctx.sync.examine("INBOX")
            stop = asyncio.Event()
            task = asyncio.create_task(ctx.sync.idle(timeout=30, stop=stop))
            await asyncio.sleep(0.2)
            stop.set()
            for _ in range(yields):
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
