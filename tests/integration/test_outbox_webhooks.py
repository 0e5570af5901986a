"""Webhooks: every event POSTed signed, retried, logged; 410 disables; the SSRF guard holds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from outbox_helpers import outbox_runtime, run_worker_until, sink_account

from lab import DnsLab, SmtpSink
from mailport.core.webhooks import verify
from mailport.errors import HostNotAllowed, ValidationError
from mailport.runtime import Runtime
from mailport.services.send import SendRequest


class Receiver:
    """A webhook receiver on loopback: records deliveries, answers ``statuses`` in turn."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/mailport"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


async def test_every_event_is_delivered_signed(rt: Runtime, smtp_sink: SmtpSink, receiver: Receiver) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    hook, secret = rt.webhooks.create(tenant, url=receiver.url, event_types=["message.sent", "message.queued"])
    assert secret.startswith("whsec_")
    message_id = rt.outbox.submit(tenant, SendRequest(
        account_id=account, to=["a@example.org"], subject="Factuur", text="zie bijlage",
        metadata={"invoice_id": "42"})).message.id

    await run_worker_until(rt, lambda: len(receiver.requests) >= 2)

    events = receiver.events()
    assert [e["type"] for e in events] == ["message.queued", "message.sent"]  # sending filtered out
    for (headers, body), event in zip(receiver.requests, events, strict=True):
        assert verify(body=body, headers=headers, secrets=[secret],
                      now=int(time.time())) > 0
        assert headers["webhook-id"] == event["id"]
        assert event["tenant_id"] == tenant
        assert event["data"]["message_id"] == message_id
        assert event["data"]["metadata"] == {"invoice_id": "42"}
    log = rt.webhooks.deliveries(tenant, hook.id)
    assert {d.state for d in log} == {"delivered"} and all(d.last_status_code == 200 for d in log)


async def test_failed_deliveries_are_retried_and_410_disables(rt: Runtime, receiver: Receiver) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    hook, _ = rt.webhooks.create(tenant, url=receiver.url)
    receiver.statuses = [503]
    delivery = rt.webhooks.test(tenant, hook.id)
    assert delivery.event_type == "webhook.test" and delivery.state == "pending"
    # The first retry is ~10 s away by the policy: run the job at once by moving it.
    await run_worker_until(rt, lambda: rt.webhooks.deliveries(tenant, hook.id)[0].attempts == 1)
    [first] = rt.webhooks.deliveries(tenant, hook.id)
    assert first.state == "pending" and first.last_status_code == 503 and first.next_attempt_at
    _run_due_now(rt)
    await run_worker_until(rt, lambda: rt.webhooks.deliveries(tenant, hook.id)[0].state == "delivered")
    assert len(receiver.requests) == 2
    assert receiver.requests[0][1] == receiver.requests[1][1]  # the retry carries the same event

    receiver.statuses = [410]
    rt.webhooks.test(tenant, hook.id)
    await run_worker_until(rt, lambda: not rt.webhooks.get(tenant, hook.id).enabled)
    assert rt.webhooks.get(tenant, hook.id).disabled_reason
    with pytest.raises(ValidationError):
        rt.webhooks.test(tenant, hook.id)


def _run_due_now(rt: Runtime) -> None:
    import sqlalchemy as sa

    from mailport.adapters.storage.tables import Job

    with rt.db.session() as s:
        s.execute(sa.update(Job).where(Job.state == "ready").values(run_at=rt.clock.now()))


def test_webhook_urls_are_checked(tmp_path: Path) -> None:
    rt = outbox_runtime(tmp_path, allow_private_hosts=False)
    tenant = rt.tenants.create(name="T").tenant.id
    for url in ("http://example.org/hook", "ftp://example.org/", "https://user:pw@example.org/",
                "https://example.org/a b", "https://example.org/\r\nX: y"):
        with pytest.raises(ValidationError):
            rt.webhooks.create(tenant, url=url)
    for url in ("https://127.0.0.1/hook", "https://10.0.0.8/hook", "https://[::1]/hook",
                "https://169.254.169.254/latest/meta-data"):
        with pytest.raises(HostNotAllowed):
            rt.webhooks.create(tenant, url=url)
    with pytest.raises(ValidationError):
        rt.webhooks.create(tenant, url="https://example.org/hook", event_types=["message.exploded"])
    rt.close()


async def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    tmp_path: Path, dns_lab: DnsLab, receiver: Receiver
) -> None:
    rt = outbox_runtime(tmp_path, allow_private_hosts=False, dns_nameservers=[dns_lab.nameserver])
    dns_lab.load_zone("hooks.example.test. 300 A 127.0.0.1\n")
    tenant = rt.tenants.create(name="T").tenant.id
    hook, _ = rt.webhooks.create(tenant, url=f"https://hooks.example.test:{receiver.port}/x")
    rt.webhooks.test(tenant, hook.id)
    await run_worker_until(rt, lambda: rt.webhooks.deliveries(tenant, hook.id)[0].attempts == 1)
    [delivery] = rt.webhooks.deliveries(tenant, hook.id)
    assert delivery.state == "pending" and delivery.last_status_code is None
    assert delivery.last_error and "webhook.host_not_allowed" in delivery.last_error
    assert receiver.requests == []
    rt.close()


