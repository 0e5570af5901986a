"""The outbox end to end against an aiosmtpd sink, on SQLite and PostgreSQL.

Each test runs a real worker (in this event loop) over a real database and a real SMTP server
with fault injection; nothing of the send path is faked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from outbox_helpers import outbox_runtime, run_worker_until, sink_account, state_of

from lab import FaultServers, SmtpSink
from mailport.core.message import Attachment, Mailbox
from mailport.errors import Conflict, ValidationError
from mailport.runtime import Runtime
from mailport.services.send import SendRequest

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url)
    yield runtime
    runtime.close()


@pytest.fixture
def tenant(rt: Runtime) -> str:
    return rt.tenants.create(name="Bakkerij").tenant.id


def _invoice(account: str, **changes: object) -> SendRequest:
    values: dict[str, object] = {
        "account_id": account,
        "to": [Mailbox.parse("debiteur@example.org", name="Debiteur, BV")],
        "subject": "Factuur 2026-0042",
        "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.",
        "attachments": [Attachment(filename="factuur-2026-0042.pdf", content=PDF)],
        "metadata": {"invoice_id": "2026-0042"},
    }
    values.update(changes)
    return SendRequest(**values)  # type: ignore[arg-type]


def _settled(rt: Runtime, tenant: str, message_id: str) -> bool:
    return state_of(rt, tenant, message_id) in ("sent", "failed", "cancelled")


async def test_invoice_is_sent_byte_identical_with_its_history(rt: Runtime, tenant: str,
                                                               smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    submitted = rt.outbox.submit(tenant, _invoice(account, bcc=["boekhouding@example.nl"]))
    assert submitted.message.state == "queued" and not submitted.replayed

    await run_worker_until(rt, lambda: _settled(rt, tenant, submitted.message.id))

    view = rt.outbox.get(tenant, submitted.message.id)
    assert view.state == "sent" and view.attempts == 1 and view.sent_at is not None
    assert [e["type"] for e in view.events or []] == ["message.queued", "message.sending", "message.sent"]
    sent_event = (view.events or [])[-1]["data"]
    assert sent_event["metadata"] == {"invoice_id": "2026-0042"}
    assert sent_event["header_message_id"] == view.header_message_id
    assert {r["address"]: r["status"] for r in view.recipients} == {
        "debiteur@example.org": "accepted", "boekhouding@example.nl": "accepted"}

    [received] = smtp_sink.messages
    assert sorted(received.rcpt_tos) == ["boekhouding@example.nl", "debiteur@example.org"]
    assert received.auth_user == "user@example.test"
    parsed = message_from_bytes(received.data, policy=policy.default)
    assert parsed["Message-ID"] == view.header_message_id
    assert "Bcc" not in parsed and "boekhouding" not in received.data.decode()
    [part] = list(parsed.iter_attachments())
    assert hashlib.sha256(part.get_content()).digest() == hashlib.sha256(PDF).digest()
    # No IMAP on this account: no Sent copy, and the reason is recorded.
    assert view.sent_copy is not None and view.sent_copy["state"] == "skipped"


async def test_temporary_failure_is_deferred_then_sent(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.fail_rcpt(1)  # 451 4.3.0 once, then 250
    message_id = rt.outbox.submit(tenant, _invoice(account)).message.id

    await run_worker_until(rt, lambda: _settled(rt, tenant, message_id))

    view = rt.outbox.get(tenant, message_id)
    assert view.state == "sent" and view.attempts == 2
    types = [e["type"] for e in view.events or []]
    assert types == ["message.queued", "message.sending", "message.deferred", "message.sending",
                     "message.sent"]
    deferred = (view.events or [])[2]["data"]
    assert deferred["reason"] == "server.temporary_failure"
    assert deferred["recipients"][0]["smtp_code"] == 451
    assert deferred["recipients"][0]["enhanced_code"] == "4.3.0"
    assert len(smtp_sink.messages) == 1


async def test_unknown_recipient_fails_permanently(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.reject_recipient("debiteur@example.org")
    message_id = rt.outbox.submit(tenant, _invoice(account)).message.id

    await run_worker_until(rt, lambda: _settled(rt, tenant, message_id))

    view = rt.outbox.get(tenant, message_id)
    assert view.state == "failed" and view.reason == "send.recipient_unknown" and view.attempts == 1
    [recipient] = view.recipients
    assert recipient["status"] == "failed" and recipient["smtp_code"] == 550
    assert recipient["diagnosis"] == "send.recipient_unknown" and recipient["enhanced_code"] == "5.1.1"
    assert smtp_sink.messages == []
    assert smtp_sink.rcpt_calls == 1  # a 5xx is not retried


async def test_partial_acceptance_is_sent_with_a_diagnosis_per_recipient(
    rt: Runtime, tenant: str, smtp_sink: SmtpSink
) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.reject_recipient("oud@example.org")
    message_id = rt.outbox.submit(tenant, _invoice(account, cc=["oud@example.org"])).message.id

    await run_worker_until(rt, lambda: _settled(rt, tenant, message_id))

    view = rt.outbox.get(tenant, message_id)
    assert view.state == "sent"
    statuses = {r["address"]: (r["status"], r["diagnosis"]) for r in view.recipients}
    assert statuses == {"debiteur@example.org": ("accepted", None),
                        "oud@example.org": ("failed", "send.recipient_unknown")}
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["debiteur@example.org"]]


async def test_retry_goes_only_to_the_deferred_recipient(rt: Runtime, tenant: str,
                                                         smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.reject_recipient("later@example.org", "452 4.2.2 Mailbox busy, try later")
    message_id = rt.outbox.submit(tenant, _invoice(account, cc=["later@example.org"])).message.id

    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "deferred")
    smtp_sink.reset()  # the busy mailbox accepts now
    await run_worker_until(rt, lambda: _settled(rt, tenant, message_id))

    view = rt.outbox.get(tenant, message_id)
    # The busy mailbox may have been tried more than once before the reset; only it was retried.
    assert view.state == "sent" and view.attempts >= 2
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["later@example.org"]]
    assert all(r["status"] == "accepted" for r in view.recipients)


@pytest.mark.parametrize("order", ["451 then 550", "550 then 451"])
async def test_451_and_550_each_get_their_own_verdict(rt: Runtime, tenant: str, smtp_sink: SmtpSink,
                                                      order: str) -> None:
    """Every recipient refused, one temporarily, one permanently: the message is retried for the
    451 recipient only, whatever the order, and each keeps its own reply."""
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.reject_recipient("later@example.org", "451 4.3.0 Greylisted, come back later")
    smtp_sink.reject_recipient("gone@example.org")
    to = ["later@example.org", "gone@example.org"]
    if order == "550 then 451":
        to.reverse()
    message_id = rt.outbox.submit(tenant, _invoice(account, to=to)).message.id

    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "deferred")
    view = rt.outbox.get(tenant, message_id)
    assert view.reason == "server.temporary_failure"
    by_address = {r["address"]: r for r in view.recipients}
    later, gone = by_address["later@example.org"], by_address["gone@example.org"]
    assert (later["status"], later["smtp_code"], later["enhanced_code"]) == ("deferred", 451, "4.3.0")
    assert "Greylisted" in later["text"]
    assert (gone["status"], gone["smtp_code"], gone["diagnosis"]) == (
        "failed", 550, "send.recipient_unknown")
    assert "User unknown" in gone["text"]

    smtp_sink.reset()  # the greylisting is over; the unknown user would still be unknown
    smtp_sink.reject_recipient("gone@example.org")
    await run_worker_until(rt, lambda: _settled(rt, tenant, message_id))
    view = rt.outbox.get(tenant, message_id)
    assert view.state == "sent"
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["later@example.org"]]
    assert smtp_sink.rcpt_calls == 1  # the second attempt asked for the deferred recipient only
    assert {r["address"]: r["status"] for r in view.recipients} == {
        "later@example.org": "accepted", "gone@example.org": "failed"}


async def test_data_refusal_spares_the_recipients_refused_before(tmp_path: Path, database_url: str,
                                                                 smtp_sink: SmtpSink) -> None:
    # The DATA failure happens once, so "deferred" lasts only until the retry: with the suite's
    # 0.2 s retries a loaded CI box polled past it to "sent" and waited out the 20 s. Here the
    # retry waits 2 s.
    rt = outbox_runtime(tmp_path, database_url, send_retry_min_delay=2.0, send_retry_max_delay=2.5)
    try:
        tenant = rt.tenants.create(name="Bakkerij").tenant.id
        account = sink_account(rt, tenant, smtp_sink.port)
        smtp_sink.reject_recipient("gone@example.org")
        smtp_sink.fail_data(1)  # 451 4.3.0 after the data
        message_id = rt.outbox.submit(tenant, _invoice(account, cc=["gone@example.org"])).message.id

        await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "deferred")
        statuses = {r["address"]: (r["status"], r["smtp_code"])
                    for r in rt.outbox.get(tenant, message_id).recipients}
        assert statuses == {"debiteur@example.org": ("deferred", 451), "gone@example.org": ("failed", 550)}

        await run_worker_until(rt, lambda: _settled(rt, tenant, message_id))
        assert state_of(rt, tenant, message_id) == "sent"
        assert [m.rcpt_tos for m in smtp_sink.messages] == [["debiteur@example.org"]]
    finally:
        rt.close()


async def test_gives_up_after_the_give_up_age(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    rt = outbox_runtime(tmp_path, send_give_up_after=0.6)
    tenant = rt.tenants.create(name="T").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    smtp_sink.fail_rcpt(1000)
    message_id = rt.outbox.submit(tenant, _invoice(account)).message.id

    await run_worker_until(rt, lambda: _settled(rt, tenant, message_id))

    view = rt.outbox.get(tenant, message_id)
    assert view.state == "failed" and view.reason == "send.gave_up" and view.attempts >= 2
    assert view.recipients[0]["diagnosis"] == "send.gave_up"
    assert view.recipients[0]["smtp_code"] == 451  # the last reply is kept
    rt.close()


async def test_daily_cap_defers_instead_of_failing(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port, daily_limit=1)
    first = rt.outbox.submit(tenant, _invoice(account)).message.id
    await run_worker_until(rt, lambda: _settled(rt, tenant, first))
    second = rt.outbox.submit(tenant, _invoice(account)).message.id

    await run_worker_until(rt, lambda: state_of(rt, tenant, second) == "deferred")

    view = rt.outbox.get(tenant, second)
    assert view.reason == "send.daily_limit_reached" and view.attempts == 0
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert view.next_attempt_at == tomorrow
    assert len(smtp_sink.messages) == 1


async def test_send_at_and_cancel(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    later = datetime.now(UTC) + timedelta(hours=2)
    message_id = rt.outbox.submit(tenant, _invoice(account, send_at=later)).message.id
    view = rt.outbox.get(tenant, message_id)
    assert view.send_at == later and view.next_attempt_at == later

    cancelled = rt.outbox.cancel(tenant, message_id)
    assert cancelled.state == "cancelled"
    assert [e["type"] for e in cancelled.events or []] == ["message.queued", "message.cancelled"]
    with pytest.raises(Conflict) as exc:
        rt.outbox.cancel(tenant, message_id)
    assert exc.value.code == "message.not_cancellable"

    sent_id = rt.outbox.submit(tenant, _invoice(account)).message.id
    await run_worker_until(rt, lambda: _settled(rt, tenant, sent_id))
    with pytest.raises(Conflict):
        rt.outbox.cancel(tenant, sent_id)
    assert len(smtp_sink.messages) == 1  # the cancelled one never left


def test_idempotency_key_replays_or_conflicts(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    first = rt.outbox.submit(tenant, _invoice(account), idempotency_key="inv-2026-0042")
    again = rt.outbox.submit(tenant, _invoice(account), idempotency_key="inv-2026-0042")
    assert again.replayed and again.message.id == first.message.id
    other_pdf = [Attachment(filename="factuur-2026-0042.pdf", content=PDF + b" ")]
    with pytest.raises(Conflict) as exc:
        rt.outbox.submit(tenant, _invoice(account, attachments=other_pdf), idempotency_key="inv-2026-0042")
    assert exc.value.code == "request.idempotency_mismatch"
    assert len(rt.outbox.list_messages(tenant)) == 1


def test_refuses_what_cannot_be_sent(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    with pytest.raises(ValidationError) as exc:
        rt.outbox.submit(tenant, _invoice(account, from_email="ceo@example.test"))
    assert exc.value.code == "send.sender_not_allowed"
    with pytest.raises(ValidationError) as exc:
        rt.outbox.submit(tenant, _invoice(account, subject="Factuur\r\nBcc: victim@example.org"))
    assert exc.value.field == "subject"
    with pytest.raises(ValidationError) as exc:
        rt.outbox.submit(tenant, _invoice(account, headers={"Sender": "x@example.org"}))
    assert exc.value.field == "headers.Sender"
    assert rt.outbox.list_messages(tenant) == []


def test_list_filters_by_state_and_account(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    first = sink_account(rt, tenant, smtp_sink.port)
    second = sink_account(rt, tenant, smtp_sink.port, email="user2@example.test")
    ids = [rt.outbox.submit(tenant, _invoice(acc)).message.id for acc in (first, second, first)]
    rt.outbox.cancel(tenant, ids[2])
    assert [m.id for m in rt.outbox.list_messages(tenant)] == ids[::-1]
    assert [m.id for m in rt.outbox.list_messages(tenant, account_id=first)] == [ids[2], ids[0]]
    assert [m.id for m in rt.outbox.list_messages(tenant, states=["queued"])] == [ids[1], ids[0]]
    assert [m.id for m in rt.outbox.list_messages(tenant, limit=1, before=ids[1])] == [ids[0]]
    other = rt.tenants.create(name="Other").tenant.id
    assert rt.outbox.list_messages(other) == []


async def test_unreachable_server_is_deferred_with_its_diagnosis(tmp_path: Path, faults: FaultServers) -> None:
    rt = outbox_runtime(tmp_path)
    tenant = rt.tenants.create(name="T").tenant.id
    account = sink_account(rt, tenant, faults.closed_port())
    message_id = rt.outbox.submit(tenant, _invoice(account)).message.id

    await run_worker_until(rt, lambda: state_of(rt, tenant, message_id) == "deferred")

    view = rt.outbox.get(tenant, message_id)
    assert view.reason == "net.connection_refused" and view.next_attempt_at is not None
    assert view.recipients[0]["status"] == "deferred" and view.recipients[0]["smtp_code"] is None
    rt.close()


async def test_sessions_are_reused_across_messages(rt: Runtime, tenant: str, smtp_sink: SmtpSink) -> None:
    account = sink_account(rt, tenant, smtp_sink.port)
    ids = [rt.outbox.submit(tenant, _invoice(account, subject=f"Factuur {n}")).message.id for n in range(12)]

    await run_worker_until(rt, lambda: all(_settled(rt, tenant, i) for i in ids))

    assert len(smtp_sink.messages) == 12
    # One login per concurrent connection, not one per message.
    assert 1 <= len(smtp_sink.auth_attempts) <= rt.settings.send_account_concurrency


async def test_rate_limit_waits_quietly(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    rt = outbox_runtime(tmp_path, send_account_rate_per_minute=1)
    tenant = rt.tenants.create(name="T").tenant.id
    account = sink_account(rt, tenant, smtp_sink.port)
    first = rt.outbox.submit(tenant, _invoice(account)).message.id
    await run_worker_until(rt, lambda: _settled(rt, tenant, first))
    second = rt.outbox.submit(tenant, _invoice(account)).message.id

    await run_worker_until(rt, lambda: _job_run_at(rt, second) is not None)

    view = rt.outbox.get(tenant, second)
    assert view.state == "queued" and view.attempts == 0  # no deferral event, no attempt
    assert [e["type"] for e in view.events or []] == ["message.queued"]
    next_minute = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    run_at = _job_run_at(rt, second)
    assert run_at is not None and next_minute - timedelta(minutes=1) < run_at <= next_minute
    rt.close()


def _job_run_at(rt: Runtime, message_id: str) -> datetime | None:
    """The send job's next run once it was put back by the rate limit (None before that)."""
    import sqlalchemy as sa

    from mailport.adapters.storage.tables import Job

    with rt.db.session() as s:
        job = s.scalar(sa.select(Job).where(Job.kind == "send", Job.dedupe_key == message_id))
        if job is None or job.state != "ready" or job.attempts == 0:
            return None
        return job.run_at
