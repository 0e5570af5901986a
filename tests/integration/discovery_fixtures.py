"""Servers the discovery integration tests run against, all on loopback.

- :class:`IspdbServer`: Thunderbird's ISPDB service shape, ``GET /v1.1/<domain>`` → the XML whose
  ``<domain>`` list contains it, else 404 — served from ``../shared/data/ispdb`` beside the repo
  (test data only; the product never reads it).
- :class:`DocServer`: an autoconfig web server (HTTPS with a lab-CA certificate, or plain HTTP)
  answering per ``Host`` header and path.
- :class:`NamedCA`: the lab CA with a server certificate for extra names (``*.probe.test``), so a
  second mail lab presents a certificate valid for the names discovery probes.

Import into tests with ``from discovery_fixtures import …`` (``tests/integration`` is on
``sys.path`` under pytest's rootdir-relative imports).
"""

from __future__ import annotations

import os
import re
import ssl
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lab import LabCA

REPO_ROOT = Path(__file__).resolve().parents[2]
ISPDB_DIR = REPO_ROOT.parent / "shared" / "data" / "ispdb"
_DOMAIN_RE = re.compile(rb"<domain>\s*([^<\s]+)\s*</domain>")


class _QuietHandler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        self.server.requests.append((host, self.path))
        status, body = self.server.answer(host, self.path)
        self.send_response(status)
        self.send_header("Content-Type", "text/xml" if status == 200 else "text/plain")
        location = getattr(self.server.owner, "location", None)
        if location and 300 <= status < 400:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: _Base) -> None:
        super().__init__(("127.0.0.1", 0), _QuietHandler)
        self.owner = owner
        self.requests: list[tuple[str, str]] = []

    def answer(self, host: str, path: str) -> tuple[int, bytes]:
        return self.owner.answer(host, path)


class _Base:
    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server(self)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self._server.requests

    def answer(self, host: str, path: str) -> tuple[int, bytes]:
        raise NotImplementedError

    def start(self) -> _Base:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class IspdbServer(_Base):
    """``GET /v1.1/<domain>``; ``base_url`` is what ``MAILPORT_ISPDB_URL`` should be."""

    def __init__(self, directory: Path = ISPDB_DIR) -> None:
        self.index: dict[str, bytes] = {}
        for path in sorted(directory.glob("*.xml")):
            data = path.read_bytes()
            for domain in _DOMAIN_RE.findall(data):
                self.index.setdefault(domain.decode().lower(), data)
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.1/"

    def answer(self, host: str, path: str) -> tuple[int, bytes]:
        prefix = "/v1.1/"
        if not path.startswith(prefix):
            return 404, b"not found"
        doc = self.index.get(path[len(prefix):].split("?")[0].lower())
        return (200, doc) if doc is not None else (404, b"not found")


class DocServer(_Base):
    """Serves ``docs[(host, path_without_query)]``; records every request (host, full path)."""

    def __init__(self, docs: Mapping[tuple[str, str], bytes], *, tls: ssl.SSLContext | None = None) -> None:
        self.docs = dict(docs)
        super().__init__(tls=tls)

    def answer(self, host: str, path: str) -> tuple[int, bytes]:
        doc = self.docs.get((host, path.split("?")[0]))
        return (200, doc) if doc is not None else (404, b"not found")


class NamedCA(LabCA):
    """The lab CA whose server certificate also covers ``names`` (wildcards allowed)."""

    def __init__(self, directory: Path, names: Iterable[str]) -> None:
        super().__init__(directory)
        self.server_cert = self.ca.issue_cert("localhost", "127.0.0.1", "::1", *names)
        with open(self.cert_chain_path, "wb") as f:
            f.writelines(blob.bytes() for blob in self.server_cert.cert_chain_pems)
        self.server_cert.private_key_pem.write_to_path(str(self.key_path))
        for p in (self.cert_chain_path, self.key_path):
            os.chmod(p, 0o644)
