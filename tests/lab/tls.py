"""The lab certificate authority (trustme) and the files the servers need."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import trustme


class LabCA:
    """A throw-away CA plus one server certificate for ``localhost``, ``127.0.0.1`` and ``::1``.

    Files written into ``directory`` (world-readable: the unprivileged lab servers read them):
    ``ca.pem`` (:attr:`ca_pem_path`), ``server-chain.pem`` (leaf + CA), ``server-key.pem``.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o755)
        self.ca = trustme.CA(organization_name="mailport test lab CA")
        self.server_cert = self.ca.issue_cert("localhost", "127.0.0.1", "::1")
        self.ca_pem_path = self.directory / "ca.pem"
        self.cert_chain_path = self.directory / "server-chain.pem"
        self.key_path = self.directory / "server-key.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_pem_path))
        with open(self.cert_chain_path, "wb") as f:
            f.writelines(blob.bytes() for blob in self.server_cert.cert_chain_pems)
        self.server_cert.private_key_pem.write_to_path(str(self.key_path))
        for p in (self.ca_pem_path, self.cert_chain_path, self.key_path):
            os.chmod(p, 0o644)

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate (PEM bytes) that clients must trust."""
        return self.ca.cert_pem.bytes()

    def client_context(self) -> ssl.SSLContext:
        """An SSL client context that trusts only the lab CA (hostname checking on)."""
        return ssl.create_default_context(cafile=str(self.ca_pem_path))

    def server_context(self) -> ssl.SSLContext:
        """An SSL server context presenting the lab server certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert_chain_path), str(self.key_path))
        return ctx

    def write_copy(self, directory: Path) -> None:
        """Copy ca.pem, server-chain.pem and server-key.pem into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o755)
        for p in (self.ca_pem_path, self.cert_chain_path, self.key_path):
            target = directory / p.name
            target.write_bytes(p.read_bytes())
            os.chmod(target, 0o644)
