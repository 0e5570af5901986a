"""Misbehaving servers on loopback, for the failure paths of clients.

:class:`FaultServers` hands out (and closes at the end):

- ``closed_port()``: a port where nothing listens; a connect gets "connection refused" at once.
  The port stays reserved (bound, not listening) so nothing else takes it meanwhile.
- ``silent_server()``: accepts TCP connections and never says a word (greeting timeouts).
- ``pop3_server()``: greets ``+OK POP3 server ready`` and answers ``-ERR`` (wrong protocol).
- ``banner_server(greeting)``: sends any greeting bytes, then reads and ignores input.
- ``selfsigned_smtps_server()``: implicit-TLS SMTP-ish server whose certificate is self-signed
  (NOT from the lab CA); ``fingerprint_sha256`` for certificate-pinning tests.
- ``recording_imap_server(tls)``: a rogue IMAP server that records every LOGIN / AUTHENTICATE it
  receives (``.logins``) and refuses them, for "the stored password never leaves" tests.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import ipaddress
import socket
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .ports import LOOPBACK

Conversation = Callable[[socket.socket, threading.Event], None]


@dataclass(frozen=True)
class Endpoint:
    """Where a fault server listens."""

    host: str
    port: int


@dataclass(frozen=True)
class SelfSignedEndpoint(Endpoint):
    """A TLS endpoint with a self-signed certificate.

    ``fingerprint_sha256``: SHA-256 of the DER certificate, lowercase hex without colons;
    ``fingerprint_sha256_colons``: the same as ``AB:CD:...`` (openssl's style);
    ``spki_sha256``: SHA-256 of the SubjectPublicKeyInfo (DER), lowercase hex;
    ``cert_pem`` / ``cert_der``: the certificate.
    """

    cert_pem: bytes
    cert_der: bytes
    fingerprint_sha256: str
    fingerprint_sha256_colons: str
    spki_sha256: str


@dataclass(frozen=True)
class RecordingEndpoint(Endpoint):
    """A rogue server; ``logins`` holds every authentication command line it received."""

    logins: list[bytes]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


def _read_lines(sock: socket.socket, stop: threading.Event):  # type: ignore[no-untyped-def]
    """Yield CRLF/LF-terminated lines until EOF or ``stop``."""
    sock.settimeout(0.2)
    buf = b""
    while not stop.is_set():
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.rstrip(b"\r")


def _silent(sock: socket.socket, stop: threading.Event) -> None:
    for _ in _read_lines(sock, stop):
        pass


def _greeting(greeting: bytes) -> Conversation:
    def talk(sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(greeting)
        for _ in _read_lines(sock, stop):
            pass
    return talk


def _pop3(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(b"+OK POP3 server ready\r\n")
    for line in _read_lines(sock, stop):
        if line.upper().startswith(b"QUIT"):
            sock.sendall(b"+OK bye\r\n")
            return
        sock.sendall(b"-ERR unknown command\r\n")


def _smtpish(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(b"220 selfsigned.invalid ESMTP fault server\r\n")
    for line in _read_lines(sock, stop):
        verb = line.split(b" ", 1)[0].upper()
        if verb in (b"EHLO", b"HELO"):
            sock.sendall(b"250-selfsigned.invalid\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
        elif verb == b"QUIT":
            sock.sendall(b"221 2.0.0 bye\r\n")
            return
        elif verb in (b"NOOP", b"RSET"):
            sock.sendall(b"250 2.0.0 OK\r\n")
        elif verb == b"AUTH":
            sock.sendall(b"535 5.7.8 Authentication credentials invalid\r\n")
        else:
            sock.sendall(b"502 5.5.2 Command not implemented\r\n")


def _recording_imap(logins: list[bytes]) -> Conversation:
    def talk(sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] rogue IMAP ready\r\n")
        lines = _read_lines(sock, stop)
        for line in lines:
            tag, _, rest = line.partition(b" ")
            verb = rest.split(b" ", 1)[0].upper()
            if verb == b"CAPABILITY":
                sock.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            elif verb in (b"LOGIN", b"AUTHENTICATE"):
                logins.append(line)
                if verb == b"AUTHENTICATE" and len(rest.split()) < 3:  # no initial response
                    sock.sendall(b"+ \r\n")
                    logins.append(next(lines, b""))
                sock.sendall(tag + b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
            elif verb == b"LOGOUT":
                sock.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                return
            else:
                sock.sendall(tag + b" BAD unknown command\r\n")
    return talk


def _self_signed(common_name: str = "selfsigned.invalid") -> tuple[bytes, bytes, bytes]:
    """(cert_pem, cert_der, key_pem): self-signed, valid for localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (cert.public_bytes(serialization.Encoding.PEM),
            cert.public_bytes(serialization.Encoding.DER), key_pem)


class FaultServers:
    """Factory of misbehaving loopback servers; :meth:`close` stops them all."""

    host = LOOPBACK

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._servers: list[_Server] = []
        self._held: list[socket.socket] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="mailport-faults-")

    def _serve(self, talk: Conversation, tls: ssl.SSLContext | None = None) -> int:
        stop = self._stop

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                try:
                    if tls is not None:
                        sock.settimeout(10)
                        sock = tls.wrap_socket(sock, server_side=True)
                    talk(sock, stop)
                except (OSError, ssl.SSLError):
                    pass

        server = _Server((LOOPBACK, 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        self._servers.append(server)
        return int(server.server_address[1])

    def closed_port(self) -> int:
        """A loopback port with nothing listening (connect -> ECONNREFUSED)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((LOOPBACK, 0))  # bound but never listen(): refused, and reserved for us
        self._held.append(s)
        return int(s.getsockname()[1])

    def silent_server(self) -> Endpoint:
        """Accepts connections, never greets, never answers."""
        return Endpoint(LOOPBACK, self._serve(_silent))

    def pop3_server(self) -> Endpoint:
        """Greets ``+OK POP3 server ready``; every command but QUIT gets ``-ERR``."""
        return Endpoint(LOOPBACK, self._serve(_pop3))

    def banner_server(self, greeting: bytes) -> Endpoint:
        """Sends ``greeting`` as is on connect, then ignores the client."""
        return Endpoint(LOOPBACK, self._serve(_greeting(greeting)))

    def selfsigned_smtps_server(self) -> SelfSignedEndpoint:
        """Implicit-TLS SMTP-ish server (220 greeting, EHLO, AUTH -> 535, QUIT) presenting a
        self-signed certificate for localhost/127.0.0.1 that no CA vouches for."""
        cert_pem, cert_der, key_pem = _self_signed()
        d = Path(self._tmp.name)
        n = len(self._servers)
        (d / f"cert{n}.pem").write_bytes(cert_pem)
        (d / f"key{n}.pem").write_bytes(key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(d / f"cert{n}.pem"), str(d / f"key{n}.pem"))
        port = self._serve(_smtpish, tls=ctx)
        fp = hashlib.sha256(cert_der).hexdigest()
        spki = x509.load_der_x509_certificate(cert_der).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return SelfSignedEndpoint(
            host=LOOPBACK, port=port, cert_pem=cert_pem, cert_der=cert_der,
            fingerprint_sha256=fp,
            fingerprint_sha256_colons=":".join(fp[i:i + 2] for i in range(0, 64, 2)).upper(),
            spki_sha256=hashlib.sha256(spki).hexdigest())

    def recording_imap_server(self, tls: ssl.SSLContext | None = None) -> RecordingEndpoint:
        """An IMAP server (implicit TLS with ``tls``) that records every LOGIN / AUTHENTICATE
        command it gets in ``.logins`` and answers ``NO [AUTHENTICATIONFAILED]``."""
        logins: list[bytes] = []
        return RecordingEndpoint(LOOPBACK, self._serve(_recording_imap(logins), tls=tls), logins)

    def close(self) -> None:
        """Stop every server and free every port."""
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for s in self._held:
            with contextlib.suppress(OSError):
                s.close()
        self._servers.clear()
        self._held.clear()
        self._tmp.cleanup()
