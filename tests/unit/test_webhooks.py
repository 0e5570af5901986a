"""core.webhooks: the Standard Webhooks scheme — HMAC-SHA256 over id, timestamp and body, rotation
and tolerance — checked against a literal vector and against the ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mailport.core.events import EventType, WebhookTest, make_event
from mailport.core.netpolicy import PrivateNetworks
from mailport.core.webhooks import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WEBHOOK_RETRY_POLICY,
    check_webhook_url,
    classify_delivery,
    compute_signature,
    delivery_request,
    format_secret,
    sign,
    verify,
    webhook_port_allowed,
)
from mailport.errors import AuthError, HostNotAllowed, ValidationError

T = 1795435200  # 2026-11-23T12:00:00Z
BODY = '{"hello":"wörld"}'.encode()
KEY = bytes(range(32))
SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
# base64(HMAC-SHA256(bytes(range(32)), b'msg_1.1795435200.{"hello":"w\xc3\xb6rld"}'))
EXPECTED = "v1,/zZOWDv8jN9QbpWoFijA2RrLRaA2XkVPr3xxN0TaZF0="
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()


def headers(*, secrets: list[str] | None = None, message_id: str = "msg_1", at: int = T,
            body: bytes = BODY) -> dict[str, str]:
    return sign(body=body, message_id=message_id, secrets=secrets or [SECRET], timestamp=at)


def test_signature_is_hmac_sha256_over_id_timestamp_and_body() -> None:
    assert compute_signature(secret=SECRET, message_id="msg_1", timestamp=T, body=BODY) == EXPECTED
    independent = base64.b64encode(hmac.new(KEY, f"msg_1.{T}.".encode() + BODY, hashlib.sha256).digest())
    assert "v1," + independent.decode() == EXPECTED
    assert headers() == {ID_HEADER: "msg_1", TIMESTAMP_HEADER: str(T), SIGNATURE_HEADER: EXPECTED}
    assert headers() == sign(body=BODY, message_id="msg_1", secrets=[KEY],
                             timestamp=datetime(2026, 11, 23, 12, tzinfo=UTC))


def test_the_standardwebhooks_library_verifies_our_deliveries_and_we_verify_its() -> None:
    ours = headers(at=int(datetime.now(UTC).timestamp()))
    assert Webhook(SECRET).verify(BODY, ours) == {"hello": "wörld"}
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(BODY, ours)
    theirs = Webhook(SECRET).sign("msg_2", datetime.fromtimestamp(T, UTC), BODY)
    assert verify(body=BODY, headers={"Webhook-Id": "msg_2", "Webhook-Timestamp": str(T),
                                      "Webhook-Signature": theirs}, secrets=[SECRET], now=T) == T


def test_new_secrets_are_standard_base64_the_libraries_accept() -> None:
    secret = format_secret(bytes(range(24)))
    assert secret == "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
    assert Webhook(secret).verify(BODY, sign(body=BODY, message_id="m", secrets=[secret],
                                             timestamp=int(datetime.now(UTC).timestamp())))
    with pytest.raises(ValidationError):
        format_secret(b"short")


def test_legacy_url_safe_secrets_still_verify_here() -> None:
    legacy = "whsec_" + base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode().rstrip("=")
    assert "-" in legacy or "_" in legacy
    delivered = sign(body=BODY, message_id="m", secrets=[legacy], timestamp=T)
    assert verify(body=BODY, headers=delivered, secrets=[b"\xfb\xff" * 16], now=T) == T


def test_verify_accepts_a_fresh_signature_in_any_header_case() -> None:
    assert verify(body=BODY, headers=headers(), secrets=[SECRET], now=T + 299) == T
    assert verify(body=BODY, headers=headers(), secrets=[KEY], now=T - 299) == T
    upper = {k.upper(): v for k, v in headers().items()}
    assert verify(body=BODY, headers=upper, secrets=[SECRET], now=T) == T


def test_rotation_old_and_new_secrets_both_verify() -> None:
    delivered = headers(secrets=[OTHER, SECRET])
    assert delivered[SIGNATURE_HEADER].count("v1,") == 2
    assert verify(body=BODY, headers=delivered, secrets=[SECRET], now=T) == T
    assert verify(body=BODY, headers=delivered, secrets=[OTHER], now=T) == T
    retired = "whsec_" + base64.b64encode(b"r" * 32).decode()
    with pytest.raises(AuthError) as info:
        verify(body=BODY, headers=delivered, secrets=[retired], now=T)
    assert info.value.code == "webhook.signature_mismatch"


def refused(delivered: dict[str, str], *, body: bytes = BODY, now: int = T) -> str:
    with pytest.raises(AuthError) as info:
        verify(body=body, headers=delivered, secrets=[SECRET], now=now)
    assert SECRET not in str(info.value)
    return info.value.code


def test_tampering_and_replay_are_refused() -> None:
    assert refused(headers(), body=BODY + b" ") == "webhook.signature_mismatch"
    assert refused({**headers(), TIMESTAMP_HEADER: str(T + 1)}) == "webhook.signature_mismatch"
    assert refused({**headers(), ID_HEADER: "msg_2"}) == "webhook.signature_mismatch"
    assert refused(headers(), now=T + 301) == "webhook.timestamp_out_of_tolerance"
    assert refused(headers(), now=T - 301) == "webhook.timestamp_out_of_tolerance"
    with pytest.raises(AuthError):
        verify(body=BODY, headers=headers(), secrets=[SECRET], now=T + 61, tolerance=timedelta(minutes=1))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({SIGNATURE_HEADER: None}, "webhook.signature_missing"),
        ({ID_HEADER: None}, "webhook.signature_missing"),
        ({TIMESTAMP_HEADER: ""}, "webhook.signature_missing"),
        ({SIGNATURE_HEADER: "garbage"}, "webhook.signature_malformed"),
        ({SIGNATURE_HEADER: EXPECTED.replace("v1,", "v2,")}, "webhook.signature_malformed"),
        ({TIMESTAMP_HEADER: f"-{T}"}, "webhook.signature_malformed"),
        ({TIMESTAMP_HEADER: "١٢"}, "webhook.signature_malformed"),
        ({SIGNATURE_HEADER: " ".join(["v1,AAAA"] * 9)}, "webhook.signature_malformed"),
        ({SIGNATURE_HEADER: "v1," + "A" * 5000}, "webhook.signature_malformed"),
        ({ID_HEADER: "m" * 300}, "webhook.signature_malformed"),
        ({SIGNATURE_HEADER: "v1,notbase64é"}, "webhook.signature_mismatch"),
    ],
)
def test_malformed_headers(change: dict[str, str | None], code: str) -> None:
    delivered = {k: v for k, v in {**headers(), **change}.items() if v is not None}
    assert refused(delivered) == code


def test_other_versions_are_ignored() -> None:
    delivered = {**headers(), SIGNATURE_HEADER: f"v1a,abc v2,def {EXPECTED}"}
    assert verify(body=BODY, headers=delivered, secrets=[SECRET], now=T) == T


def test_bad_secrets_and_timestamps_are_programming_errors() -> None:
    with pytest.raises(ValidationError):
        sign(body=BODY, message_id="m", secrets=[], timestamp=T)
    with pytest.raises(ValidationError):
        sign(body=BODY, message_id="m", secrets=SECRET, timestamp=T)  # a bare string, not a list
    with pytest.raises(ValidationError):
        sign(body=BODY, message_id="m", secrets=[""], timestamp=T)
    with pytest.raises(ValidationError):
        sign(body=BODY, message_id="m", secrets=["whsec_not base64!"], timestamp=T)
    with pytest.raises(ValidationError):
        sign(body=BODY, message_id="", secrets=[SECRET], timestamp=T)
    with pytest.raises(ValidationError):
        sign(body=BODY, message_id="m", secrets=[SECRET], timestamp=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        verify(body=BODY, headers=headers(), secrets=[], now=T)


def test_delivery_request_signs_the_event_json() -> None:
    event = make_event(
        WebhookTest(webhook_id="wh_1"),
        event_id="evt_1",
        tenant_id="ten_1",
        created_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
    )
    body, delivered = delivery_request(event, secrets=[SECRET], timestamp=T)
    assert body == (
        b'{"id":"evt_1","type":"webhook.test","created_at":"2026-11-23T12:00:00Z",'
        b'"tenant_id":"ten_1","data":{"webhook_id":"wh_1"}}'
    )
    assert delivered["Content-Type"] == "application/json"
    assert delivered[ID_HEADER] == "evt_1"
    assert delivered["Mailport-Event-Type"] == EventType.WEBHOOK_TEST
    assert verify(body=body, headers=delivered, secrets=[SECRET], now=T) == T


def test_delivery_classification_and_retry_policy() -> None:
    assert classify_delivery(200) == "delivered"
    assert classify_delivery(204) == "delivered"
    assert classify_delivery(410) == "gone"
    for status in (None, 301, 400, 404, 429, 500, 503):
        assert classify_delivery(status) == "retry"
    assert WEBHOOK_RETRY_POLICY.give_up_after == timedelta(days=3)
    assert WEBHOOK_RETRY_POLICY.min_delay == timedelta(seconds=10)


# -- the URL rule (registration and every delivery) ------------------------------------------


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/mailport", "https://hooks.example.com:8443/x?token=abc",
    "https://hooks.example.com:443/x", "https://hooks.example.com:1024/x", "https://hooks.example.com:65535/x",
    "https://8.8.8.8/x", "https://[2606:4700::1111]:8080/x",
])
def test_a_public_https_url_on_a_web_port_is_accepted(url: str) -> None:
    assert check_webhook_url(f"  {url} ", allow_private=False) == url


@pytest.mark.parametrize("url", [
    "http://hooks.example.com/x",  # plain http: only with MAILPORT_ALLOW_PRIVATE_HOSTS (development)
    "ftp://hooks.example.com/x", "javascript:alert(1)", "https:///x", "hooks.example.com/x",
    "https://user:pw@hooks.example.com/x", "https://user@hooks.example.com/x", "https://@hooks.example.com/x",
    "https://hooks.example.com:25/x", "https://hooks.example.com:22/x", "https://hooks.example.com:8/x",
    "https://hooks.example.com:1023/x", "https://hooks.example.com:6667/x", "https://hooks.example.com:5060/x",
    "https://hooks.example.com:0/x", "https://hooks.example.com:65536/x", "https://hooks.example.com:x/x",
    "https://hooks.example.com/a b", "https://hooks.example.com/\r\nX: y", "https://hooks.example.com/" + "a" * 2000,
    "", "   ",
])
def test_other_schemes_credentials_ports_and_broken_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError) as err:
        check_webhook_url(url, allow_private=False)
    assert err.value.field == "url"


@pytest.mark.parametrize("url", [
    "https://localhost/x", "https://localhost.:8443/x", "https://app.localhost/x", "https://127.0.0.1/x",
    "https://127.1/x", "https://2130706433/x", "https://0x7f000001/x", "https://0/x", "https://[::1]/x",
    "https://[::ffff:169.254.169.254]/x", "https://10.0.0.8:8443/x", "https://receiver.internal/x",
    "https://receiver/x",
])
def test_private_hosts_in_any_spelling_are_refused(url: str) -> None:
    with pytest.raises(HostNotAllowed) as err:
        check_webhook_url(url, allow_private=False)
    assert err.value.field == "url"
    # The webhook's own code and words, not the mail servers' (net.host_not_allowed).
    assert err.value.code == "webhook.host_not_allowed" and "webhook URL" in err.value.message


def test_a_development_installation_may_post_over_http_to_loopback_but_still_not_to_any_port() -> None:
    assert check_webhook_url("http://127.0.0.1:8500/hooks", allow_private=True) == "http://127.0.0.1:8500/hooks"
    assert check_webhook_url("http://localhost/hooks", allow_private=True)
    for url in ("http://127.0.0.1:25/x", "http://127.0.0.1:6667/x",
                "http://user:pw@127.0.0.1:8500/x"):
        with pytest.raises(ValidationError):
            check_webhook_url(url, allow_private=True)


def test_the_operators_own_networks_admit_https_webhooks_there_but_not_plain_http() -> None:
    """On premises (MAILPORT_ALLOW_PRIVATE_NETWORKS) the host product inside may receive events,
    over https; plain http stays a lab's (MAILPORT_ALLOW_PRIVATE_HOSTS), and the rest of the
    inside stays closed."""
    own = PrivateNetworks.parse(["10.1.2.0/24"])
    assert check_webhook_url("https://10.1.2.10/hooks", allow_private=own) == "https://10.1.2.10/hooks"
    assert check_webhook_url("https://crm.corp/hooks", allow_private=own)  # its addresses decide at delivery
    with pytest.raises(ValidationError):
        check_webhook_url("http://10.1.2.10/hooks", allow_private=own)
    for url in ("https://10.9.9.9/hooks", "https://127.0.0.1/hooks", "https://169.254.169.254/latest"):
        with pytest.raises(HostNotAllowed):
            check_webhook_url(url, allow_private=own)


@pytest.mark.parametrize(("port", "allowed"), [(80, True), (443, True), (8443, True), (8080, True), (1024, True),
                                               (25, False), (587, False), (993, False), (1023, False),
                                               (2049, False), (10080, False), (65535, True), (65536, False)])
def test_webhook_ports(port: int, allowed: bool) -> None:
    assert webhook_port_allowed(port) is allowed
