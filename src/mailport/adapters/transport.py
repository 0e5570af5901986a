"""What SMTP and IMAP share below the protocol: resolve, guard, connect, and diagnose failures.

A tenant-supplied host is resolved once, every address is checked by the SSRF guard
(:func:`mailport.core.netpolicy.check_addresses`) and only a checked address is connected to —
the TLS layer is then told the original host name (SNI and certificate checks), so a DNS answer
that changes between check and connect (rebinding) cannot steer us elsewhere.

Failures become :mod:`mailport.errors` here, each with the diagnosis code that
:func:`mailport.core.diagnostics.classify` assigns to the evidence (protocol, stage, reply, exception).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from typing import Literal, Protocol

from mailport.core.diagnostics import Evidence, classify, classify_exception, remote_error_class
from mailport.core.netpolicy import AllowPrivate, check_addresses
from mailport.core.secret import Secret
from mailport.errors import (
    NetworkError,
    RemoteError,
    RemoteTimeout,
)

__all__ = [
    "AddressResolver",
    "StageClock",
    "StageObserver",
    "connect_tcp",
    "diagnosed",
    "login_secrets",
    "resolve_checked",
    "scrub",
]

Protocol_ = Literal["smtp", "imap"]

StageObserver = Callable[[str, float], None]
"""Called as ``observer(stage, seconds)`` each time a connection stage completes."""


class AddressResolver(Protocol):
    """The part of :mod:`mailport.adapters.dns` the mail adapters need."""

    async def resolve_addresses(self, host: str) -> list[str]: ...


class StageClock:
    """Times consecutive stages and reports each finished one to an optional observer."""

    def __init__(self, observer: StageObserver | None) -> None:
        self._observer = observer
        self._started = time.monotonic()
        self.completed: list[tuple[str, float]] = []

    def restart(self) -> None:
        self._started = time.monotonic()

    def done(self, stage: str) -> None:
        now = time.monotonic()
        elapsed = now - self._started
        self._started = now
        self.completed.append((stage, elapsed))
        if self._observer is not None:
            self._observer(stage, elapsed)


def login_secrets(password: Secret | None, oauth_token: str | None) -> tuple[str, ...]:
    """What a login sends that no error text may show (each one :func:`scrub` replaces)."""
    return tuple(s for s in (password.reveal() if password else None, oauth_token) if s)


def scrub(text: str | None, *secrets: str | None) -> str | None:
    """``text`` with every given secret replaced — server replies can echo what we sent."""
    if text is None:
        return None
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "********")
    return text


# Our stage names ("smtp.tls") → the vocabulary of :class:`Evidence` ("tls").
_EVIDENCE_STAGE = {
    "tcp": "connect",
    "tls": "tls",
    "greeting": "greeting",
    "auth": "auth",
    "login": "login",
    "mail": "mail_from",
    "rcpt": "rcpt",
    "data": "data",
    "select": "select",
    "append": "append",
}


def diagnosed(
    error_class: type[RemoteError],
    message: str,
    *,
    protocol: Protocol_,
    stage: str,
    smtp_code: int | None = None,
    text: str | None = None,
    exception: BaseException | None = None,
    email: str | None = None,
    code: str | None = None,
    auth_mechanism: str | None = None,
) -> RemoteError:
    """The diagnosed error for this evidence (``code`` overrides the diagnosis).

    The class follows the code (:func:`remote_error_class`: every ``auth.*`` is a
    RemoteAuthError, every ``tls.*`` a TLSError …) so callers can catch by kind; codes without a
    kind of their own (``send.*``, ``unknown``) keep ``error_class``, what the adapter saw.
    ``auth_mechanism`` (``PLAIN``, ``XOAUTH2`` …) tells the classifier a token, not a password,
    was refused.

    ``text`` is what the *server* said; for failures without a reply the exception's own message
    is given to the classifier (it names e.g. ``WRONG_VERSION_NUMBER``) but not stored as
    ``server_text``.
    """
    suffix = stage.rpartition(".")[2]
    evidence_protocol = "dns" if suffix == "dns" else protocol
    evidence_stage = _EVIDENCE_STAGE.get(suffix)
    if text is None and exception is not None:
        # No server reply: judge the exception. Its message is not a greeting, so the stage
        # must not make the classifier read it as one ("wrong service").
        if evidence_stage in ("greeting", "connect"):
            evidence_stage = None
        diagnosis = classify_exception(
            exception,
            protocol=evidence_protocol,
            stage=evidence_stage,
            email=email,
            auth_mechanism=auth_mechanism,
        )
    else:
        evidence = Evidence(
            protocol=evidence_protocol,
            stage=evidence_stage,
            smtp_code=smtp_code,
            text=text or "",
            exception=type(exception).__name__ if exception is not None else None,
            auth_mechanism=auth_mechanism,
        )
        diagnosis = classify(evidence, email=email)
    final = code or diagnosis.code
    by_code = remote_error_class(final)
    return (error_class if by_code is RemoteError else by_code)(
        message,
        code=final,
        server_text=diagnosis.server_text if text is not None else None,
        smtp_code=smtp_code,
        stage=stage,
        retryable=diagnosis.retryable,
        provider=diagnosis.provider,
    )


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def resolve_checked(
    host: str,
    *,
    resolver: AddressResolver,
    allow_private: AllowPrivate,
    protocol: Protocol_,
    email: str | None = None,
) -> list[str]:
    """The addresses of ``host`` that the SSRF guard admits (all of them, or an error)."""
    stage = f"{protocol}.dns"
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = list(await resolver.resolve_addresses(host))
        except RemoteError as exc:
            exc.stage = stage  # the resolver says "dns"; callers report per protocol
            raise
        except OSError as exc:
            raise diagnosed(
                NetworkError,
                f"The host name {host!r} could not be resolved",
                protocol=protocol,
                stage=stage,
                exception=exc,
                email=email,
            ) from exc
    try:
        check_addresses(addresses, allow_private=allow_private)
    except RemoteError as exc:
        exc.stage = stage
        raise
    return addresses


async def connect_tcp(
    addresses: Iterable[str],
    port: int,
    *,
    timeout: float,
    protocol: Protocol_,
    host: str,
    email: str | None = None,
) -> socket.socket:
    """A connected non-blocking socket to the first address that answers.

    Tried in the resolver's order (which is the preference order). ``timeout`` bounds each
    attempt; a refused or unreachable address moves on to the next.
    """
    loop = asyncio.get_running_loop()
    stage = f"{protocol}.tcp"
    last: BaseException | None = None
    for ip in addresses:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (ip, port)), timeout)
        except (TimeoutError, OSError) as exc:
            sock.close()
            last = exc
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    if isinstance(last, (TimeoutError, asyncio.TimeoutError)):
        raise diagnosed(
            RemoteTimeout,
            f"No answer from {host} on port {port} (a firewall may block it)",
            protocol=protocol,
            stage=stage,
            exception=last,
            email=email,
        ) from last
    raise diagnosed(
        NetworkError,
        f"Cannot connect to {host} on port {port}",
        protocol=protocol,
        stage=stage,
        exception=last,
        email=email,
    ) from last


async def open_socket(
    *,
    host: str,
    port: int,
    protocol: Protocol_,
    resolver: AddressResolver,
    allow_private: AllowPrivate,
    timeout: float,
    clock: StageClock,
    email: str | None = None,
) -> tuple[list[str], socket.socket]:
    """The ``dns`` and ``tcp`` stages every mail connection starts with: resolve through our DNS,
    refuse private addresses (SSRF guard), connect — each stage timed on ``clock``."""
    addresses = await resolve_checked(
        host, resolver=resolver, protocol=protocol, allow_private=allow_private, email=email
    )
    clock.done(f"{protocol}.dns")
    sock = await connect_tcp(addresses, port, timeout=timeout, protocol=protocol, host=host, email=email)
    clock.done(f"{protocol}.tcp")
    return addresses, sock
