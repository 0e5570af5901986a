"""core.webhooks: HMAC-SHA256 signatures with timestamps, rotation and tolerance."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from mailport.core.events import EventType, WebhookTest, make_event
from mailport.core.webhooks import (
    SIGNATURE_HEADER,
    WEBHOOK_RETRY_POLICY,
    classify_delivery,
    compute_signature,
    delivery_request,
    format_secret,
    sign,
    verify,
)
from mailport.errors import AuthError, ValidationError

T = 1795435200  # 2026-11-23T12:00:00Z
BODY = '{"hello":"wörld"}'.encode()
SECRET = "whsec_test"
# hex(HMAC-SHA256(b"whsec_test", b'1795435200.{"hello":"w\xc3\xb6rld"}'))
EXPECTED = "d5a82e4d4e477313225857bbb05373f988229ec76659f744d7385c0877951f5e"


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    assert compute_signature(secret=SECRET, timestamp=T, body=BODY) == EXPECTED
    independent = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert independent == EXPECTED
    assert sign(body=BODY, secrets=[SECRET], timestamp=T) == f"t={T},v1={EXPECTED}"
    assert sign(body=BODY, secrets=[SECRET], timestamp=datetime(2026, 11, 23, 12, tzinfo=UTC)) == (
        f"t={T},v1={EXPECTED}"
    )


def test_verify_accepts_a_fresh_signature() -> None:
    header = sign(body=BODY, secrets=[SECRET], timestamp=T)
    assert verify(body=BODY, header=header, secrets=[SECRET], now=T + 299) == T
    assert verify(body=BODY, header=header, secrets=[SECRET.encode()], now=T - 299) == T
    # Receivers may see the hex upper-cased or with spaces after commas.
    upper = f"t={T}, v1={EXPECTED.upper()}"
    assert verify(body=BODY, header=upper, secrets=[SECRET], now=T) == T


def test_rotation_old_and_new_secrets_both_verify() -> None:
    header = sign(body=BODY, secrets=["new-secret", "old-secret"], timestamp=T)
    assert header.count("v1=") == 2
    assert verify(body=BODY, header=header, secrets=["old-secret"], now=T) == T
    assert verify(body=BODY, header=header, secrets=["new-secret"], now=T) == T
    assert verify(body=BODY, header=header, secrets=["other", "new-secret"], now=T) == T
    with pytest.raises(AuthError) as info:
        verify(body=BODY, header=header, secrets=["retired"], now=T)
    assert info.value.code == "webhook.signature_mismatch"


def refused(header: str | None, *, body: bytes = BODY, now: int = T) -> str:
    with pytest.raises(AuthError) as info:
        verify(body=body, header=header, secrets=[SECRET], now=now)
    assert SECRET not in str(info.value)
    return info.value.code


def test_tampering_and_replay_are_refused() -> None:
    header = sign(body=BODY, secrets=[SECRET], timestamp=T)
    assert refused(header, body=BODY + b" ") == "webhook.signature_mismatch"
    assert refused(header.replace(f"t={T}", f"t={T + 1}")) == "webhook.signature_mismatch"
    assert refused(header, now=T + 301) == "webhook.timestamp_out_of_tolerance"
    assert refused(header, now=T - 301) == "webhook.timestamp_out_of_tolerance"
    with pytest.raises(AuthError):
        verify(
            body=BODY, header=header, secrets=[SECRET], now=T + 61, tolerance=timedelta(minutes=1)
        )


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "webhook.signature_missing"),
        ("", "webhook.signature_missing"),
        ("garbage", "webhook.signature_malformed"),
        (f"v1={EXPECTED}", "webhook.signature_malformed"),
        (f"t={T}", "webhook.signature_malformed"),
        (f"t={T},t={T},v1={EXPECTED}", "webhook.signature_malformed"),
        (f"t=-{T},v1={EXPECTED}", "webhook.signature_malformed"),
        (f"t=١٢,v1={EXPECTED}", "webhook.signature_malformed"),
        (f"t={T}," + ",".join(["v1=" + "0" * 64] * 9), "webhook.signature_malformed"),
        ("t=" + "1" * 5000 + ",v1=x", "webhook.signature_malformed"),
        (f"t={T},v1=nothex", "webhook.signature_mismatch"),
        (f"t={T},v0={EXPECTED}", "webhook.signature_malformed"),
    ],
)
def test_malformed_headers(header: str | None, code: str) -> None:
    assert refused(header) == code


def test_unknown_schemes_are_ignored() -> None:
    header = f"t={T},v0=abc,v2=def,v1={EXPECTED}"
    assert verify(body=BODY, header=header, secrets=[SECRET], now=T) == T


def test_bad_secrets_and_timestamps_are_programming_errors() -> None:
    with pytest.raises(ValidationError):
        sign(body=BODY, secrets=[], timestamp=T)
    with pytest.raises(ValidationError):
        sign(body=BODY, secrets=SECRET, timestamp=T)  # a bare string, not a list
    with pytest.raises(ValidationError):
        sign(body=BODY, secrets=[""], timestamp=T)
    with pytest.raises(ValidationError):
        sign(body=BODY, secrets=[SECRET], timestamp=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        verify(body=BODY, header="t=1,v1=00", secrets=[], now=T)


def test_delivery_request_signs_the_event_json() -> None:
    event = make_event(
        WebhookTest(webhook_id="wh_1"),
        event_id="evt_1",
        tenant_id="ten_1",
        created_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
    )
    body, headers = delivery_request(event, secrets=[SECRET], timestamp=T)
    assert body == (
        b'{"id":"evt_1","type":"webhook.test","created_at":"2026-11-23T12:00:00Z",'
        b'"tenant_id":"ten_1","data":{"webhook_id":"wh_1"}}'
    )
    assert headers["Content-Type"] == "application/json"
    assert headers["Mailport-Event-Id"] == "evt_1"
    assert headers["Mailport-Event-Type"] == EventType.WEBHOOK_TEST
    assert verify(body=body, header=headers[SIGNATURE_HEADER], secrets=[SECRET], now=T) == T


def test_format_secret() -> None:
    assert format_secret(bytes(range(24))) == "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
    with pytest.raises(ValidationError):
        format_secret(b"short")


def test_delivery_classification_and_retry_policy() -> None:
    assert classify_delivery(200) == "delivered"
    assert classify_delivery(204) == "delivered"
    assert classify_delivery(410) == "gone"
    for status in (None, 301, 400, 404, 429, 500, 503):
        assert classify_delivery(status) == "retry"
    assert WEBHOOK_RETRY_POLICY.give_up_after == timedelta(days=3)
    assert WEBHOOK_RETRY_POLICY.min_delay == timedelta(seconds=10)
