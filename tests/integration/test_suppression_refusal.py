"""A refusal during sending suppresses like a bounce report: a real worker, a real database and
the lab's SMTP sink refusing recipients at ``RCPT``; nothing of the send path is faked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from outbox_helpers import outbox_runtime, run_worker_until, sink_account, state_of

from lab import SmtpSink
from mailport.adapters.storage.tables_outbox import Event
from mailport.errors import ValidationError
from mailport.runtime import Runtime
from mailport.services.send import SendRequest


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url, suppress_after_soft_bounces=2)
    yield runtime
    runtime.close()


@pytest.fixture
def tenant(rt: Runtime) -> str:
    return rt.tenants.create(name="Bakkerij").tenant.id


def _send(rt: Runtime, tenant: str, account: str, to: str) -> str:
    return rt.outbox.submit(tenant, SendRequest(account_id=account, to=[to], subject="Factuur 2026-0042",
                                                text="Beste klant, de factuur.")).message.id  # type: ignore[list-item]


async def _settle(rt: Runtime, tenant: str, message_id: str) -> str:
    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) in ("sent", "failed"))
    return state_of(rt, tenant, message_id)


def _suppressed_events(rt: Runtime) -> list[dict[str, object]]:
    with rt.db.session() as s:
        return [dict(e.data) for e in s.scalars(sa.select(Event).where(Event.type == "recipient.suppressed")
                                                .order_by(Event.id))]


async def test_unknown_user_at_rcpt_suppresses_and_the_next_invoice_is_refused(
    rt: Runtime, tenant: str, smtp_sink: SmtpSink
) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.reject_recipient("weg@klant.example")  # 550 5.1.1 ... User unknown
    message_id = _send(rt, tenant, account, "weg@klant.example")

    assert await _settle(rt, tenant, message_id) == "failed"
    [recipient] = rt.outbox.get(tenant, message_id).recipients
    assert (recipient["status"], recipient["smtp_code"]) == ("failed", 550)

    entry = rt.suppression.get(tenant, "weg@klant.example")
    assert (entry.reason, entry.status, entry.diagnosis) == ("hard_bounce", "5.1.1", "send.recipient_unknown")
    assert entry.message_id == message_id and entry.server_text is not None and "User unknown" in entry.server_text
    assert _suppressed_events(rt) == [{"address": "weg@klant.example", "reason": "hard_bounce", "status": "5.1.1",
                                       "diagnosis": "send.recipient_unknown", "message_id": message_id}]

    with pytest.raises(ValidationError) as refused:
        _send(rt, tenant, account, "weg@klant.example")
    assert refused.value.code == "send.recipient_suppressed"
    assert refused.value.diagnosis_code == "send.recipient_unknown"
    assert smtp_sink.rcpt_calls == 1  # refused at accept: the server was not asked again


async def test_soft_refusals_count_towards_the_consecutive_rule(
    rt: Runtime, tenant: str, smtp_sink: SmtpSink
) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.reject_recipient("vol@klant.example", "552 5.2.2 <vol@klant.example>: Mailbox full")

    first = _send(rt, tenant, account, "vol@klant.example")
    assert await _settle(rt, tenant, first) == "failed"
    assert rt.suppression.list_suppressions(tenant) == []  # a full mailbox is soft: one of two

    second = _send(rt, tenant, account, "vol@klant.example")
    assert await _settle(rt, tenant, second) == "failed"
    entry = rt.suppression.get(tenant, "vol@klant.example")
    assert (entry.reason, entry.diagnosis, entry.message_id) == (
        "soft_bounces", "send.recipient_mailbox_full", second)


async def test_a_refusal_about_the_sender_does_not_blame_the_recipient(
    rt: Runtime, tenant: str, smtp_sink: SmtpSink
) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.set_auth_reply("535 5.7.8 Authentication credentials invalid")
    for _ in range(2):
        message_id = _send(rt, tenant, account, "klant@klant.example")
        assert await _settle(rt, tenant, message_id) == "failed"
    assert rt.suppression.list_suppressions(tenant) == []
    assert _suppressed_events(rt) == []
