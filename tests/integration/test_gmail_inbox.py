"""Inbox sync through the Gmail API against the lab: the lab Gmail v1 server reading the lab
Dovecot mailbox (real stored mail), mailport's GmailMailboxSync feeding the same store, contact
links and bounce parser as the IMAP sync.

The account is signed in under the ``send_and_inbox`` profile (``gmail.readonly`` granted);
1,000 messages come in by the initial window (``messages.list`` + ``format=metadata``), then 10
new ones by ``history.list`` from the stored ``historyId``, one of them a bounce of an invoice
sent through the Gmail API; an expired history id makes a full resync without duplicates. A 429
while a message's bytes are fetched on demand reaches the API caller with Google's wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from api_inbox_helpers import CUSTOMERS, message, seed, stored
from fastapi.testclient import TestClient
from outbox_helpers import run_worker_until
from test_gmail_send import connect_gmail, gmail_settings, state

from dbfixtures import make_runtime
from mailport.adapters.storage.tables_api_sync import ApiSyncCursor
from mailport.api.app import create_app
from mailport.runtime import Runtime
from mailport.services.contacts import ContactInput
from mailport.services.send import SendRequest

pytestmark = [pytest.mark.lab]


@pytest.fixture
def runtime(tmp_path: Path, oauth_lab: Any, gmail_lab: Any) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, **gmail_settings(oauth_lab, gmail_lab, oauth_google_scope_profile="send_and_inbox"))
    yield rt
    rt.close()


def dsn_for(header_message_id: str, *, sender: str, failed: str) -> bytes:
    boundary = "dsn-boundary-1"
    return (
        f"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        f"To: {sender}\r\nSubject: Delivery Status Notification (Failure)\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\nMessage-ID: {make_msgid(domain='googlemail.com')}\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        f"boundary=\"{boundary}\"\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Address not found: your message wasn't delivered to {failed} because the address couldn't be found.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; googlemail.com\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 The email account that you tried to reach does not exist.\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {sender}\r\nTo: {failed}\r\nSubject: Factuur 2026-0100\r\nMessage-ID: {header_message_id}\r\n"
        f"--{boundary}--\r\n"
    ).encode()


@pytest.mark.slow
async def test_gmail_inbox_initial_1000_then_10_incremental_contacts_and_a_bounce(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    user = gmail_lab.user
    now = datetime.now(UTC)
    seed(oauth_lab, user, [message(i, when=now - timedelta(days=2), to=user) for i in range(1000)],
         when=now - timedelta(hours=1))
    # Outside the 90-day window: never brought in.
    seed(oauth_lab, user, [message(5000, when=now - timedelta(days=200), to=user)], when=now - timedelta(days=200))

    tenant, account, _ = await connect_gmail(runtime, oauth_lab, user)
    view = runtime.accounts.get(tenant, account)
    assert view.transport == "gmail_api" and view.imap is not None  # the inbox is on
    runtime.contacts.upsert(tenant, [ContactInput(id="crm-7", name="Klant 7", addresses=[CUSTOMERS[7]])])

    report = await runtime.inbox.sync_account(tenant, account)
    assert report.added == 1000
    rows = stored(runtime, account)
    assert len(rows) == 1000 and len({r.header_message_id for r in rows}) == 1000
    assert "Vraag 5000" not in {r.subject for r in rows}
    # Initial window: list + one metadata get per message, no raw reads (nothing looked like a report).
    gets = gmail_lab.requests("gmail.users.messages.get")
    assert len(gets) == 1000 and {dict(e.query)["format"] for e in gets} == {"metadata"}
    assert len(gmail_lab.requests("gmail.users.messages.list")) == 2  # 500 a page
    with runtime.db.session() as s:
        cursor = s.get(ApiSyncCursor, account)
        assert cursor is not None and cursor.cursor is not None
        first_history = cursor.cursor
    linked = runtime.inbox.list_messages(tenant, contact_id="crm-7", limit=200)
    assert len(linked) == 50 and {m.from_["email"] for m in linked} == {CUSTOMERS[7]}

    # An invoice goes out through the Gmail API to an address that does not exist…
    sent = runtime.outbox.submit(tenant, SendRequest(
        to=["niemand@customer.example"], subject="Factuur 2026-0100", text="De factuur.", from_email=user,
        metadata={"invoice_id": "2026-0100"})).message
    await run_worker_until(runtime, lambda: state(runtime, tenant, sent.id) == "sent", timeout=30)
    header_id = runtime.outbox.get(tenant, sent.id).header_message_id

    # …then 9 new customer messages and its bounce arrive: 10 new, by history.
    seed(oauth_lab, user, [message(2000 + i, when=now, to=user) for i in range(9)], when=now)
    seed(oauth_lab, user, [dsn_for(header_id, sender=user, failed="niemand@customer.example")], when=now)
    report = await runtime.inbox.sync_account(tenant, account)
    assert report.added == 10 and report.folders[0].bounces == 1 and not report.folders[0].reset
    history = gmail_lab.requests("gmail.users.history.list")
    assert [dict(e.query)["startHistoryId"] for e in history] == [first_history]
    assert len(gmail_lab.requests("gmail.users.messages.list")) == 2  # no listing again
    assert len(stored(runtime, account)) == 1010
    assert state(runtime, tenant, sent.id) == "bounced"
    bounce = next(r for r in stored(runtime, account) if r.bounce is not None)
    assert bounce.sent_message_id == sent.id
    assert bounce.bounce is not None and bounce.bounce["recipients"][0]["recipient"] == "niemand@customer.example"
    raw_reads = [e for e in gmail_lab.requests("gmail.users.messages.get") if dict(e.query)["format"] == "raw"]
    assert len(raw_reads) == 1  # only the report was read whole
    assert len(runtime.inbox.list_messages(tenant, contact_id="crm-7", limit=200)) == 50 + 1  # klant7: 2007

    # Google forgets old history: 404 for the stored id -> a full resync, nothing duplicated.
    gmail_lab.expire_history()
    seed(oauth_lab, user, [message(3000, when=now, to=user)], when=now)
    report = await runtime.inbox.sync_account(tenant, account)
    assert report.folders[0].reset and report.added == 1
    assert gmail_lab.requests("gmail.users.history.list")[-1].status == 404
    assert len(stored(runtime, account)) == 1011
    with runtime.db.session() as s:
        cursor = s.get(ApiSyncCursor, account)
        assert cursor is not None and cursor.full_syncs == 1


async def test_send_only_accounts_have_no_inbox_to_sync(runtime: Runtime, oauth_lab: Any, gmail_lab: Any,
                                                        tmp_path: Path) -> None:
    send_only = make_runtime(tmp_path / "send-only", **gmail_settings(oauth_lab, gmail_lab))
    try:
        tenant, account, _ = await connect_gmail(send_only, oauth_lab, gmail_lab.user)
        assert send_only.accounts.get(tenant, account).imap is None
        with pytest.raises(Exception) as caught:
            await send_only.inbox.sync_account(tenant, account)
        assert getattr(caught.value, "code", None) == "inbox.no_imap"
        assert gmail_lab.requests("gmail.users.messages.list") == []
    finally:
        send_only.close()


async def test_the_worker_keeps_a_gmail_inbox_synced_without_being_asked(tmp_path: Path, oauth_lab: Any,
                                                                         gmail_lab: Any) -> None:
    rt = make_runtime(tmp_path, **gmail_settings(oauth_lab, gmail_lab, oauth_google_scope_profile="send_and_inbox",
                                                 provider_api_poll_interval=0.3))
    try:
        tenant, account, _ = await connect_gmail(rt, oauth_lab, gmail_lab.user)
        stop = asyncio.Event()
        background = asyncio.create_task(rt.run_background(stop, worker_id="gmail-worker"))
        try:
            seed(oauth_lab, gmail_lab.user, [message(1, when=datetime.now(UTC), to=gmail_lab.user)],
                 when=datetime.now(UTC))
            deadline = time.monotonic() + 30
            subjects: list[str] = []
            while "Vraag 0001" not in subjects:
                assert time.monotonic() < deadline, "the worker did not bring the message in"
                found = await asyncio.to_thread(rt.inbox.list_messages, tenant, account_id=account)
                subjects = [m.subject for m in found]
                await asyncio.sleep(0.2)
            assert rt.inbox.sync_state(tenant, account).state in ("idle", "syncing")
        finally:
            stop.set()
            await asyncio.wait_for(background, 30)
    finally:
        rt.close()
    assert gmail_lab.requests("gmail.users.messages.list") or gmail_lab.requests("gmail.users.history.list")


async def test_gmail_429_on_a_body_fetch_answers_502_with_its_retry_after(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    """A provider's throttling reaches the API caller with its wait: Gmail answers 429 with
    Retry-After while mailport fetches a synced message's bytes on demand, and the problem+json
    answer carries ``retry_after`` and the ``Retry-After`` header."""
    now = datetime.now(UTC)
    seed(oauth_lab, gmail_lab.user, [message(1, when=now, to=gmail_lab.user)], when=now)
    tenant, account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    assert (await runtime.inbox.sync_account(tenant, account)).added == 1
    [synced] = runtime.inbox.list_messages(tenant, account_id=account)
    key = runtime.tenants.create_key(tenant_id=tenant)

    gmail_lab.fail_next(429, "rateLimitExceeded", "Too many concurrent requests for user", retry_after="7",
                        methods={"gmail.users.messages.get"})
    with TestClient(create_app(runtime)) as http:
        auth = {"Authorization": f"Bearer {key}"}
        throttled = http.get(f"/v1/inbox/messages/{synced.id}/raw", headers=auth)
        assert throttled.status_code == 502, throttled.text
        assert throttled.headers["content-type"] == "application/problem+json"
        problem = throttled.json()
        assert problem["code"] == "api.rate_limited" and problem["retry_after"] == 7, problem
        assert throttled.headers["Retry-After"] == "7"

        # Once Google lets us, the same request answers with the message.
        fetched = http.get(f"/v1/inbox/messages/{synced.id}/raw", headers=auth)
        assert fetched.status_code == 200 and b"Vraag 0001" in fetched.content
        assert "Retry-After" not in fetched.headers
