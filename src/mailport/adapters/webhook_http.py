"""POSTing webhook deliveries to tenant-supplied URLs, behind the SSRF guard.

A webhook URL is typed in by a tenant, so it must not become a way into the operator's network:
the host is resolved through :class:`mailport.adapters.dns.DnsResolver`, every address is
checked by :mod:`mailport.core.netpolicy` (unless ``allow_private_hosts``), and the connection
goes to the checked IP while TLS still verifies the certificate against the name — the same path
as :mod:`mailport.adapters.http`, here for one small POST. Redirects are not followed: a
receiver that moved must be edited by its owner, not silently chased to a new host.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mailport.adapters.http import open_checked_connection, tls_context
from mailport.errors import NetworkError, ProtocolError, RemoteTimeout, TLSError, ValidationError

if TYPE_CHECKING:
    from mailport.adapters.dns import Resolver

__all__ = ["WebhookPoster", "WebhookResponse"]

USER_AGENT = "mailport-webhooks/0.1"
_MAX_HEAD = 16 * 1024
_MAX_BODY_READ = 4 * 1024  # the receiver's answer is logged in part, never processed


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int
    excerpt: str  # the start of the receiver's body, for the delivery log


class WebhookPoster:
    def __init__(self, *, resolver: Resolver, allow_private: bool, ca_file: str = "") -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._context = tls_context(ca_file)

    async def post(
        self, url: str, *, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> WebhookResponse:
        """POST ``body``; any HTTP status is returned, transport failures raise
        :class:`~mailport.errors.RemoteError` subclasses (``HostNotAllowed`` for the guard)."""
        try:
            return await asyncio.wait_for(self._post(url, body, headers, timeout), timeout)
        except TimeoutError as exc:
            raise RemoteTimeout("The webhook receiver did not answer in time", url=url) from exc

    async def _post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> WebhookResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError("a webhook URL must be http(s)", field="url")
        secure = parts.scheme == "https"
        host = parts.hostname
        port = parts.port or (443 if secure else 80)
        reader, writer = await open_checked_connection(
            host, port, resolver=self._resolver, allow_private=self._allow_private,
            timeout=timeout, ssl_context=self._context if secure else None,
        )
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            host_header = host if parts.port is None else f"{host}:{parts.port}"
            lines = [
                f"POST {target} HTTP/1.1",
                f"Host: {host_header}",
                f"User-Agent: {USER_AGENT}",
                f"Content-Length: {len(body)}",
                "Connection: close",
            ]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError as exc:
                raise ProtocolError("The webhook receiver's answer is too large", url=url) from exc
            if len(head) > _MAX_HEAD:
                raise ProtocolError("The webhook receiver's answer is too large", url=url)
            status_line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit():
                raise ProtocolError("The webhook receiver did not answer with HTTP", url=url)
            excerpt = b""
            try:
                excerpt = await asyncio.wait_for(reader.read(_MAX_BODY_READ), 1.0)
            except (TimeoutError, OSError):
                pass
            return WebhookResponse(
                status=int(status_line[1]), excerpt=excerpt.decode("utf-8", "replace")[:500]
            )
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise NetworkError(f"The connection to {host} broke off", url=url) from exc
        except ssl.SSLError as exc:
            raise TLSError(f"The secure connection to {host} failed", code="tls.handshake_failed") from exc
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass
