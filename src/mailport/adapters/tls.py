"""Client TLS contexts for SMTP and IMAP: full verification, or an explicit certificate pin.

Without a pin the server's chain is verified against the system's CAs plus ``settings.ca_file``,
and the host name is checked. With a pin — a SHA-256 fingerprint of the leaf certificate the user
explicitly accepted (self-signed on-premises servers) — chain and host name are *not* checked by
OpenSSL; instead :func:`check_pin` compares the presented leaf after the handshake. Python's
``ssl`` has no verify callback, which is why the pin is checked by the adapter right after the
handshake and before a single byte (credentials!) is sent.

A handshake that fails is translated here for both protocols (:func:`handshake_failed`): what
OpenSSL refused becomes a :class:`TLSError` with its diagnosis, and a certificate that did not
verify comes with the fingerprint of the one the server presents — what the user would pin.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import ssl
from collections.abc import Awaitable, Callable, Iterable

from mailport.adapters.transport import Protocol_, diagnosed
from mailport.core.verification import Endpoint
from mailport.errors import NetworkError, ProtocolError, RemoteError, RemoteTimeout, TLSError, ValidationError

__all__ = [
    "PROBE_TIMEOUT",
    "certificate_fingerprint",
    "check_pin",
    "client_context",
    "handshake_failed",
    "normalize_fingerprint",
    "peer_fingerprint",
    "shared_client_context",
    "tls_probe",
    "unverified_context",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def normalize_fingerprint(value: str) -> str:
    """``AB:CD:…`` / ``abcd…`` / with ``sha256:`` prefix or spaces → 64 lowercase hex digits.

    Raises :class:`ValidationError` for anything that is not a SHA-256 fingerprint.
    """
    text = value.strip().lower()
    if text.startswith(("sha256:", "sha256/")):
        text = text[7:]
    text = re.sub(r"[\s:\-]", "", text)
    if not _HEX64.fullmatch(text):
        raise ValidationError(
            "A certificate pin must be a SHA-256 fingerprint: 64 hexadecimal digits, colons allowed",
            code="request.invalid_pin",
        )
    return text


def certificate_fingerprint(der: bytes) -> str:
    """SHA-256 fingerprint of a DER certificate, as 64 lowercase hex digits."""
    return hashlib.sha256(der).hexdigest()


def client_context(*, ca_file: str | None, pin_sha256: str | None) -> ssl.SSLContext:
    """An SSL context for connecting to a mail server (shared: contexts are reusable).

    ``pin_sha256`` switches chain and host-name verification off; the caller must then call
    :func:`check_pin` on the connection before using it.
    """
    return _client_context(ca_file, normalize_fingerprint(pin_sha256) if pin_sha256 else None)


@functools.lru_cache(maxsize=256)
def _client_context(ca_file: str | None, pin_sha256: str | None) -> ssl.SSLContext:
    # Loading the system trust store costs tens of milliseconds of CPU; a worker opening
    # hundreds of connections must not pay it each time (it showed as the top frame in py-spy).
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if pin_sha256:
        normalize_fingerprint(pin_sha256)  # refuse a malformed pin before connecting
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TLSError(
                f"cannot load the CA file configured in MAILPORT_CA_FILE: {exc.__class__.__name__}",
                code="config.ca_file",
            ) from exc
    return context


@functools.lru_cache(maxsize=64)
def shared_client_context(*, ca_file: str | None, pin_sha256: str | None) -> ssl.SSLContext:
    """:func:`client_context`, one per (CA file, pin) for the process: a context holds the whole
    trust store (hundreds of KiB), which thousands of idle connections must not each load."""
    return client_context(ca_file=ca_file, pin_sha256=pin_sha256)


def peer_fingerprint(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str | None:
    """The SHA-256 fingerprint of the certificate the peer presented, if any."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return certificate_fingerprint(der) if der else None


def check_pin(
    ssl_object: ssl.SSLObject | ssl.SSLSocket | None, *, pin_sha256: str, stage: str
) -> None:
    """Raise :class:`TLSError` unless the peer's leaf certificate matches the pin.

    The code is ``tls.certificate_invalid`` (the user-facing advice is the same) with
    ``reason="pin_mismatch"`` and the presented fingerprint in the error's fields.
    """
    expected = normalize_fingerprint(pin_sha256)
    actual = peer_fingerprint(ssl_object)
    if actual != expected:
        raise TLSError(
            "The server's certificate does not match the pinned fingerprint",
            code="tls.certificate_invalid",
            stage=stage,
            reason="pin_mismatch",
            certificate_sha256=actual,
        )


def unverified_context() -> ssl.SSLContext:
    """A context that checks nothing: only for reading the certificate a server presents once
    verification failed (or for telling TLS from plain text), never for a connection that
    carries anything of ours."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


PROBE_TIMEOUT = 5.0
"""The most a second connection after a failure may take (:func:`tls_probe`, the protocols'
STARTTLS fingerprint reads): it only explains a failure, so it never waits a whole connect timeout."""


async def tls_probe(
    addresses: Iterable[str], endpoint: Endpoint, *, timeout: float
) -> str | None:
    """If ``endpoint``'s port completes a TLS handshake right after connecting, the certificate's
    fingerprint (waiting at most ``timeout``, capped at :data:`PROBE_TIMEOUT`).

    Used after a failure to tell two stories apart: a server silent in plain text that is really
    waiting for a TLS ClientHello (``security`` set to STARTTLS on an implicit-TLS port), and a
    server that never greets at all. Nothing is verified and nothing is sent but the handshake.
    """
    timeout = min(timeout, PROBE_TIMEOUT)
    context = unverified_context()
    for ip in list(addresses)[:1]:
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    ip, endpoint.port, ssl=context, server_hostname=endpoint.ascii_host,
                    ssl_handshake_timeout=timeout,
                ),
                timeout,
            )
        except (TimeoutError, OSError, ssl.SSLError):
            return None
        try:
            return peer_fingerprint(writer.get_extra_info("ssl_object")) or ""
        finally:
            writer.close()
    return None


async def handshake_failed(
    exc: BaseException,
    *,
    message: str,
    protocol: Protocol_,
    stage: str,
    email: str | None,
    presented: Callable[[], Awaitable[str | None]],
) -> RemoteError:
    """The diagnosed error for a TLS handshake (implicit or STARTTLS) that failed with ``exc``.

    What OpenSSL refused is a :class:`TLSError`, a timeout a :class:`RemoteTimeout`, a dropped
    connection a :class:`NetworkError` (anything else: the server did not speak as expected).
    When the certificate did not verify, ``certificate_sha256`` is what ``presented()`` reads over
    a second, unverified connection — the protocol's own way there (STARTTLS differs per
    protocol) — so the user is shown which certificate they would be pinning.
    """
    error_class: type[RemoteError]
    if isinstance(exc, ssl.SSLError):
        error_class = TLSError
    elif isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        error_class = RemoteTimeout
    elif isinstance(exc, OSError):
        error_class = NetworkError
    else:
        error_class = ProtocolError
    error = diagnosed(error_class, message, protocol=protocol, stage=stage, exception=exc, email=email)
    if isinstance(error, TLSError) and error.code == "tls.certificate_invalid":
        error.certificate_sha256 = await presented()
    return error
