"""The bounded HTTP fetcher against raw loopback servers: TLS by name, redirects, size caps, SSRF."""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from discovery_fixtures import NamedCA

from mailport.adapters.dns import DnsResolver
from mailport.adapters.http import HttpFetcher
from mailport.errors import HostNotAllowed, ProtocolError, RemoteTimeout, TLSError

Responder = Callable[[str], bytes]


@pytest.fixture(scope="module")
def ca() -> NamedCA:
    return NamedCA(Path(tempfile.mkdtemp(prefix="mailport-http-ca-")), ["web.test", "*.web.test"])


class RawServer:
    """Answers each request with ``responder(request_head)``; records the heads."""

    def __init__(self, responder: Responder, context: ssl.SSLContext | None) -> None:
        self.responder = responder
        self.context = context
        self.heads: list[str] = []
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            self.heads.append(head)
            writer.write(self.responder(head))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def serve(ca: NamedCA) -> AsyncIterator[Callable[..., object]]:
    servers: list[RawServer] = []

    async def start(responder: Responder, *, tls: bool = True) -> RawServer:
        server = await RawServer(responder, ca.server_context() if tls else None).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
def resolver(dns_lab) -> DnsResolver:  # type: ignore[no-untyped-def]
    dns_lab.load_zone("a.web.test. 300 A 127.0.0.1\nb.web.test. 300 A 127.0.0.1\n")
    return DnsResolver(nameservers=[dns_lab.nameserver], timeout=2.0)


def ok(body: bytes, extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def test_https_by_name_through_the_dns_adapter(serve, resolver, ca: NamedCA) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda head: ok(b"<clientConfig/>"))
    fetcher = HttpFetcher(resolver=resolver, allow_private=True, ca_file=str(ca.ca_pem_path))
    response = await fetcher.get(f"https://a.web.test:{server.port}/mail/x.xml?emailaddress=a@b.test", timeout=5)
    assert response.status == 200 and response.body == b"<clientConfig/>"
    head = server.heads[0]
    assert head.startswith("GET /mail/x.xml?emailaddress=a@b.test HTTP/1.1\r\n")
    assert f"Host: a.web.test:{server.port}\r\n" in head


async def test_certificate_not_trusted_without_the_ca(serve, resolver) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda head: ok(b"x"))
    fetcher = HttpFetcher(resolver=resolver, allow_private=True)
    with pytest.raises(TLSError) as err:
        await fetcher.get(f"https://a.web.test:{server.port}/", timeout=5)
    assert err.value.code == "tls.certificate_invalid"


async def test_private_address_refused(serve, resolver, ca: NamedCA) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda head: ok(b"x"))
    fetcher = HttpFetcher(resolver=resolver, allow_private=False, ca_file=str(ca.ca_pem_path))
    with pytest.raises(HostNotAllowed):
        await fetcher.get(f"https://a.web.test:{server.port}/", timeout=5)
    assert server.heads == []


async def test_chunked_body(serve, resolver) -> None:  # type: ignore[no-untyped-def]
    body = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"
    server = await serve(lambda head: body, tls=False)
    fetcher = HttpFetcher(resolver=resolver, allow_private=True)
    response = await fetcher.get(f"http://a.web.test:{server.port}/", timeout=5)
    assert response.body == b"hello world"


async def test_read_to_eof_body(serve, resolver) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda head: b"HTTP/1.1 404 Not Found\r\n\r\nnope", tls=False)
    response = await HttpFetcher(resolver=resolver, allow_private=True).get(
        f"http://a.web.test:{server.port}/", timeout=5)
    assert (response.status, response.body) == (404, b"nope")


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_body_refused(serve, resolver, chunked: bool) -> None:  # type: ignore[no-untyped-def]
    big = b"x" * 5000
    if chunked:
        reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n" + big + b"\r\n0\r\n\r\n"
    else:
        reply = ok(big)
    server = await serve(lambda head: reply, tls=False)
    fetcher = HttpFetcher(resolver=resolver, allow_private=True, max_bytes=4096)
    with pytest.raises(ProtocolError) as err:
        await fetcher.get(f"http://a.web.test:{server.port}/", timeout=5)
    assert err.value.code == "http.too_large"


async def test_redirects_followed_and_rechecked(serve, resolver, ca: NamedCA) -> None:  # type: ignore[no-untyped-def]
    target = await serve(lambda head: ok(b"final"))
    first = await serve(
        lambda head: f"HTTP/1.1 302 Found\r\nLocation: https://b.web.test:{target.port}/there\r\nContent-Length: 0\r\n\r\n".encode()
    )
    fetcher = HttpFetcher(resolver=resolver, allow_private=True, ca_file=str(ca.ca_pem_path))
    response = await fetcher.get(f"https://a.web.test:{first.port}/", timeout=5)
    assert response.body == b"final" and response.url.endswith("/there")
    assert "Host: b.web.test" in target.heads[0]


async def test_https_to_http_redirect_refused(serve, resolver, ca: NamedCA) -> None:  # type: ignore[no-untyped-def]
    plain = await serve(lambda head: ok(b"downgraded"), tls=False)
    first = await serve(
        lambda head: f"HTTP/1.1 301 Moved\r\nLocation: http://b.web.test:{plain.port}/\r\nContent-Length: 0\r\n\r\n".encode()
    )
    fetcher = HttpFetcher(resolver=resolver, allow_private=True, ca_file=str(ca.ca_pem_path))
    with pytest.raises(ProtocolError) as err:
        await fetcher.get(f"https://a.web.test:{first.port}/", timeout=5)
    assert err.value.code == "http.insecure_redirect"
    assert plain.heads == []


async def test_redirect_loop_stops(serve, resolver) -> None:  # type: ignore[no-untyped-def]
    loop = await serve(lambda head: b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n", tls=False)
    fetcher = HttpFetcher(resolver=resolver, allow_private=True)
    with pytest.raises(ProtocolError) as err:
        await fetcher.get(f"http://a.web.test:{loop.port}/", timeout=5)
    assert err.value.code == "http.too_many_redirects"
    assert len(loop.heads) == 4


async def test_silent_server_times_out(resolver) -> None:  # type: ignore[no-untyped-def]
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RemoteTimeout):
            await HttpFetcher(resolver=resolver, allow_private=True).get(f"http://a.web.test:{port}/", timeout=0.3)
    finally:
        server.close()
