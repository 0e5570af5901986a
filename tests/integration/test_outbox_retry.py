""""Send again" (issue 16 item 3): a message that failed because the password was wrong is sent
once the password is fixed — by the service, the API, the CLI — to the recipients that did not
get it, with its history telling the story in order."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from outbox_helpers import outbox_runtime, run_worker_until, sink_account, state_of

from lab import SmtpSink
from mailport.api.app import create_app
from mailport.core.message import Mailbox
from mailport.errors import Conflict
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput
from mailport.services.send import SendRequest


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def _failed_invoice(rt: Runtime, tenant: str, account: str, smtp_sink: SmtpSink) -> str:
    smtp_sink.set_auth_reply("535 5.7.8 Username and Password not accepted")
    message_id = rt.outbox.submit(tenant, SendRequest(
        account_id=account, to=[Mailbox.parse("debiteur@example.org")], subject="Factuur 2026-0061",
        text="Beste klant,")).message.id
    return message_id


async def test_a_message_that_failed_on_the_password_is_sent_again(rt: Runtime, smtp_sink: SmtpSink) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    message_id = _failed_invoice(rt, tenant, account, smtp_sink)
    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "failed")
    assert smtp_sink.messages == []

    smtp_sink.set_auth_reply(None)  # the user fixed the password
    view = rt.outbox.retry(tenant, message_id)
    assert view.state == "queued" and view.reason is None
    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "sent")

    assert [m.rcpt_tos for m in smtp_sink.messages] == [["debiteur@example.org"]]
    sent = rt.outbox.get(tenant, message_id)
    assert sent.attempts == 2 and sent.recipients[0]["status"] == "accepted"
    assert [e["type"] for e in sent.to_dict()["events"]] == [
        "message.queued", "message.sending", "message.failed",
        "message.queued", "message.sending", "message.sent"]
    # Sent is sent: not again.
    with pytest.raises(Conflict) as caught:
        rt.outbox.retry(tenant, message_id)
    assert caught.value.code == "message.not_retryable"


async def test_retry_through_the_api_and_the_cli(rt: Runtime, smtp_sink: SmtpSink, tmp_path: Path,
                                               database_url: str) -> None:
    created = rt.tenants.create(name="Bakkerij")
    tenant = created.tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    first = _failed_invoice(rt, tenant, account, smtp_sink)
    second = _failed_invoice(rt, tenant, account, smtp_sink)
    await run_worker_until(rt, lambda: {state_of(rt, tenant, m) for m in (first, second)} == {"failed"})
    smtp_sink.set_auth_reply(None)

    transport = httpx.ASGITransport(app=create_app(rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        answer = await api.post(f"/v1/messages/{first}/retry",
                                headers={"Authorization": f"Bearer {created.api_key}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "queued"

    env = {**os.environ, "MAILPORT_DATA_DIR": str(tmp_path),
           "MAILPORT_DATABASE_URL": rt.settings.effective_database_url,
           "MAILPORT_SECRET_KEY": rt.settings.secret_key, "MAILPORT_ADMIN_KEY": rt.settings.admin_key}
    cli = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "mailport.cli", "message", "retry", second, "--tenant", tenant,
                         "--json"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["state"] == "queued"

    await run_worker_until(rt, lambda: {state_of(rt, tenant, m) for m in (first, second)} == {"sent"})
    assert len(smtp_sink.messages) == 2


def test_history_is_in_time_order_then_lifecycle(rt: Runtime) -> None:
    """A bounce recorded later (with no attempt number to order it) comes after the send, not
    between "queued" and "sending" (issue 16 item 6)."""
    from datetime import timedelta

    from mailport.core.events import MessageBounced, MessageSending, MessageSent

    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    account = rt.accounts.create(tenant, AccountInput(email="user@example.test", password="pw", smtp={
        "host": "127.0.0.1", "port": 2525, "security": "tls"})).id
    message = rt.outbox.submit(tenant, SendRequest(account_id=account, to=[Mailbox.parse("k@example.org")],
                                                   text="x", subject="Factuur")).message
    t0 = message.created_at
    common = {"message_id": message.id, "account_id": account, "metadata": {}}
    with rt.db.session() as s:
        rt.events.record(s, tenant_id=tenant, message_id=message.id, now=t0 + timedelta(seconds=1), seq=0,
                         payload=MessageBounced(**common, recipient="k@example.org", status="5.1.1",
                                                diagnosis="send.recipient_unknown", hard=True))
        rt.events.record(s, tenant_id=tenant, message_id=message.id, now=t0 + timedelta(milliseconds=5), seq=2,
                         payload=MessageSending(**common, attempt=1))
        rt.events.record(s, tenant_id=tenant, message_id=message.id, now=t0 + timedelta(milliseconds=5), seq=3,
                         payload=MessageSent(**common, attempt=1, recipients=["k@example.org"]))
    events = rt.outbox.get(tenant, message.id).to_dict()["events"]
    assert [e["type"] for e in events] == ["message.queued", "message.sending", "message.sent", "message.bounced"]
