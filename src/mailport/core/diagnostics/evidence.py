"""What the classifier looks at (:class:`Evidence`), what it answers (:class:`Diagnosis`), and the
scrubbing that keeps credentials out of the server text we store and show."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

from mailport.core.diagnostics.catalog import Severity

__all__ = ["MAX_SERVER_TEXT", "Diagnosis", "Evidence", "scrub"]

MAX_SERVER_TEXT: Final = 2000
"""Longer server text is cut; the start of a reply is what explains it."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """What went wrong, as seen by an adapter.

    ``protocol``: ``smtp`` | ``imap`` | ``oauth`` | ``tls`` | ``dns`` | ``tcp`` | ``None``.
    ``stage``: ``connect``, ``greeting``, ``starttls``, ``tls``, ``ehlo``, ``auth``, ``login``,
    ``mail_from``, ``rcpt``, ``data``, ``select``, ``append``, ``token`` or ``None``.
    ``text``: the server's reply (multi-line joined with ``\\n``) or the exception message.
    ``exception``: the exception type name, e.g. ``SSLCertVerificationError``.
    ``auth_mechanism``: the SASL mechanism used when sign-in failed (``PLAIN``, ``LOGIN``,
    ``XOAUTH2``, ``OAUTHBEARER``); it tells a refused token from a refused password, which the
    reply alone often does not (Gmail answers ``535 5.7.8`` to both).
    """

    protocol: str | None = None
    stage: str | None = None
    smtp_code: int | None = None
    text: str = ""
    exception: str | None = None
    auth_mechanism: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A stable ``code`` (see :data:`~mailport.core.diagnostics.CODES`) and its context.

    ``provider`` is the advice variant (``gmail`` …) or ``None``; ``server_text`` the scrubbed
    evidence to show beside the explanation (``None`` if there was none).
    """

    code: str
    severity: Severity
    retryable: bool
    provider: str | None
    server_text: str | None


_REDACTED = "[redacted]"

# "AUTH PLAIN <b64>", "AUTH XOAUTH2 <b64>", "AUTHENTICATE PLAIN <b64>" echoed back in a log.
_AUTH_ARG = re.compile(
    r"(?i)\b(AUTH(?:ENTICATE)?\s+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5)\s+)\S+"
)
# IMAP "a1 LOGIN user secret" or "LOGIN \"user\" \"secret\"".
_IMAP_LOGIN = re.compile(
    r'(?im)^(\s*(?:C:\s*)?[A-Za-z0-9.]+\s+LOGIN\s+(?:"[^"]*"|\S+)\s+)(?:"(?:[^"\\]|\\.)*"|\S+)'
)
# AUTH LOGIN: the line after the server's "334 Username:"/"334 Password:" prompt is a secret.
_AUTH_LOGIN_ANSWER = re.compile(
    r"(?im)(334 (?:VXNlcm5hbWU6|UGFzc3dvcmQ6)[ \t]*\r?\n.*?)(\S+)[ \t]*$"
)
_BEARER = re.compile(r"(?i)\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_KEY_VALUE = re.compile(
    r"(?i)\b((?:access_token|refresh_token|id_token|client_secret|password|passwd|assertion)"
    r"\"?\s*[=:]\s*\"?)[^\s\"&,}]+"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_GOOGLE_TOKEN = re.compile(r"\b(?:ya29\.[A-Za-z0-9_\-.]{10,}|1//[A-Za-z0-9_-]{20,})")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{12,}={0,2}(?![A-Za-z0-9+/=])")


def _is_secret_blob(blob: str) -> bool:
    """A base64 blob that decodes to SASL credentials: PLAIN (``authz\\0user\\0pass``),
    XOAUTH2 (``user=…\\x01auth=Bearer …``) or OAUTHBEARER (``n,a=…``)."""
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    if raw.startswith((b"user=", b"n,a=", b"n,,")) or b"auth=bearer" in raw.lower():
        return True
    parts = raw.split(b"\x00")
    if len(parts) not in (2, 3) or not parts[-1]:
        return False
    try:
        decoded = [part.decode("utf-8") for part in parts]
    except UnicodeDecodeError:
        return False
    return all(part.isprintable() for part in decoded)


def scrub(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``.

    Server replies rarely hold secrets, but logs pasted into ``explain`` and some libraries'
    exception messages echo the client's AUTH line; those must never be stored or shown.
    Error challenges (base64 JSON without credentials) are kept: they explain the failure.
    """
    text = _AUTH_ARG.sub(lambda m: m.group(1) + _REDACTED, text)
    text = _IMAP_LOGIN.sub(lambda m: m.group(1) + _REDACTED, text)
    text = _AUTH_LOGIN_ANSWER.sub(lambda m: m.group(1) + _REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + _REDACTED, text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + _REDACTED, text)
    text = _JWT.sub(_REDACTED, text)
    text = _GOOGLE_TOKEN.sub(_REDACTED, text)
    text = _BASE64.sub(lambda m: _REDACTED if _is_secret_blob(m.group(0)) else m.group(0), text)
    if len(text) > MAX_SERVER_TEXT:
        text = text[:MAX_SERVER_TEXT] + "…"
    return text
