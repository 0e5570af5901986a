"""Bounded HTTP(S) GETs to hosts derived from user input (autoconfig, ISPDB).

Why not a general HTTP client: every host name must be resolved through
:class:`mailport.adapters.dns.DnsResolver` (``MAILPORT_DNS_NAMESERVERS``) and every address
checked by the SSRF guard before connecting, and the TLS layer must still verify the certificate
against the *name*. So this module resolves, checks, connects to the IP and hands the name to TLS
(SNI + hostname check) and to the ``Host`` header. It is deliberately small:

- GET only, HTTP/1.1 with ``Connection: close``; ``Content-Length``, chunked or read-to-EOF bodies;
- a size cap on headers and body, one timeout for the whole exchange;
- redirects: at most 3, each hop resolved and checked again; from HTTPS only to HTTPS;
- TLS verified against the system CAs plus ``settings.ca_file``.

Trust: the SSRF guard protects against hosts a tenant or a domain supplies. A URL the *operator*
configured (``MAILPORT_ISPDB_URL``, e.g. a mirror on an internal address) is trusted: its origin
(scheme, host, port) may resolve to a private address. Only that exact origin — a redirect from it
to anywhere else, or any URL derived from user input, is checked as before.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from mailport.core.netpolicy import check_addresses
from mailport.errors import (
    NetworkError,
    ProtocolError,
    RemoteTimeout,
    TLSError,
    ValidationError,
)

if TYPE_CHECKING:
    from mailport.adapters.dns import Resolver
    from mailport.settings import Settings

__all__ = ["HttpFetcher", "HttpResponse", "open_checked_connection", "tls_context"]

MAX_BODY = 512 * 1024
MAX_HEADER = 32 * 1024
MAX_REDIRECTS = 3
USER_AGENT = "mailport-discovery/0.1"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes


@functools.lru_cache(maxsize=8)
def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """A verifying client context: system CAs plus ``ca_file`` (PEM) when given.

    Cached per ``ca_file``: loading the system store costs ~20 ms, and a client context is
    safe to share once configured (nobody mutates it after this function returns).
    """
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


async def open_checked_connection(
    host: str,
    port: int,
    *,
    resolver: Resolver,
    allow_private: bool,
    timeout: float,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Resolve ``host`` through ``resolver``, refuse non-public addresses (unless allowed), and
    connect to the first address that answers; with ``ssl_context`` the TLS handshake verifies
    the certificate against ``host``, not the IP.

    Raises :class:`NetworkError` (incl. :class:`HostNotAllowed`), :class:`RemoteTimeout` or
    :class:`TLSError`.
    """
    addresses = await resolver.resolve_addresses(host)
    check_addresses(addresses, allow_private=allow_private)
    last: BaseException | None = None
    for ip in addresses:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(
                    ip, port, ssl=ssl_context,
                    server_hostname=host if ssl_context is not None else None,
                ),
                timeout,
            )
        except ssl.SSLError as exc:  # includes SSLCertVerificationError
            raise TLSError(
                f"The secure connection to {host} failed: {exc.reason or exc}",
                code="tls.certificate_invalid" if isinstance(exc, ssl.SSLCertVerificationError)
                else "tls.handshake_failed",
                host=host, port=port,
            ) from exc
        except (TimeoutError, OSError) as exc:
            last = exc
    if isinstance(last, (asyncio.TimeoutError, TimeoutError)):
        raise RemoteTimeout(f"No answer from {host} on port {port}", host=host, port=port) from last
    raise NetworkError(f"Cannot connect to {host} on port {port}", host=host, port=port) from last


class HttpFetcher:
    """GETs small documents; returns any status (the caller decides what 404 means)."""

    def __init__(
        self,
        *,
        resolver: Resolver,
        allow_private: bool = False,
        ca_file: str = "",
        max_bytes: int = MAX_BODY,
        trusted_urls: Iterable[str] = (),
    ) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._trusted = frozenset(o for o in (_origin_key(u) for u in trusted_urls) if o is not None)
        self._context = tls_context(ca_file)
        self._max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Settings, *, resolver: Resolver) -> HttpFetcher:
        return cls(resolver=resolver, allow_private=settings.allow_private_hosts, ca_file=settings.ca_file,
                   trusted_urls=[settings.ispdb_url])

    async def get(self, url: str, *, timeout: float) -> HttpResponse:
        """GET ``url`` following safe redirects, all within ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self._get(url), timeout)
        except TimeoutError as exc:
            raise RemoteTimeout(f"No complete answer from {_origin(url)} in time", url=url) from exc

    async def _get(self, url: str) -> HttpResponse:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._once(current)
            location = response.headers.get("location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                return response
            target = urljoin(current, location)
            if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
                raise ProtocolError(
                    "An HTTPS address redirected to an insecure one", code="http.insecure_redirect", url=current
                )
            current = target
        raise ProtocolError("Too many redirects", code="http.too_many_redirects", url=url)

    async def _once(self, url: str) -> HttpResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f"Not an http(s) URL: {url!r}")
        if parts.username or parts.password:
            raise ValidationError("URLs with credentials are not fetched")
        host = parts.hostname
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        reader, writer = await open_checked_connection(
            host, port, resolver=self._resolver,
            allow_private=self._allow_private or (parts.scheme, host.lower(), port) in self._trusted,
            timeout=30.0, ssl_context=self._context if secure else None,
        )
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            host_header = host if parts.port is None else f"{host}:{parts.port}"
            request = (
                f"GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
                "Accept: application/xml, text/xml;q=0.9, */*;q=0.1\r\n"
                "Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
            )
            writer.write(request.encode("ascii"))
            await writer.drain()
            status, headers = await self._read_head(reader, url)
            body = await self._read_body(reader, headers, url)
            return HttpResponse(url=url, status=status, headers=headers, body=body)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise NetworkError(f"The connection to {host} broke off", url=url) from exc
        except ssl.SSLError as exc:
            raise TLSError(f"The secure connection to {host} failed", code="tls.handshake_failed") from exc
        finally:
            # Abort, not close: a TLS close waits for the peer's close_notify, and a server that
            # stopped answering would hold the caller past its deadline (we have read what we need).
            writer.transport.abort()

    async def _read_head(self, reader: asyncio.StreamReader, url: str) -> tuple[int, dict[str, str]]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise ProtocolError("The HTTP response header is too large", url=url) from exc
        if len(head) > MAX_HEADER:
            raise ProtocolError("The HTTP response header is too large", url=url)
        lines = head.decode("iso-8859-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit():
            raise ProtocolError("The server did not answer with HTTP", url=url)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return int(status_line[1]), headers

    async def _read_body(self, reader: asyncio.StreamReader, headers: Mapping[str, str], url: str) -> bytes:
        too_large = ProtocolError("The document is too large", code="http.too_large", url=url)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = bytearray()
            while True:
                size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError as exc:
                    raise ProtocolError("Malformed chunked body", url=url) from exc
                if size == 0:
                    return bytes(chunks)
                if len(chunks) + size > self._max_bytes:
                    raise too_large
                chunks += await reader.readexactly(size)
                await reader.readexactly(2)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise ProtocolError("Malformed Content-Length", url=url)
            if int(length) > self._max_bytes:
                raise too_large
            return await reader.readexactly(int(length))
        body = await reader.read(self._max_bytes + 1)
        while len(body) <= self._max_bytes:
            more = await reader.read(self._max_bytes + 1 - len(body))
            if not more:
                return body
            body += more
        raise too_large


def _origin_key(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) URL, the unit of operator trust."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
