"""One state per mailbox (issue 16 item 4): a send that learns the password is wrong marks the
mailbox "needs attention" with that diagnosis — in the API view and with one
``account.needs_attention`` event per episode — and the next send that works clears it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from outbox_helpers import outbox_runtime, run_worker_until, sink_account, state_of

from lab import SmtpSink
from mailport.adapters.storage.tables_outbox import Event
from mailport.core.message import Mailbox
from mailport.runtime import Runtime
from mailport.services.send import SendRequest


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


def _invoice(account: str, subject: str) -> SendRequest:
    return SendRequest(account_id=account, to=[Mailbox.parse("debiteur@example.org")], subject=subject,
                       text="Beste klant,\n\nDe factuur.")


def _attention_events(rt: Runtime, tenant: str) -> list[dict[str, object]]:
    with rt.db.session() as s:
        rows = s.query(Event).filter_by(tenant_id=tenant, type="account.needs_attention").all()
        return [dict(r.data) for r in rows]


async def test_a_rejected_password_during_a_send_marks_the_mailbox(rt: Runtime, smtp_sink: SmtpSink) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    assert rt.accounts.get(tenant, account).state == "not_tested"
    smtp_sink.set_auth_reply("535 5.7.8 Username and Password not accepted")

    for subject in ("Factuur 1", "Factuur 2"):
        message_id = rt.outbox.submit(tenant, _invoice(account, subject)).message.id
        await run_worker_until(rt, lambda m=message_id: state_of(rt, tenant, m) in ("failed", "deferred"))

    view = rt.accounts.get(tenant, account)
    assert view.state == "needs_attention", view
    assert view.attention is not None and view.attention["code"] == "auth.invalid_credentials"
    assert view.attention["source"] == "send"
    assert view.to_dict()["attention"]["code"] == "auth.invalid_credentials"
    # Two failed sends, one episode: one event.
    assert _attention_events(rt, tenant) == [{"account_id": account, "email": "user@example.test",
                                              "code": "auth.invalid_credentials", "source": "send"}]

    # The password is fixed on the server's side; the next send that works clears it.
    smtp_sink.set_auth_reply(None)
    message_id = rt.outbox.submit(tenant, _invoice(account, "Factuur 3")).message.id
    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "sent")
    view = rt.accounts.get(tenant, account)
    assert view.state == "working" and view.to_dict()["attention"] is None


async def test_a_recipient_problem_says_nothing_about_the_mailbox(rt: Runtime, smtp_sink: SmtpSink) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.reject_recipient("debiteur@example.org")
    message_id = rt.outbox.submit(tenant, _invoice(account, "Factuur 4")).message.id
    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "failed")
    assert rt.accounts.get(tenant, account).state == "not_tested"
    assert _attention_events(rt, tenant) == []
