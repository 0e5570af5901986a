"""Discovery keeps its deadline whatever stage is running, against servers that never answer.

The servers are real sockets on loopback: a DNS server that never replies (``timeout`` fault of the
lab DNS server, or a bare UDP socket nobody reads), and TCP listeners that accept a connection and
then say nothing — for plain HTTP, for HTTPS (the TLS handshake never completes) and for the mail
ports probing would try. The issue's bound: never more than 0.2 s over the deadline.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from mailport.services.discover import DiscoveryService
from mailport.settings import Settings

DEADLINE = 1.5
SLACK = 0.2


@pytest.fixture
def silent_tcp() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) and never sends a byte."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def silent_udp() -> Iterator[str]:
    """A "DNS server" that receives queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def tls_then_silent(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """An HTTPS port that completes the TLS handshake, then never sends a byte (nor close_notify).

    Yields ``(port, ca_file)``."""
    ca = trustme.CA()
    cert = ca.issue_cert("autoconfig.tlshang.test", "tlshang.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                held.append(context.wrap_socket(conn, server_side=True))
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], str(ca_file)
    finally:
        stop.set()
        listener.close()
        for conn in held:
            conn.close()


def _settings(**values: object) -> Settings:
    base: dict[str, object] = {
        "env": "test", "allow_private_hosts": True, "discovery_deadline": DEADLINE,
        # Each DNS query alone may take longer than the whole deadline: the deadline must win.
        "dns_timeout": 5.0,
    }
    base.update(values)
    return Settings(**base)  # type: ignore[arg-type]


async def _timed(service: DiscoveryService, email: str, *, probe: bool = True) -> float:
    t0 = time.monotonic()
    result = await service.discover(email, probe=probe)
    elapsed = time.monotonic() - t0
    assert not result.found
    return elapsed


async def test_dns_that_never_answers(silent_udp: str, silent_tcp: int) -> None:
    settings = _settings(dns_nameservers=[silent_udp], ispdb_url=f"http://127.0.0.1:{silent_tcp}/v1.1/")
    elapsed = await _timed(DiscoveryService.from_settings(settings), "anna@nowhere-dns.test")
    assert elapsed <= DEADLINE + SLACK, elapsed


async def test_http_and_https_that_never_answer(dns_lab, silent_tcp: int) -> None:  # type: ignore[no-untyped-def]
    dns_lab.load_zone("""
autoconfig.hang.test. 300 A 127.0.0.1
hang.test. 300 A 127.0.0.1
hang.test. 300 MX 10 mx.hang.test.
mx.hang.test. 300 A 127.0.0.1
    """)
    settings = _settings(
        dns_nameservers=[dns_lab.nameserver], ispdb_url=f"http://127.0.0.1:{silent_tcp}/v1.1/",
        autoconfig_https_port=silent_tcp, autoconfig_http_port=silent_tcp,
    )
    elapsed = await _timed(DiscoveryService.from_settings(settings), "bob@hang.test")
    assert elapsed <= DEADLINE + SLACK, elapsed


async def test_probes_that_never_answer(dns_lab, silent_tcp: int) -> None:  # type: ignore[no-untyped-def]
    dns_lab.load_zone("""
imap.probes.test. 300 A 127.0.0.1
smtp.probes.test. 300 A 127.0.0.1
mail.probes.test. 300 A 127.0.0.1
probes.test. 300 A 127.0.0.1
    """)
    # The lookups find nothing at once, so probing runs — into the deadline.
    settings = _settings(dns_nameservers=[dns_lab.nameserver], ispdb_url="http://127.0.0.1:9/v1.1/")
    ports = {("imap", "tls"): silent_tcp, ("imap", "starttls"): silent_tcp,
             ("smtp", "tls"): silent_tcp, ("smtp", "starttls"): silent_tcp}
    service = DiscoveryService.from_settings(settings, probe_ports=ports)
    elapsed = await _timed(service, "carla@probes.test")
    assert elapsed <= DEADLINE + SLACK, elapsed


async def test_dns_timeout_fault_on_every_name(dns_lab, silent_tcp: int) -> None:  # type: ignore[no-untyped-def]
    for name in ("slow.test", "autoconfig.slow.test", "_imaps._tcp.slow.test",
                 "_submissions._tcp.slow.test", "_imap._tcp.slow.test", "_submission._tcp.slow.test"):
        dns_lab.timeout(name)
    settings = _settings(dns_nameservers=[dns_lab.nameserver], ispdb_url=f"http://127.0.0.1:{silent_tcp}/v1.1/")
    elapsed = await _timed(DiscoveryService.from_settings(settings), "dora@slow.test")
    assert elapsed <= DEADLINE + SLACK, elapsed


async def test_https_that_completes_tls_then_never_answers(
    dns_lab, tls_then_silent: tuple[int, str], silent_tcp: int  # type: ignore[no-untyped-def]
) -> None:
    port, ca_file = tls_then_silent
    dns_lab.load_zone("""
autoconfig.tlshang.test. 300 A 127.0.0.1
tlshang.test. 300 A 127.0.0.1
""")
    settings = _settings(
        dns_nameservers=[dns_lab.nameserver], ispdb_url=f"http://127.0.0.1:{silent_tcp}/v1.1/",
        autoconfig_https_port=port, autoconfig_http_port=silent_tcp, ca_file=ca_file,
    )
    elapsed = await _timed(DiscoveryService.from_settings(settings), "eva@tlshang.test", probe=False)
    assert elapsed <= DEADLINE + SLACK, elapsed


def test_the_command_keeps_the_deadline(silent_udp: str, silent_tcp: int, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``mailport discover`` command, from reading the settings to printing the answer.

    Called in this process: the interpreter's and typer's start-up (imports, building the command
    tree: about a second on a loaded machine) come before any discovery and are not part of it."""
    import typer

    from mailport.cli.discovery import discover

    for name, value in {
        "MAILPORT_ENV": "test", "MAILPORT_DATA_DIR": str(tmp_path), "MAILPORT_DNS_NAMESERVERS": silent_udp,
        "MAILPORT_DNS_TIMEOUT": "5", "MAILPORT_ISPDB_URL": f"http://127.0.0.1:{silent_tcp}/v1.1/",
        "MAILPORT_DISCOVERY_DEADLINE": str(DEADLINE), "MAILPORT_ALLOW_PRIVATE_HOSTS": "true",
    }.items():
        monkeypatch.setenv(name, value)
    t0 = time.monotonic()
    with pytest.raises(typer.Exit) as ended:
        discover("nobody@never-answers.test", as_json=True, no_probe=False)
    elapsed = time.monotonic() - t0
    assert ended.value.exit_code == 1  # not found
    assert elapsed <= DEADLINE + SLACK, elapsed
