"""mailport.client.webhooks.parse_event: signatures checked by the same code that signs, typed
payloads, unknown event types tolerated, forged or stale deliveries refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from mailport.client.webhooks import (
    MessageBounced,
    MessageFailed,
    MessageSent,
    OtherEvent,
    parse_event,
)
from mailport.core import events
from mailport.core.events import Event, EventPayload
from mailport.core.outbox import RecipientOutcome, RecipientStatus
from mailport.core.webhooks import delivery_request, sign
from mailport.errors import AuthError, ValidationError

SECRET = "whsec_" + "k" * 32
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def delivered(payload: EventPayload, *, secret: str = SECRET, at: datetime = NOW) -> tuple[bytes, dict[str, str]]:
    """What the server delivers for ``payload`` (its own payload classes and signing code)."""
    event = Event(id="evt_1", type=payload.type, created_at=NOW, tenant_id="ten_1", data=payload.to_data())
    body, headers = delivery_request(event, secrets=[secret], timestamp=at)
    return body, headers


def test_a_sent_event_is_verified_and_typed() -> None:
    body, headers = delivered(events.MessageSent(
        message_id="msg_1", account_id="acc_1", metadata={"invoice_id": "42"}, attempt=1,
        header_message_id="<x@y>", recipients=[RecipientOutcome(
            recipient="a@example.nl", status=RecipientStatus.ACCEPTED, smtp_code=250, enhanced_code="2.0.0",
            text="250 2.0.0 Ok", diagnosis=None)]))
    event = parse_event(body=body, headers=headers, secrets=[SECRET], now=NOW)
    assert isinstance(event.data, MessageSent)
    assert event.type == "message.sent" and event.message_id == "msg_1" and event.metadata == {"invoice_id": "42"}
    assert event.data.recipients[0].recipient == "a@example.nl" and event.data.recipients[0].smtp_code == 250
    assert event.signed_at == int(NOW.timestamp())


def test_bounced_and_failed_events_carry_their_reason() -> None:
    body, headers = delivered(events.MessageBounced(
        message_id="msg_1", account_id="acc_1", recipient="nobody@example.test", status="5.1.1",
        diagnosis="the mailbox does not exist", hard=True, server_text="550 5.1.1 User unknown"))
    bounced = parse_event(body=body, headers=headers, secrets=[SECRET], now=NOW).data
    assert isinstance(bounced, MessageBounced) and bounced.hard and bounced.status == "5.1.1"

    body, headers = delivered(events.MessageFailed(
        message_id="msg_2", account_id="acc_1", attempt=1, reason="send.recipient_rejected",
        recipients=[RecipientOutcome(recipient="x@example.nl", status=RecipientStatus.FAILED, smtp_code=550,
                                     enhanced_code="5.1.1",
                                     text="550 5.1.1 no such user", diagnosis="send.recipient_unknown")]))
    failed = parse_event(body=body, headers=headers, secrets=[SECRET], now=NOW).data
    assert isinstance(failed, MessageFailed) and failed.reason == "send.recipient_rejected"
    assert failed.recipients[0].diagnosis == "send.recipient_unknown"


@pytest.mark.parametrize("payload", [
    events.MessageQueued(message_id="m", account_id="a", recipients=["x@example.nl"], send_at=NOW),
    events.MessageSending(message_id="m", account_id="a", attempt=1),
    events.MessageDeferred(message_id="m", account_id="a", attempt=1, retry_at=NOW, reason="net.timeout"),
    events.MessageCancelled(message_id="m", account_id="a"),
    events.MessageReceived(account_id="a", message_id="im", folder="INBOX", uid=7, from_="k@example.nl",
                           subject="Vraag", received_at=NOW),
    events.DomainStateChanged(domain_id="d", domain="example.nl", previous="pending", state="active"),
    events.AccountVerified(account_id="a", email="x@example.nl"),
    events.AccountNeedsReconnect(account_id="a", email="x@example.nl", reason="oauth.invalid_grant"),
    events.WebhookTest(webhook_id="wh_1"),
], ids=lambda p: p.type.value)
def test_every_event_type_the_server_sends_parses_into_its_typed_model(payload: EventPayload) -> None:
    body, headers = delivered(payload)
    event = parse_event(body=body, headers=headers, secrets=[SECRET], now=NOW)
    assert event.type == payload.type.value
    assert not isinstance(event.data, OtherEvent)
    assert type(event.data).__name__ == type(payload).__name__


def test_an_unknown_event_type_is_kept_not_refused() -> None:
    body = json.dumps({"id": "evt_9", "type": "invoice.paid_someday", "created_at": "2026-11-23T12:00:00Z",
                       "tenant_id": "ten_1", "data": {"x": 1}}).encode()
    headers = sign(body=body, message_id="evt_9", secrets=[SECRET], timestamp=NOW)
    event = parse_event(body=body, headers=headers, secrets=[SECRET], now=NOW)
    assert isinstance(event.data, OtherEvent) and event.data.model_extra == {"x": 1}
    assert event.message_id is None


@pytest.mark.parametrize(("change", "code"), [
    ("wrong_secret", "webhook.signature_mismatch"),
    ("tampered", "webhook.signature_mismatch"),
    ("stale", "webhook.timestamp_out_of_tolerance"),
    ("missing", "webhook.signature_missing"),
])
def test_forged_or_replayed_deliveries_are_refused(change: str, code: str) -> None:
    body, headers = delivered(events.WebhookTest(webhook_id="wh_1"),
                                secret="whsec_" + "o" * 32 if change == "wrong_secret" else SECRET,
                                at=NOW - timedelta(minutes=10) if change == "stale" else NOW)
    if change == "tampered":
        body = body.replace(b"wh_1", b"wh_2")
    with pytest.raises(AuthError) as caught:
        parse_event(body=body, headers={} if change == "missing" else headers, secrets=[SECRET], now=NOW)
    assert caught.value.code == code


def test_during_a_rotation_either_secret_is_accepted() -> None:
    body, headers = delivered(events.WebhookTest(webhook_id="wh_1"), secret="whsec_" + "n" * 32)
    event = parse_event(body=body, headers=headers, secrets=[SECRET, "whsec_" + "n" * 32], now=NOW)
    assert event.data.model_dump()["webhook_id"] == "wh_1"


def test_a_signed_body_that_is_not_an_event_is_a_validation_error() -> None:
    body = b'{"hello": "world"}'
    with pytest.raises(ValidationError):
        parse_event(body=body, headers=sign(body=body, message_id="evt_1", secrets=[SECRET], timestamp=NOW),
                    secrets=[SECRET], now=NOW)
    with pytest.raises(ValidationError):
        parse_event(body="text", headers={}, secrets=[SECRET], now=NOW)  # type: ignore[arg-type]
