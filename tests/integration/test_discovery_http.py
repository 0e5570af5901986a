"""The bounded HTTP fetcher against raw loopback servers: TLS by name, redirects, size caps, SSRF."""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpcore
import pytest
from discovery_fixtures import NamedCA

from mailport.adapters.dns import DnsResolver
from mailport.adapters.http import HttpFetcher
from mailport.adapters.webhook_http import WebhookPoster
from mailport.errors import HostNotAllowed, NetworkError, ProtocolError, RemoteTimeout, TLSError

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
        lambda head: (f"HTTP/1.1 302 Found\r\nLocation: https://b.web.test:{target.port}/there\r\n"
                      "Content-Length: 0\r\n\r\n").encode()
    )
    fetcher = HttpFetcher(resolver=resolver, allow_private=True, ca_file=str(ca.ca_pem_path))
    response = await fetcher.get(f"https://a.web.test:{first.port}/", timeout=5)
    assert response.body == b"final" and response.url.endswith("/there")
    assert "Host: b.web.test" in target.heads[0]


async def test_https_to_http_redirect_refused(serve, resolver, ca: NamedCA) -> None:  # type: ignore[no-untyped-def]
    plain = await serve(lambda head: ok(b"downgraded"), tls=False)
    first = await serve(
        lambda head: (f"HTTP/1.1 301 Moved\r\nLocation: http://b.web.test:{plain.port}/\r\n"
                      "Content-Length: 0\r\n\r\n").encode()
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


class RebindingResolver:
    """A name that answers a public address to the first lookup and loopback to every later one."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    async def resolve_addresses(self, host: str) -> list[str]:
        self.lookups.append(host)
        return ["93.184.215.14"] if len(self.lookups) == 1 else ["127.0.0.1"]


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where the guarded backend connects; reaches nothing (no internet here)."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: object = None) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        raise httpcore.ConnectError("unreachable in this test")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.mark.parametrize("client", ["discovery", "webhook"])
async def test_dns_rebinding_cannot_reach_the_private_address(serve, client: str) -> None:  # type: ignore[no-untyped-def]
    """The name is resolved once, checked, and the connection goes to that checked address: a
    second answer (loopback) is never asked for, let alone connected to."""
    server = await serve(lambda head: ok(b"inside"), tls=False)
    resolver, backend = RebindingResolver(), RecordingBackend()
    url = f"http://rebind.web.test:{server.port}/hook"
    with pytest.raises(NetworkError):
        if client == "discovery":
            await HttpFetcher(resolver=resolver, backend=backend).get(url, timeout=5)
        else:
            # https: a webhook URL's rule admits http only where private hosts are allowed; the
            # recording backend fails the connection before any TLS
            await WebhookPoster(resolver=resolver, allow_private=False, backend=backend).post(
                url.replace("http://", "https://"), body=b"{}", headers={"Content-Type": "application/json"},
                timeout=5)
    assert resolver.lookups == ["rebind.web.test"]
    assert backend.connects == [("93.184.215.14", server.port)]
    assert server.heads == []


async def test_webhook_post_goes_to_the_checked_address_by_name(serve, resolver) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda head: ok(b"thanks"), tls=False)
    poster = WebhookPoster(resolver=resolver, allow_private=True)
    answer = await poster.post(f"http://a.web.test:{server.port}/in?x=1", body=b'{"a":1}',
                               headers={"webhook-id": "msg_1"}, timeout=5)
    assert (answer.status, answer.excerpt) == (200, "thanks")
    head = server.heads[0]
    assert head.startswith("POST /in?x=1 HTTP/1.1\r\n") and f"Host: a.web.test:{server.port}\r\n" in head
    assert "webhook-id: msg_1\r\n" in head
    with pytest.raises(HostNotAllowed):  # the name resolves to loopback: refused before connecting
        await WebhookPoster(resolver=resolver, allow_private=False).post(
            f"https://a.web.test:{server.port}/in", body=b"{}", headers={}, timeout=5)
    assert len(server.heads) == 1


async def test_an_operator_trusted_origin_may_be_private_and_only_it(serve, resolver) -> None:  # type: ignore[no-untyped-def]
    trusted = await serve(lambda head: ok(b"mirror"), tls=False)
    other = await serve(lambda head: ok(b"x"), tls=False)
    fetcher = HttpFetcher(resolver=resolver, trusted_urls=[f"http://a.web.test:{trusted.port}/v1.1/"])
    assert (await fetcher.get(f"http://a.web.test:{trusted.port}/v1.1/example.nl", timeout=5)).body == b"mirror"
    with pytest.raises(HostNotAllowed):
        await fetcher.get(f"http://a.web.test:{other.port}/", timeout=5)
    with pytest.raises(HostNotAllowed):
        await fetcher.get(f"http://b.web.test:{trusted.port}/", timeout=5)
    assert other.heads == []
