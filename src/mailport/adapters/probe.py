"""Probing the usual IMAP/SMTP host names and ports: TLS handshake and greeting, nothing more.

A probe connects (through the DNS adapter and the SSRF guard), completes TLS — implicit, or
STARTTLS after the greeting — and checks that the server speaks the expected protocol. It never
sends credentials or mail: the last thing it sends is ``LOGOUT`` / ``QUIT``.

A server whose certificate does not verify for the probed name counts as *not found*: settings
that would fail the connection test are worse than none (the user can still enter them by hand
and pin the certificate).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailport.adapters.http import open_checked_connection, tls_context
from mailport.core.discovery import ProbeTarget
from mailport.core.netpolicy import AllowPrivate
from mailport.errors import MailportError, ProtocolError, RemoteTimeout, TLSError

if TYPE_CHECKING:
    from mailport.adapters.dns import Resolver
    from mailport.settings import Settings

__all__ = ["ProbeOutcome", "Prober"]

_MAX_LINE = 4096
_EHLO_NAME = "mailport.invalid"


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    target: ProbeTarget
    ok: bool
    code: str = ""  # the error code when not ok (``net.connection_refused``, ``tls.…`` …)


class Prober:
    """Checks one :class:`ProbeTarget` at a time; safe to run many concurrently."""

    def __init__(self, *, resolver: Resolver, allow_private: AllowPrivate = False, ca_file: str = "") -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._context = tls_context(ca_file)

    @classmethod
    def from_settings(cls, settings: Settings, *, resolver: Resolver) -> Prober:
        return cls(resolver=resolver, allow_private=settings.private_hosts, ca_file=settings.ca_file)

    async def probe(self, target: ProbeTarget, *, timeout: float) -> ProbeOutcome:
        """Whether a verified TLS server of the right protocol answers at ``target``."""
        try:
            await asyncio.wait_for(self._probe(target), timeout)
        except TimeoutError:
            return ProbeOutcome(target, False, RemoteTimeout.code)
        except MailportError as exc:
            return ProbeOutcome(target, False, exc.code)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return ProbeOutcome(target, False, ProtocolError.code)
        return ProbeOutcome(target, True)

    async def _probe(self, target: ProbeTarget) -> None:
        implicit = target.security == "tls"
        reader, writer = await open_checked_connection(
            target.host, target.port, resolver=self._resolver, allow_private=self._allow_private,
            timeout=30.0, ssl_context=self._context if implicit else None,
        )
        try:
            if target.kind == "imap":
                await self._imap(reader, writer, target, implicit=implicit)
            else:
                await self._smtp(reader, writer, target, implicit=implicit)
        finally:
            # Abort, not close: a TLS close waits for the peer's close_notify, and a server that
            # stopped answering would hold the caller past its deadline (we have read what we need).
            writer.transport.abort()

    async def _imap(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: ProbeTarget, *, implicit: bool
    ) -> None:
        greeting = await _line(reader)
        if not greeting.startswith(("* OK", "* PREAUTH")):
            raise ProtocolError("Not an IMAP server", server_text=greeting[:200])
        if not implicit:
            writer.write(b"p1 STARTTLS\r\n")
            await writer.drain()
            while True:
                line = await _line(reader)
                if line.startswith("p1 "):
                    break
            if not line.upper().startswith("P1 OK"):
                raise ProtocolError("The IMAP server refused STARTTLS", code="tls.starttls_unavailable",
                                    server_text=line[:200])
            await self._upgrade(writer, target)
        writer.write(b"p2 LOGOUT\r\n")
        await writer.drain()

    async def _smtp(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: ProbeTarget, *, implicit: bool
    ) -> None:
        code, lines = await _reply(reader)
        if code != 220:
            raise ProtocolError("Not an SMTP server", server_text=" ".join(lines)[:200])
        if not implicit:
            writer.write(f"EHLO {_EHLO_NAME}\r\n".encode())
            await writer.drain()
            code, lines = await _reply(reader)
            if code != 250 or not any(line[4:].upper().startswith("STARTTLS") for line in lines):
                raise ProtocolError("The SMTP server offers no STARTTLS", code="tls.starttls_unavailable")
            writer.write(b"STARTTLS\r\n")
            await writer.drain()
            code, lines = await _reply(reader)
            if code != 220:
                raise ProtocolError("The SMTP server refused STARTTLS", code="tls.starttls_unavailable",
                                    server_text=" ".join(lines)[:200])
            await self._upgrade(writer, target)
        writer.write(b"QUIT\r\n")
        await writer.drain()

    async def _upgrade(self, writer: asyncio.StreamWriter, target: ProbeTarget) -> None:
        try:
            await writer.start_tls(self._context, server_hostname=target.host)
        except ssl.SSLError as exc:
            raise TLSError(
                f"The secure connection to {target.host} failed",
                code="tls.certificate_invalid" if isinstance(exc, ssl.SSLCertVerificationError)
                else "tls.handshake_failed",
            ) from exc


async def _line(reader: asyncio.StreamReader) -> str:
    raw = await reader.readline()
    if not raw:
        raise ProtocolError("The server closed the connection")
    if len(raw) > _MAX_LINE:
        raise ProtocolError("The server sent an overlong line")
    return raw.decode("utf-8", "replace").rstrip("\r\n")


async def _reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """One SMTP reply: its code and lines (multi-line ``250-…``/``250 …`` joined)."""
    lines: list[str] = []
    while True:
        line = await _line(reader)
        lines.append(line)
        if len(line) < 3 or not line[:3].isdigit():
            return 0, lines
        if len(line) == 3 or line[3] != "-":
            return int(line[:3]), lines
        if len(lines) > 100:
            raise ProtocolError("The server sent an overlong reply")
