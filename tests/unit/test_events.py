"""core.events: the vocabulary and the JSON shape webhooks receive."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailport.core.events import (
    STATE_EVENTS,
    AccountNeedsReconnect,
    DomainStateChanged,
    Event,
    EventType,
    MessageBounced,
    MessageDeferred,
    MessageFailed,
    MessageQueued,
    MessageReceived,
    MessageSent,
    format_timestamp,
    make_event,
    payload_for_outcome,
)
from mailport.core.outbox import MessageState, RecipientResult, RetryPolicy, classify_send_outcome
from mailport.errors import ValidationError

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def event(payload, **kwargs):  # type: ignore[no-untyped-def]
    return make_event(payload, event_id="evt_1", tenant_id="ten_1", created_at=T0, **kwargs)


def test_vocabulary_is_stable() -> None:
    assert [t.value for t in EventType] == [
        "message.queued",
        "message.sending",
        "message.sent",
        "message.deferred",
        "message.failed",
        "message.cancelled",
        "message.bounced",
        "message.received",
        "domain.state_changed",
        "account.verified",
        "account.needs_reconnect",
        "account.needs_attention",
        "recipient.suppressed",
        "webhook.test",
    ]
    assert set(STATE_EVENTS) == set(MessageState)


def test_queued_event_shape() -> None:
    payload = MessageQueued(
        message_id="msg_1",
        account_id="acc_1",
        metadata={"document_id": "inv_42"},
        recipients=("jan@example.test",),
        send_at=T0 + timedelta(hours=1),
    )
    assert event(payload).to_dict() == {
        "id": "evt_1",
        "type": "message.queued",
        "created_at": "2026-11-23T12:00:00Z",
        "tenant_id": "ten_1",
        "data": {
            "message_id": "msg_1",
            "account_id": "acc_1",
            "metadata": {"document_id": "inv_42"},
            "recipients": ["jan@example.test"],
            "send_at": "2026-11-23T13:00:00Z",
        },
    }


def test_to_json_is_compact_utf8_and_round_trips() -> None:
    payload = DomainStateChanged(
        domain_id="dom_1", domain="bücher.example", previous="pending", state="active"
    )
    original = event(payload)
    body = original.to_json()
    assert body.startswith(b'{"id":"evt_1","type":"domain.state_changed"')
    assert "bücher".encode() in body
    again = Event.from_dict(json.loads(body))
    assert again == original
    assert again.data["failing_records"] == []


def test_outcome_events_carry_per_recipient_results() -> None:
    outcome = classify_send_outcome(
        [
            RecipientResult("a@example.test", 250, "2.0.0 Ok"),
            RecipientResult("b@example.test", 451, "4.3.0 Try later"),
        ],
        attempt=1,
        queued_at=T0,
        now=T0,
        policy=RetryPolicy(jitter="none"),
        rng=lambda: 0.5,
    )
    payload = payload_for_outcome(
        outcome, message_id="msg_1", account_id="acc_1", attempt=1, metadata={"doc": "7"}
    )
    assert isinstance(payload, MessageDeferred)
    data = event(payload).to_dict()["data"]
    assert data["retry_at"] == "2026-11-23T12:05:00Z"
    assert data["reason"] == "server.temporary_failure"
    assert data["metadata"] == {"doc": "7"}
    assert [(r["recipient"], r["status"]) for r in data["recipients"]] == [
        ("a@example.test", "accepted"),
        ("b@example.test", "deferred"),
    ]

    sent = classify_send_outcome(
        [RecipientResult("b@example.test", 250)],
        attempt=2,
        queued_at=T0,
        now=T0,
        policy=RetryPolicy(),
        rng=lambda: 0.5,
        previously_accepted=["a@example.test"],
    )
    sent_payload = payload_for_outcome(
        sent, message_id="msg_1", account_id="acc_1", attempt=2, header_message_id="<x@y>"
    )
    assert isinstance(sent_payload, MessageSent)
    assert event(sent_payload).type is EventType.MESSAGE_SENT
    assert event(sent_payload).data["header_message_id"] == "<x@y>"

    failed = classify_send_outcome(
        [RecipientResult("c@example.test", 550, "5.1.1 User unknown")],
        attempt=1,
        queued_at=T0,
        now=T0,
        policy=RetryPolicy(),
        rng=lambda: 0.5,
    )
    failed_payload = payload_for_outcome(failed, message_id="m", account_id=None, attempt=1)
    assert isinstance(failed_payload, MessageFailed)
    assert event(failed_payload).data["reason"] == "send.recipient_unknown"


def test_other_payloads() -> None:
    received = MessageReceived(
        account_id="acc_1", message_id="msg_9", folder="INBOX", uid=42, from_="x@example.test"
    )
    data = event(received).to_dict()["data"]
    assert data["from"] == "x@example.test" and "from_" not in data
    bounced = MessageBounced(
        message_id="msg_1",
        account_id="acc_1",
        recipient="c@example.test",
        status="5.1.1",
        diagnosis="send.recipient_unknown",
        hard=True,
    )
    assert event(bounced).to_dict()["type"] == "message.bounced"
    reconnect = AccountNeedsReconnect(
        account_id="acc_1", email="a@x.test", reason="auth.token_invalid"
    )
    assert event(reconnect).data == {
        "account_id": "acc_1",
        "email": "a@x.test",
        "reason": "auth.token_invalid",
    }


def test_timestamps_are_utc_with_z() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_timestamp(datetime(2026, 11, 23, 13, 0, tzinfo=cet)) == "2026-11-23T12:00:00Z"
    assert format_timestamp(datetime(2026, 11, 23, 12, 0, 0, 5000, tzinfo=UTC)) == (
        "2026-11-23T12:00:00.005000Z"
    )
    with pytest.raises(ValidationError):
        format_timestamp(datetime(2026, 11, 23))


def test_events_are_validated() -> None:
    with pytest.raises(ValidationError):
        Event(id="", type=EventType.WEBHOOK_TEST, created_at=T0, tenant_id="t", data={})
    with pytest.raises(ValidationError):
        Event(id="e", type="message.exploded", created_at=T0, tenant_id="t", data={})  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Event.from_dict({"id": "e", "type": "webhook.test", "tenant_id": "t", "data": {}})
    with pytest.raises(ValidationError):
        Event.from_dict(
            {
                "id": "e",
                "type": "webhook.test",
                "created_at": "yesterday",
                "tenant_id": "t",
                "data": {},
            }
        )
    frozen = event(AccountNeedsReconnect(account_id="a", email="e", reason="r"))
    with pytest.raises(TypeError):
        frozen.data["reason"] = "x"  # type: ignore[index]
