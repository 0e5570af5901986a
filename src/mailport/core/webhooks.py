"""Signing and verifying webhook deliveries — the Standard Webhooks scheme, pure.

Each POST carries the three headers of https://www.standardwebhooks.com (v1, symmetric)::

    webhook-id: evt_…                      the event id (receivers de-duplicate on it)
    webhook-timestamp: 1795435200          Unix seconds
    webhook-signature: v1,K5oZfzN95Z9U…    base64(HMAC-SHA256(key, f"{id}.{timestamp}." + body))

The key is the secret's base64 part (``whsec_<base64>``). During a secret rotation the sender
signs with every active secret, so the header holds several space-separated ``v1,…`` values
and a receiver that knows either the old or the new secret accepts it. The timestamp is inside
the MAC: a receiver refuses deliveries older (or newer) than its tolerance, which stops an
intercepted delivery from being replayed later.

Why the standard rather than a scheme of our own: receivers verify with the library of their
language (``standardwebhooks`` for Python, JavaScript, Go, …) or with
``mailport.client.webhooks.parse_event``, which uses this very module. A test checks both
directions against the ``standardwebhooks`` package.

Receiver side, in a few lines::

    verify(body=request_body, headers=request.headers, secrets=[my_secret], now=int(time.time()))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from mailport.core import netpolicy
from mailport.core.events import Event
from mailport.core.outbox import RetryPolicy
from mailport.errors import AuthError, HostNotAllowed, ValidationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_TYPE_HEADER",
    "HOST_NOT_ALLOWED",
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WEBHOOK_RETRY_POLICY",
    "check_webhook_url",
    "classify_delivery",
    "compute_signature",
    "delivery_request",
    "format_secret",
    "sign",
    "verify",
    "webhook_host_not_allowed",
    "webhook_port_allowed",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
EVENT_TYPE_HEADER = "Mailport-Event-Type"  # informational: lets receivers route before parsing
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
_MAX_ID = 256

Secret = str | bytes


def _key(secret: Secret) -> bytes:
    """The HMAC key: raw bytes as given, or the base64 part of a ``whsec_…`` string.

    Secrets made before the switch to the standard were URL-safe base64; they decode the same
    way here (a receiver's Standard Webhooks library needs a newly rotated secret for them)."""
    if isinstance(secret, bytes):
        key = bytes(secret)
    else:
        text = secret.removeprefix(SECRET_PREFIX).strip()
        try:
            key = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                                   validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("a webhook secret is whsec_ followed by base64", field="secret") from exc
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
    """A new endpoint secret from the caller's random bytes (at least 24): ``whsec_<base64>``."""
    if len(random_bytes) < 24:
        raise ValidationError("a webhook secret needs at least 24 random bytes", field="secret")
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")


def compute_signature(*, secret: Secret, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + ``base64(HMAC-SHA256(key, f"{message_id}.{timestamp}." + body))``."""
    content = f"{message_id}.{_seconds(timestamp)}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign(*, body: bytes, message_id: str, secrets: Sequence[Secret],
         timestamp: int | datetime) -> dict[str, str]:
    """The three Standard Webhooks headers, one ``v1`` signature per secret."""
    if isinstance(secrets, (str, bytes)):
        raise ValidationError("secrets is a list of secrets", field="secrets")
    if not secrets:
        raise ValidationError("at least one webhook secret is needed", field="secrets")
    if not message_id or len(message_id) > _MAX_ID or not message_id.isascii():
        raise ValidationError("a webhook message id is 1 to 256 ASCII characters", field="message_id")
    seconds = _seconds(timestamp)
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(seconds),
        SIGNATURE_HEADER: " ".join(compute_signature(secret=s, message_id=message_id, timestamp=seconds,
                                                     body=body) for s in secrets),
    }


def _refuse(message: str, code: str) -> AuthError:
    return AuthError(message, code=code)


def verify(
    *,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[Secret],
    now: int | datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> int:
    """Check a delivery's headers (any letter case); return its timestamp, or raise
    :class:`~mailport.errors.AuthError`.

    Codes: ``webhook.signature_missing``, ``webhook.signature_malformed``,
    ``webhook.timestamp_out_of_tolerance``, ``webhook.signature_mismatch``. Every ``v1`` is
    compared with every secret in constant time; other versions (``v1a`` asymmetric, a future
    ``v2``) are ignored so that senders can add schemes without breaking receivers.
    """
    if isinstance(secrets, (str, bytes)):
        raise ValidationError("secrets is a list of secrets", field="secrets")
    keys = [_key(secret) for secret in secrets]
    if not keys:
        raise ValidationError("at least one webhook secret is needed", field="secrets")
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get(ID_HEADER, "")
    stamp = lowered.get(TIMESTAMP_HEADER, "")
    signature = lowered.get(SIGNATURE_HEADER, "")
    if not (message_id and stamp and signature):
        raise _refuse("the webhook-id, webhook-timestamp and webhook-signature headers are required",
                      "webhook.signature_missing")
    if max(len(message_id), len(stamp), len(signature)) > _MAX_HEADER or len(message_id) > _MAX_ID:
        raise _refuse("a signature header is too long", "webhook.signature_malformed")
    if not stamp.isascii() or not stamp.isdigit():
        raise _refuse("webhook-timestamp must be a Unix time", "webhook.signature_malformed")
    candidates = [value for version, sep, value in (item.partition(",") for item in signature.split())
                  if sep and version == "v1"]
    if not candidates or len(candidates) > _MAX_SIGNATURES:
        raise _refuse("webhook-signature needs v1 signatures", "webhook.signature_malformed")

    timestamp = int(stamp)
    if abs(_seconds(now) - timestamp) > tolerance.total_seconds():
        raise _refuse(
            "the delivery's timestamp is outside the tolerance window",
            "webhook.timestamp_out_of_tolerance",
        )
    content = f"{message_id}.{timestamp}.".encode() + body
    expected = [base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()) for key in keys]
    matched = False
    # No early exit: the time taken does not tell which candidate or secret matched.
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode("ascii", "replace"), digest)
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
        **sign(body=body, message_id=event.id, secrets=secrets, timestamp=timestamp),
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


# -- which URLs a webhook may be delivered to ------------------------------------------------

MAX_URL_LENGTH = 2000
# Ports a browser refuses to fetch because other protocols listen there (the Fetch standard's
# "bad ports", those at or above 1024): a POST's first lines must not become commands to them.
_BAD_HIGH_PORTS = frozenset({1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666,
                             6667, 6668, 6669, 6679, 6697, 10080})


def webhook_port_allowed(port: int) -> bool:
    """443 and 80, or an unprivileged port (1024–65535) that is not on the Fetch standard's
    bad-port list. Below 1024 live SMTP, SSH, IMAP, LDAP… — never a web app's receiver."""
    if port in (80, 443):
        return True
    return 1024 <= port <= 65535 and port not in _BAD_HIGH_PORTS


def check_webhook_url(url: str, *, allow_private: netpolicy.AllowPrivate) -> str:
    """The rule a webhook URL must meet, at registration and again before every delivery (a row
    saved under an older rule, or edited in the database, is not trusted): returns it stripped.

    - ``https://``; ``http://`` only when ``allow_private`` is ``True`` (``MAILPORT_ALLOW_PRIVATE_HOSTS``,
      a lab setting; not with the operator's :class:`~mailport.core.netpolicy.PrivateNetworks`) —
      events carry customers' addresses and are signed, not encrypted;
    - no user name or password in the URL (it would be logged and sent to every redirect target);
    - a port :func:`webhook_port_allowed` admits;
    - a host :func:`mailport.core.netpolicy.check_host` admits: no IP literal of a private network
      (in any spelling), no ``localhost`` or private-use suffix, no single-label name.

    Names are judged by their addresses at each delivery too (DNS rebinding): the poster resolves,
    checks every address and connects to a checked one. Raises :class:`ValidationError`
    (``webhook.url_invalid``) or :class:`~mailport.errors.HostNotAllowed` (``webhook.host_not_allowed``).
    """
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("a webhook URL is required", field="url")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValidationError("the webhook URL is too long or contains spaces or control characters",
                              field="url", code="webhook.url_invalid")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError("the webhook URL is not valid", field="url", code="webhook.url_invalid") from exc
    allowed = ("https", "http") if allow_private is True else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise ValidationError("a webhook URL must start with https://", field="url", code="webhook.url_invalid")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError("a webhook URL must not contain credentials", field="url",
                              code="webhook.url_invalid")
    if port is not None and not webhook_port_allowed(port):
        raise ValidationError(
            "a webhook URL's port must be 443, 80 or one from 1024 to 65535 that no other protocol uses",
            field="url", code="webhook.url_invalid")
    try:
        netpolicy.check_host(parts.hostname, allow_private=allow_private)
    except HostNotAllowed as exc:
        # The network rule is the mail servers' one, but its words ("this server address…",
        # "your email provider's help pages") would mislead whoever registers a webhook.
        raise webhook_host_not_allowed(exc) from exc
    return url


HOST_NOT_ALLOWED = "webhook.host_not_allowed"
"""The code of a webhook URL whose host is refused (its own title and steps in the diagnostics
catalog); the mail servers' refusal is ``net.host_not_allowed``."""


def webhook_host_not_allowed(exc: HostNotAllowed) -> HostNotAllowed:
    """``exc`` (the network rule's refusal of a host) said about a webhook URL: the same class,
    so it is still a refused host to every caller, with the webhook's code and words."""
    refused = HostNotAllowed(
        "The webhook URL's host is in a local, private or loopback network, or is not a public host name; "
        "events are only sent to public addresses",
        code=HOST_NOT_ALLOWED, address=exc.address)
    refused.field = "url"
    return refused