async def test_a_url_httpx_cannot_parse_is_refused_and_one_saved_earlier_fails_its_delivery(
    tmp_path: Path,
) -> None:
    """``https://0177.0.0.1/`` looks like an IPv4 address and is not one: httpx refuses it, and a
    delivery to it raised ``InvalidURL`` past every handler ("failed unexpectedly", traceback
    logged, the delivery pending with no error for the tenant to see, again at every retry)."""
    from mailport.adapters.storage.tables_outbox import Webhook

    rt = outbox_runtime(tmp_path, allow_private_hosts=False)
    tenant = rt.tenants.create(name="T").tenant.id
    for url in ("https://0177.0.0.1/hook", "https://256.1.1.1/hook"):
        with pytest.raises(ValidationError) as info:
            rt.webhooks.create(tenant, url=url)
        assert info.value.code == "webhook.url_invalid" and info.value.field == "url"
    hook, _ = rt.webhooks.create(tenant, url="https://hooks.example.test/x")
    with pytest.raises(ValidationError):
        rt.webhooks.update(tenant, hook.id, url="https://0177.0.0.1/hook")
    with rt.db.session() as s:  # saved before the check existed
        row = s.get(Webhook, hook.id)
        assert row is not None
        row.url = "https://0177.0.0.1/hook"
    rt.webhooks.test(tenant, hook.id)
    await run_worker_until(rt, lambda: rt.webhooks.deliveries(tenant, hook.id)[0].attempts == 1)
    [delivery] = rt.webhooks.deliveries(tenant, hook.id)
    assert delivery.last_error and "webhook.url_invalid" in delivery.last_error
    rt.close()


@pytest.mark.parametrize(("url", "code"), [
    ("https://hooks.example.test:25/x", "webhook.url_invalid"),
    ("https://user:pw@hooks.example.test/x", "webhook.url_invalid"),
    ("http://hooks.example.test/x", "webhook.url_invalid"),
    ("https://127.1/x", "webhook.host_not_allowed"),
    ("https://localhost:8443/x", "webhook.host_not_allowed"),
])
async def test_the_url_rule_is_applied_again_at_delivery(tmp_path: Path, url: str, code: str) -> None:
    """A row saved under an older rule (any port, a loopback shorthand) or edited in the database
    is not posted to: each delivery checks the URL again, and says why it failed."""
    from mailport.adapters.storage.tables_outbox import Webhook

    rt = outbox_runtime(tmp_path, allow_private_hosts=False)
    tenant = rt.tenants.create(name="T").tenant.id
    with pytest.raises((ValidationError, HostNotAllowed)) as refused:
        rt.webhooks.create(tenant, url=url)
    assert refused.value.code == code and refused.value.field == "url"
    hook, _ = rt.webhooks.create(tenant, url="https://hooks.example.test/x")
    with pytest.raises((ValidationError, HostNotAllowed)):
        rt.webhooks.update(tenant, hook.id, url=url)
    with rt.db.session() as s:
        row = s.get(Webhook, hook.id)
        assert row is not None
        row.url = url
    rt.webhooks.test(tenant, hook.id)
    await run_worker_until(rt, lambda: rt.webhooks.deliveries(tenant, hook.id)[0].attempts == 1)
    [delivery] = rt.webhooks.deliveries(tenant, hook.id)
    assert delivery.last_status_code is None and delivery.last_error and code in delivery.last_error
    # A rule the URL breaks — its host's spelling included — is not retried for three days (an
    # edit fixes it); only a name that resolves into a private network is (it may resolve
    # elsewhere later).
    assert delivery.state == "failed", delivery
    rt.close()


async def test_a_batch_fans_out_each_message_event(rt: Runtime, smtp_sink: SmtpSink, receiver: Receiver) -> None:
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    rt.webhooks.create(tenant, url=receiver.url, event_types=["message.queued"])
    results = rt.outbox.submit_many(tenant, [
        (SendRequest(account_id=account, to=[f"k{n}@example.org"], subject=f"Factuur {n}", text="x",
                     metadata={"n": str(n)}), f"inv-{n}") for n in range(3)])
    ids = [r.message.id for r in results if not isinstance(r, Exception)]
    assert len(ids) == 3

    await run_worker_until(rt, lambda: len(receiver.requests) >= 3)

    events = receiver.events()
    assert sorted(e["data"]["message_id"] for e in events) == sorted(ids)
    assert {e["type"] for e in events} == {"message.queued"}
    assert sorted(e["data"]["metadata"]["n"] for e in events) == ["0", "1", "2"]
