"""mailport's one HTTP client (httpx), and the SSRF-guarded transport for user-derived URLs.

Every HTTP request mailport makes goes through :func:`new_client`: discovery's autoconfig and ISPDB
fetches (:class:`HttpFetcher`), webhook deliveries (:mod:`mailport.adapters.webhook_http`), the
provider APIs (:mod:`mailport.adapters.provider_api`) and OAuth. TLS is verified against the
system CAs plus ``settings.ca_file``.

For hosts derived from user input (``guard=``), a stock client would resolve the name with the
system resolver and connect wherever it points. Instead :class:`GuardedBackend` (an httpcore
network backend under httpx's own transport) resolves the name once through
:class:`mailport.adapters.dns.DnsResolver` (``MAILPORT_DNS_NAMESERVERS``), refuses it unless every
address passes the SSRF guard (:mod:`mailport.core.netpolicy`), and connects to a checked address
— so a name cannot answer "public" to the check and "private" to the connect (DNS rebinding).
httpx still sends the *name* in ``Host`` and httpcore gives it to TLS (SNI and the certificate
check).

:class:`HttpFetcher` adds discovery's rules: GET only; a size cap on headers and body; one
deadline for the whole exchange; redirects at most 3, each hop resolved and checked again, from
HTTPS only to HTTPS.

Trust: the SSRF guard protects against hosts a tenant or a domain supplies. A URL the *operator*
configured (``MAILPORT_ISPDB_URL``, e.g. a mirror on an internal address) is trusted: its origin
(scheme, host, port) may resolve to a private address. Only that exact origin — a redirect from it
to anywhere else, or any URL derived from user input, is checked as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import ssl
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from mailport.core.netpolicy import AllowPrivate, check_addresses
from mailport.errors import (
    MailportError,
    NetworkError,
    ProtocolError,
    RemoteTimeout,
    TLSError,
    ValidationError,
)

if TYPE_CHECKING:
    from mailport.adapters.dns import Resolver
    from mailport.settings import Settings

__all__ = ["Guard", "GuardedBackend", "HttpFetcher", "HttpResponse", "new_client", "open_checked_connection",
           "tls_context", "translate_http_error"]

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
    allow_private: AllowPrivate,
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


# -- the guarded transport ------------------------------------------------------------------------

# Whether the request being sent may reach a private address (its origin is operator-trusted);
# set by GuardedTransport around each request, read by GuardedBackend when it connects.
_ALLOW_PRIVATE: contextvars.ContextVar[AllowPrivate | None] = contextvars.ContextVar("mailport_http_allow_private",
                                                                             default=None)


@dataclass(frozen=True, slots=True)
class Guard:
    """How a guarded client reaches hosts: through ``resolver``; private addresses only as
    ``allow_private`` says (``Settings.private_hosts``: none, the operator's networks, or all),
    and any for a ``trusted`` origin (the operator's own configured URLs)."""

    resolver: Resolver
    allow_private: AllowPrivate = False
    trusted: frozenset[tuple[str, str, int]] = frozenset()

    @classmethod
    def of(cls, resolver: Resolver, *, allow_private: AllowPrivate = False, trusted_urls: Iterable[str] = ()) -> Guard:
        return cls(resolver, allow_private,
                   frozenset(o for o in (_origin_key(u) for u in trusted_urls) if o is not None))

    def allows_private(self, url: httpx.URL) -> AllowPrivate:
        port = url.port or (443 if url.scheme == "https" else 80)
        return True if (url.scheme, url.host.lower(), port) in self.trusted else self.allow_private


class _TlsByName(httpcore.AsyncNetworkStream):
    """A stream connected to a checked IP; TLS failures become :class:`TLSError`."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, host: str, port: int) -> None:
        self._inner, self._host, self._port = inner, host, port

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            return _TlsByName(await self._inner.start_tls(ssl_context, server_hostname, timeout),
                              self._host, self._port)
        except (httpcore.ConnectError, httpcore.ConnectTimeout, ssl.SSLError) as exc:
            cause = exc if isinstance(exc, ssl.SSLError) else exc.__cause__ or exc.__context__
            if isinstance(exc, httpcore.ConnectTimeout):
                raise RemoteTimeout(f"No TLS handshake with {self._host} in time",
                                    host=self._host, port=self._port) from exc
            raise TLSError(
                f"The secure connection to {self._host} failed: {getattr(cause, 'reason', None) or cause or exc}",
                code="tls.certificate_invalid" if isinstance(cause, ssl.SSLCertVerificationError)
                else "tls.handshake_failed",
                host=self._host, port=self._port,
            ) from exc

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve once, check every address, connect to a checked one (see the module doc).

    ``inner`` does the connecting (httpcore's anyio backend; tests pass a recording one).
    """

    def __init__(self, guard: Guard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.resolver.resolve_addresses(host)
        allow = _ALLOW_PRIVATE.get()
        check_addresses(addresses, allow_private=self._guard.allow_private if allow is None else allow)
        last: BaseException | None = None
        for ip in addresses:
            try:
                stream = await self._inner.connect_tcp(ip, port, timeout=timeout, local_address=local_address,
                                                       socket_options=socket_options)
                return _TlsByName(stream, host, port)
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                last = exc
        if isinstance(last, (httpcore.ConnectTimeout, TimeoutError)):
            raise RemoteTimeout(f"No answer from {host} on port {port}", host=host, port=port) from last
        raise NetworkError(f"Cannot connect to {host} on port {port}", host=host, port=port) from last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise NetworkError("Unix sockets are not reached on a user's behalf")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a :class:`GuardedBackend`; each request's origin decides whether
    private addresses are allowed (operator-trusted origins)."""

    def __init__(self, guard: Guard, *, verify: ssl.SSLContext, keepalive: bool,
                 backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        super().__init__(verify=verify, trust_env=False)
        # httpx builds its httpcore pool without a way to name the network backend: replace it
        # with the same pool over ours (what AsyncHTTPTransport.__init__ builds for http/1.1).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify, max_connections=100, max_keepalive_connections=20 if keepalive else 0,
            keepalive_expiry=5.0, http1=True, http2=False,
            network_backend=GuardedBackend(guard, backend),
        )
        self._guard = guard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        token = _ALLOW_PRIVATE.set(self._guard.allows_private(request.url))
        try:
            return await super().handle_async_request(request)
        finally:
            _ALLOW_PRIVATE.reset(token)


def new_client(
    *,
    timeout: float,
    connect_timeout: float = 30.0,
    ca_file: str = "",
    guard: Guard | None = None,
    headers: Mapping[str, str] | None = None,
    keepalive: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
    backend: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
    """mailport's HTTP client: TLS verified (system CAs + ``ca_file``), no redirects followed (the
    caller decides). With ``guard`` the SSRF-guarded transport, and no proxy from the environment
    (a proxy would connect where the guard did not look); without, fixed provider hosts (Google,
    Microsoft), which may go through the environment's proxy. ``transport``: a test's
    ``httpx.MockTransport`` instead."""
    verify = tls_context(ca_file)
    if transport is None and guard is not None:
        transport = GuardedTransport(guard, verify=verify, keepalive=keepalive, backend=backend)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)), verify=verify,
        trust_env=guard is None,
        headers=dict(headers or {}), follow_redirects=False, transport=transport,
    )


def translate_http_error(exc: httpx.HTTPError, *, url: str, what: str) -> MailportError:
    """An httpx failure (one the guarded transport did not raise as a mailport error already)."""
    if isinstance(exc, httpx.TimeoutException):
        return RemoteTimeout(f"No complete answer from {what} in time", url=url)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError | httpx.DecodingError):
        return ProtocolError(f"{what} did not answer with valid HTTP", url=url)
    return NetworkError(f"The connection to {what} broke off", url=url)


# -- discovery's fetcher -------------------------------------------------------------------------

class HttpFetcher:
    """GETs small documents; returns any status (the caller decides what 404 means)."""

    def __init__(
        self,
        *,
        resolver: Resolver,
        allow_private: AllowPrivate = False,
        ca_file: str = "",
        max_bytes: int = MAX_BODY,
        trusted_urls: Iterable[str] = (),
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._guard = Guard.of(resolver, allow_private=allow_private, trusted_urls=trusted_urls)
        self._ca_file = ca_file
        self._max_bytes = max_bytes
        self._backend = backend

    @classmethod
    def from_settings(cls, settings: Settings, *, resolver: Resolver) -> HttpFetcher:
        return cls(resolver=resolver, allow_private=settings.private_hosts, ca_file=settings.ca_file,
                   trusted_urls=[settings.ispdb_url])

    async def get(self, url: str, *, timeout: float) -> HttpResponse:
        """GET ``url`` following safe redirects, all within ``timeout`` seconds."""
        try:
            async with new_client(timeout=30.0, ca_file=self._ca_file, guard=self._guard, keepalive=False,
                                  backend=self._backend, headers={
                                      "User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                                      "Accept": "application/xml, text/xml;q=0.9, */*;q=0.1"}) as client:
                return await asyncio.wait_for(self._get(client, url), timeout)
        except TimeoutError as exc:
            raise RemoteTimeout(f"No complete answer from {_origin(url)} in time", url=url) from exc

    async def _get(self, client: httpx.AsyncClient, url: str) -> HttpResponse:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._once(client, current)
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

    async def _once(self, client: httpx.AsyncClient, url: str) -> HttpResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f"Not an http(s) URL: {url!r}")
        if parts.username or parts.password:
            raise ValidationError("URLs with credentials are not fetched")
        too_large = ProtocolError("The document is too large", code="http.too_large", url=url)
        try:
            async with client.stream("GET", url) as response:
                if sum(len(k) + len(v) + 4 for k, v in response.headers.raw) > MAX_HEADER:
                    raise ProtocolError("The HTTP response header is too large", url=url)
                length = response.headers.get("content-length")
                if length is not None and length.isdigit() and int(length) > self._max_bytes:
                    raise too_large
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise too_large
                headers = {k.lower(): v for k, v in response.headers.items()}
                return HttpResponse(url=url, status=response.status_code, headers=headers, body=bytes(body))
        except httpx.HTTPError as exc:
            raise translate_http_error(exc, url=url, what=parts.hostname) from exc


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
