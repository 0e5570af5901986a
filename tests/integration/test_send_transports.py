"""The send pipeline calls whichever :class:`Transport` accepts the sender.

A provider API transport (Gmail API, Microsoft Graph) plugs in by registering in front of SMTP;
this test registers an in-memory one for accounts of one provider and checks that the pipeline
hands it the stored bytes, envelope and credentials, records its per-recipient results, and honours
its Sent-copy answer — while the SMTP route still serves every other account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from outbox_helpers import outbox_runtime, run_worker_until, sink_account, state_of

from lab import SmtpSink
from mailport.core.outbox import RecipientResult
from mailport.errors import NetworkError
from mailport.runtime import Runtime
from mailport.services.send import AccountCredentials, Outgoing, Sender, SendRequest


class ApiTransport:
    name = "test_api"
    mailbox_limits = True

    def __init__(self) -> None:
        self.sent: list[tuple[Outgoing, str, str]] = []
        self.fail_next = False

    def accepts(self, sender: Sender) -> bool:
        return sender.mailbox is not None and sender.mailbox.provider_id == "api-provider"

    def sent_copy_skip(self, sender: Sender) -> str | None:
        return "the server files sent mail itself"

    async def send(self, message: Outgoing, *, sender: Sender,
                   credentials: AccountCredentials | None) -> list[RecipientResult]:
        assert credentials is not None
        creds = await credentials()
        if self.fail_next:
            self.fail_next = False
            raise NetworkError("the API did not answer", code="network.timeout", stage="api.send")
        secret = creds.password.reveal() if creds.password else ""
        self.sent.append((message, creds.config.email, secret))
        return [RecipientResult(recipient=r, smtp_code=550 if r.startswith("nobody") else 250,
                                text="5.1.1 unknown" if r.startswith("nobody") else "2.0.0 id=1")
                for r in message.rcpt_to]


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


async def test_registered_transport_takes_its_accounts_and_smtp_the_rest(
        rt: Runtime, smtp_sink: SmtpSink) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    api = ApiTransport()
    rt.outbox.transports.register(api)
    # The API account's SMTP port is closed: a message that went over SMTP would not be sent.
    api_account = sink_account(rt, tenant, 1, email="api@example.test", provider_id="api-provider",
                               imap={"host": "127.0.0.1", "port": 1, "security": "none"})
    smtp_account = sink_account(rt, tenant, smtp_sink.port)
    via_api = rt.outbox.submit(tenant, SendRequest(
        account_id=api_account, to=["klant@example.org", "nobody@example.org"], subject="Factuur",
        text="Zie bijlage.")).message.id
    via_smtp = rt.outbox.submit(tenant, SendRequest(
        account_id=smtp_account, to=["klant@example.org"], subject="Factuur", text="Zie bijlage.")).message.id

    await run_worker_until(rt, lambda: all(state_of(rt, tenant, m) == "sent" for m in (via_api, via_smtp)))

    [(outgoing, email, secret)] = api.sent
    assert (email, secret) == ("api@example.test", "password")
    assert outgoing.rcpt_to == ("klant@example.org", "nobody@example.org")
    assert outgoing.mail_from == "api@example.test" and b"Subject: Factuur" in outgoing.raw
    view = rt.outbox.get(tenant, via_api)
    assert [(r["address"], r["status"]) for r in view.recipients] == [
        ("klant@example.org", "accepted"), ("nobody@example.org", "failed")]
    assert view.sent_copy is not None and view.sent_copy["state"] == "skipped"
    assert view.sent_copy["detail"] == "the server files sent mail itself"
    assert len(smtp_sink.messages) == 1 and smtp_sink.messages[0].rcpt_tos == ["klant@example.org"]


async def test_transport_error_is_retried_like_a_network_failure(rt: Runtime) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    api = ApiTransport()
    api.fail_next = True
    rt.outbox.transports.register(api)
    account = sink_account(rt, tenant, 1, email="api@example.test", provider_id="api-provider")
    message = rt.outbox.submit(tenant, SendRequest(account_id=account, to=["klant@example.org"],
                                                   subject="Factuur", text="x")).message.id
    await run_worker_until(rt, lambda: state_of(rt, tenant, message) == "sent")
    events = [e["type"] for e in rt.outbox.get(tenant, message).events or []]
    assert events == ["message.queued", "message.sending", "message.deferred", "message.sending",
                      "message.sent"]
