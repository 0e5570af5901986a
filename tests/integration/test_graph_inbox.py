"""Inbox sync through Microsoft Graph against the lab: the lab Graph server reading the lab Dovecot
mailbox (real stored mail), mailport's GraphMailboxSync feeding the same store, contact links and
bounce parser as the IMAP sync.

The account is signed in under the ``send_and_inbox`` profile (``Mail.Read`` granted); 1,000
messages come in by the initial delta round (``$filter=receivedDateTime ge`` the window, paged by
``@odata.nextLink``), then 10 new ones by the stored ``@odata.deltaLink`` — one of them the real
DSN Postfix sends for an invoice that went out through Graph to an address that does not exist;
an expired delta link (410 ``SyncStateNotFound``) makes a full resync without duplicates.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from api_inbox_helpers import CUSTOMERS, message, seed, stored
from outbox_helpers import run_worker_until

from dbfixtures import make_runtime
from lab.graph_api import LabGraphServer, register_graph_client
from lab.graph_csdl import exchange_problems
from lab.oauth_server import LabUser
from mailport.adapters.storage.tables_api_sync import ApiSyncCursor
from mailport.runtime import Runtime
from mailport.services.contacts import ContactInput
from mailport.services.send import SendRequest

pytestmark = [pytest.mark.lab]

CALLBACK = "http://testserver/oauth/callback"


@pytest.fixture
def graph(oauth_lab: Any) -> Iterator[LabGraphServer]:
    server = LabGraphServer(oauth=oauth_lab.oauth, mail=oauth_lab).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def user(oauth_lab: Any) -> str:
    """A mailbox of its own (the OAuth lab is shared by the session)."""
    email = f"graph-inbox-{uuid.uuid4().hex[:8]}@example.test"
    oauth_lab.add_user(email)
    oauth_lab.oauth.users[email] = LabUser(email=email, name="Bakkerij", sub=f"sub-{email}", tenant="lab-tenant")
    return email


def graph_settings(oauth_lab: Any, graph: LabGraphServer, **extra: Any) -> dict[str, Any]:
    client_id, secret = register_graph_client(oauth_lab.oauth, CALLBACK)
    return {"allow_private_hosts": True, "ca_file": str(oauth_lab.ca_pem_path), "public_url": "http://testserver",
            "oauth_microsoft_client_id": client_id, "oauth_microsoft_client_secret": secret,
            **{f"oauth_microsoft_{k}": v for k, v in oauth_lab.oauth.endpoints().items()},
            "graph_api_url": graph.root_url, "send_retry_min_delay": 0.2, "send_retry_max_delay": 0.4, **extra}


@pytest.fixture
def runtime(tmp_path: Path, oauth_lab: Any, graph: LabGraphServer) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, **graph_settings(oauth_lab, graph, oauth_microsoft_scope_profile="send_and_inbox"))
    yield rt
    rt.close()


async def connect_graph(rt: Runtime, oauth_lab: Any, user: str) -> tuple[str, str]:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    started = await rt.oauth.start(tenant, "microsoft", login_hint=user)
    back = dict(parse_qsl(urlsplit(oauth_lab.oauth.authorize_as(started.authorization_url, user)).query))
    result = await rt.oauth.complete(state=back.get("state"), code=back.get("code"))
    assert result.ok and result.account is not None, result
    return tenant, result.account.id


def state(rt: Runtime, tenant: str, message_id: str) -> str:
    return rt.outbox.get(tenant, message_id).state


@pytest.mark.slow
async def test_graph_inbox_initial_1000_then_10_incremental_contacts_and_a_bounce(
        runtime: Runtime, oauth_lab: Any, graph: LabGraphServer, user: str) -> None:
    now = datetime.now(UTC)
    seed(oauth_lab, user, [message(i, when=now - timedelta(days=2), to=user) for i in range(1000)],
         when=now - timedelta(hours=1))
    # Outside the 90-day window: never brought in.
    seed(oauth_lab, user, [message(5000, when=now - timedelta(days=200), to=user)], when=now - timedelta(days=200))

    tenant, account = await connect_graph(runtime, oauth_lab, user)
    view = runtime.accounts.get(tenant, account)
    assert view.transport == "graph" and view.imap is not None  # the inbox is on
    runtime.contacts.upsert(tenant, [ContactInput(id="crm-7", name="Klant 7", addresses=[CUSTOMERS[7]])])

    report = await runtime.inbox.sync_account(tenant, account)
    assert report.added == 1000
    rows = stored(runtime, account)
    assert len(rows) == 1000 and len({r.header_message_id for r in rows}) == 1000
    assert "Vraag 5000" not in {r.subject for r in rows}
    deltas = graph.operations("delta")
    assert len(deltas) == 5 and all(x.status == 200 for x in deltas)  # 200 a page
    assert graph.operations("getMessageValue") == []  # nothing looked like a report
    with runtime.db.session() as s:
        cursor = s.get(ApiSyncCursor, account)
        assert cursor is not None and cursor.transport == "graph" and "$deltatoken=" in (cursor.cursor or "")
    linked = runtime.inbox.list_messages(tenant, contact_id="crm-7", limit=200)
    assert len(linked) == 50 and {m.from_["email"] for m in linked} == {CUSTOMERS[7]}
    replies = [r for r in rows if r.subject == "Vraag 0007"]
    assert replies and replies[0].from_name == "Klant 7" and replies[0].snippet.startswith("Bericht nummer 7")

    # An invoice goes out through Graph to an address that does not exist: Postfix bounces it for
    # real (LMTP 550 5.1.1) and its DSN lands in the sender's inbox…
    sent = runtime.outbox.submit(tenant, SendRequest(
        to=["niemand@example.test"], subject="Factuur 2026-0100", text="De factuur.", from_email=user,
        metadata={"invoice_id": "2026-0100"})).message
    await run_worker_until(runtime, lambda: state(runtime, tenant, sent.id) == "sent", timeout=30)
    oauth_lab.wait_for_message(user, headers={"Content-Type": "multipart/report"})
    # …and 9 customer messages: 10 new, by the delta link.
    seed(oauth_lab, user, [message(2000 + i, when=now, to=user) for i in range(9)], when=now)
    before = len(graph.operations("delta"))
    report = await runtime.inbox.sync_account(tenant, account)
    assert report.added == 10 and report.folders[0].bounces == 1 and not report.folders[0].reset
    assert len(graph.operations("delta")) == before + 1  # one page of changes
    assert len(stored(runtime, account)) == 1010
    assert state(runtime, tenant, sent.id) == "bounced"
    bounce = next(r for r in stored(runtime, account) if r.bounce is not None)
    assert bounce.sent_message_id == sent.id
    assert bounce.bounce is not None and bounce.bounce["recipients"][0]["recipient"] == "niemand@example.test"
    assert len(graph.operations("getMessageValue")) == 1  # only the report was read whole
    assert len(runtime.inbox.list_messages(tenant, contact_id="crm-7", limit=200)) == 50 + 1  # klant7: 2007
    raw = await runtime.inbox.raw(tenant, bounce.id)
    assert b"multipart/report" in raw

    # Graph forgets the sync state: 410 for the stored link -> a full resync, nothing duplicated.
    graph.expire_delta_tokens()
    seed(oauth_lab, user, [message(3000, when=now, to=user)], when=now)
    report = await runtime.inbox.sync_account(tenant, account)
    assert report.folders[0].reset and report.added == 1
    assert 410 in [x.status for x in graph.operations("delta")]
    assert len(stored(runtime, account)) == 1011
    with runtime.db.session() as s:
        cursor = s.get(ApiSyncCursor, account)
        assert cursor is not None and cursor.full_syncs == 1
    # Everything mailport asked of Graph, and every answer, in Microsoft's published shapes.
    assert exchange_problems(graph.exchanges) == []


async def test_send_only_graph_accounts_have_no_inbox_to_sync(oauth_lab: Any, graph: LabGraphServer, user: str,
                                                              tmp_path: Path) -> None:
    send_only = make_runtime(tmp_path / "send-only", **graph_settings(oauth_lab, graph))
    try:
        tenant, account = await connect_graph(send_only, oauth_lab, user)
        assert send_only.accounts.get(tenant, account).imap is None
        with pytest.raises(Exception) as caught:
            await send_only.inbox.sync_account(tenant, account)
        assert getattr(caught.value, "code", None) == "inbox.no_imap"
        assert graph.operations("delta") == []
    finally:
        send_only.close()


async def test_the_worker_keeps_a_graph_inbox_synced_without_being_asked(
        tmp_path: Path, oauth_lab: Any, graph: LabGraphServer, user: str) -> None:
    rt = make_runtime(tmp_path, **graph_settings(oauth_lab, graph, oauth_microsoft_scope_profile="send_and_inbox",
                                                 provider_api_poll_interval=0.3))
    try:
        tenant, account = await connect_graph(rt, oauth_lab, user)
        stop = asyncio.Event()
        background = asyncio.create_task(rt.run_background(stop, worker_id="graph-worker"))
        try:
            await _until_subject(rt, tenant, account, None)  # the initial (empty) pass ran
            seed(oauth_lab, user, [message(1, when=datetime.now(UTC), to=user)], when=datetime.now(UTC))
            await _until_subject(rt, tenant, account, "Vraag 0001")
            assert rt.inbox.sync_state(tenant, account).state in ("idle", "syncing")
        finally:
            stop.set()
            await asyncio.wait_for(background, 30)
    finally:
        rt.close()
    # Brought in by following the stored delta link, not by listing the inbox again.
    assert [x for x in graph.operations("delta") if x.status == 200]
    with_token = [x for x in graph.exchanges if x.operation == "delta" and x.status == 200]
    assert len(with_token) >= 2


async def _until_subject(rt: Runtime, tenant: str, account: str, subject: str | None) -> None:
    deadline = time.monotonic() + 30
    while True:
        found = await asyncio.to_thread(rt.inbox.list_messages, tenant, account_id=account)
        if subject is None:
            with rt.db.session() as s:
                cursor = s.get(ApiSyncCursor, account)
                if cursor is not None and cursor.cursor:
                    return
        elif subject in [m.subject for m in found]:
            return
        assert time.monotonic() < deadline, f"the worker did not get to {subject!r}"
        await asyncio.sleep(0.2)
