"""Signing and verifying webhook deliveries — pure, so receivers can use the same code.

Each POST carries the header::

    Mailport-Signature: t=1795435200,v1=5257a869…

where ``v1`` is ``hex(HMAC-SHA256(secret, f"{t}.".encode() + body))`` over the exact body bytes.
During a secret rotation the sender signs with every active secret, so the header holds several
``v1`` values and a receiver that knows either the old or the new secret accepts it. The
timestamp is inside the MAC: a receiver refuses deliveries older (or newer) than its tolerance,
which stops an intercepted delivery from being replayed later.

Receiver side, in a few lines::

    verify(body=request_body, header=request.headers["Mailport-Signature"],
           secrets=[my_secret], now=int(time.time()))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from mailport.core.events import Event
from mailport.core.outbox import RetryPolicy
from mailport.errors import AuthError, ValidationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "WEBHOOK_RETRY_POLICY",
    "classify_delivery",
    "compute_signature",
    "delivery_request",
    "format_secret",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "Mailport-Signature"
EVENT_ID_HEADER = "Mailport-Event-Id"
EVENT_TYPE_HEADER = "Mailport-Event-Type"
DEFAULT_TOLERANCE = timedelta(minutes=5)
SECRET_PREFIX = "whsec_"
# Webhook receivers are web apps: retry quicker than mail, and give up after 3 days.
WEBHOOK_RETRY_POLICY = RetryPolicy(
    min_delay=timedelta(seconds=10),
    max_delay=timedelta(hours=1),
    multiplier=3.0,
    give_up_after=timedelta(days=3),
)
_MAX_HEADER = 4096
_MAX_SIGNATURES = 8
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")

Secret = str | bytes


def _key(secret: Secret) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValidationError("a webhook secret must not be empty", field="secret")
    return key


def _seconds(moment: int | datetime) -> int:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValidationError("times must be timezone-aware", field="timestamp")
        return int(moment.timestamp())
    if isinstance(moment, bool) or not isinstance(moment, int) or moment < 0:
        raise ValidationError("a timestamp is a non-negative Unix time", field="timestamp")
    return moment


def format_secret(random_bytes: bytes) -> str:
    """A new endpoint secret from the caller's random bytes (at least 24): ``whsec_…``."""
    if len(random_bytes) < 24:
        raise ValidationError("a webhook secret needs at least 24 random bytes", field="secret")
    return SECRET_PREFIX + base64.urlsafe_b64encode(random_bytes).decode("ascii").rstrip("=")


def compute_signature(*, secret: Secret, timestamp: int, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, f"{timestamp}." + body))``."""
    message = f"{_seconds(timestamp)}.".encode("ascii") + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(*, body: bytes, secrets: Sequence[Secret], timestamp: int | datetime) -> str:
    """The ``Mailport-Signature`` value: ``t=<unix>,v1=<hex>[,v1=<hex>…]``, one v1 per secret."""
    if isinstance(secrets, (str, bytes)):
        raise ValidationError("secrets is a list of secrets", field="secrets")
    if not secrets:
        raise ValidationError("at least one webhook secret is needed", field="secrets")
    seconds = _seconds(timestamp)
    parts = [f"t={seconds}"]
    parts += [f"v1={compute_signature(secret=s, timestamp=seconds, body=body)}" for s in secrets]
    return ",".join(parts)


def _refuse(message: str, code: str) -> AuthError:
    return AuthError(message, code=code)


def verify(
    *,
    body: bytes,
    header: str | None,
    secrets: Sequence[Secret],
    now: int | datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> int:
    """Check a delivery; return its timestamp, or raise :class:`~mailport.errors.AuthError`.

    Codes: ``webhook.signature_missing``, ``webhook.signature_malformed``,
    ``webhook.timestamp_out_of_tolerance``, ``webhook.signature_mismatch``. Every ``v1`` is
    compared with every secret in constant time; unknown schemes (``v0``, a future ``v2``) are
    ignored so that senders can add schemes without breaking receivers.
    """
    if isinstance(secrets, (str, bytes)):
        raise ValidationError("secrets is a list of secrets", field="secrets")
    keys = [_key(secret) for secret in secrets]
    if not keys:
        raise ValidationError("at least one webhook secret is needed", field="secrets")
    if not header:
        raise _refuse(f"the {SIGNATURE_HEADER} header is missing", "webhook.signature_missing")
    if len(header) > _MAX_HEADER:
        raise _refuse("the signature header is too long", "webhook.signature_malformed")

    timestamps: list[str] = []
    candidates: list[str] = []
    for item in header.split(","):
        scheme, sep, value = item.strip().partition("=")
        if not sep:
            raise _refuse("the signature header is malformed", "webhook.signature_malformed")
        if scheme == "t":
            timestamps.append(value)
        elif scheme == "v1":
            candidates.append(value.lower())
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        raise _refuse("the signature header needs one t=<unix time>", "webhook.signature_malformed")
    if not candidates or len(candidates) > _MAX_SIGNATURES:
        raise _refuse("the signature header needs v1 signatures", "webhook.signature_malformed")

    timestamp = int(timestamps[0])
    if abs(_seconds(now) - timestamp) > tolerance.total_seconds():
        raise _refuse(
            "the delivery's timestamp is outside the tolerance window",
            "webhook.timestamp_out_of_tolerance",
        )
    message = f"{timestamp}.".encode("ascii") + body
    expected = [hmac.new(key, message, hashlib.sha256).hexdigest() for key in keys]
    matched = False
    # No early exit: the time taken does not tell which candidate or secret matched.
    for candidate in candidates:
        if not _HEX_SIGNATURE.fullmatch(candidate):
            continue
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise _refuse("no signature matches", "webhook.signature_mismatch")
    return timestamp


def delivery_request(
    event: Event, *, secrets: Sequence[Secret], timestamp: int | datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery of ``event`` (the sender's side)."""
    body = event.to_json()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body=body, secrets=secrets, timestamp=timestamp),
        EVENT_ID_HEADER: event.id,
        EVENT_TYPE_HEADER: event.type.value,
    }
    return body, headers


def classify_delivery(status_code: int | None) -> Literal["delivered", "retry", "gone"]:
    """What a receiver's HTTP answer means: 2xx delivered; 410 the endpoint is gone (disable it);
    anything else — including no answer (``None``), redirects and 4xx — is retried, because a
    receiver mid-deploy answers 404 or 500 for a minute and must not lose events."""
    if status_code is None:
        return "retry"
    if 200 <= status_code < 300:
        return "delivered"
    if status_code == 410:
        return "gone"
    return "retry"
