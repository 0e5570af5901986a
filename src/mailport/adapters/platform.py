"""The platform transport: how mail sent *by the platform* (platform method, own domains) leaves.

Configured by the operator with ``MAILPORT_PLATFORM_SMTP_URL``:

- ``smtps://user:pass@host:465`` — implicit TLS; ``smtp://user:pass@host:587`` — STARTTLS, which
  is *required* (a smarthost that does not offer it is an error, never a plaintext fallback).
  Credentials are percent-decoded; they never appear in errors or logs.
- ``capture`` — development only: messages are stored in ``captured_messages`` and shown through
  the API; nothing leaves the machine. Refused in production.

The smarthost is operator configuration, not tenant input, so it may live on a private network:
the SSRF guard that protects tenant-supplied hosts does not apply to it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from mailport.adapters.dkim import generate_key, public_key_b64
from mailport.adapters.secrets import Secret
from mailport.adapters.smtp import RecipientOutcome, SendResult, SmtpSession
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.tables_domains import CapturedMessage
from mailport.adapters.transport import AddressResolver
from mailport.clock import Clock
from mailport.core.verification import Endpoint
from mailport.errors import ConfigurationError, NotFound
from mailport.ids import new_id
from mailport.logs import register_secret
from mailport.settings import Settings

__all__ = [
    "CaptureTransport",
    "CapturedView",
    "PlatformTransport",
    "RelayConfig",
    "SmtpRelayTransport",
    "load_platform_dkim_key",
    "parse_platform_url",
    "platform_transport",
]


class PlatformTransport(Protocol):
    """Hands finished (signed) bytes to the world; raises :class:`mailport.errors.RemoteError`."""

    async def send(
        self, *, tenant_id: str | None, mail_from: str, rcpt_to: Sequence[str], raw: bytes
    ) -> SendResult: ...


@dataclass(frozen=True, slots=True, repr=False)
class RelayConfig:
    endpoint: Endpoint
    password: Secret | None

    def __repr__(self) -> str:
        return f"RelayConfig({self.endpoint.host}:{self.endpoint.port}, {self.endpoint.security})"


def parse_platform_url(url: str) -> RelayConfig:
    """``smtps://user:pass@host:port`` / ``smtp://…`` → endpoint + password (TLS always)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ConfigurationError("MAILPORT_PLATFORM_SMTP_URL must be smtps://…, smtp://… or capture")
    try:
        port = parts.port or (465 if scheme == "smtps" else 587)
    except ValueError:
        raise ConfigurationError("MAILPORT_PLATFORM_SMTP_URL has an invalid port") from None
    if not parts.hostname:
        raise ConfigurationError("MAILPORT_PLATFORM_SMTP_URL needs a host")
    username = unquote(parts.username) if parts.username else None
    password = Secret(unquote(parts.password)) if parts.password else None
    if password is not None:
        register_secret(password.reveal())
    endpoint = Endpoint(host=parts.hostname, port=port, security="tls" if scheme == "smtps" else "starttls",
                        username=username)
    return RelayConfig(endpoint=endpoint, password=password)


class SmtpRelayTransport:
    """Submits to the operator's smarthost over TLS, one connection per message."""

    def __init__(self, *, config: RelayConfig, settings: Settings, resolver: AddressResolver) -> None:
        self.config = config
        # Operator-chosen host: may be private; the tenant SSRF guard is for tenant input.
        self.settings = settings.model_copy(update={"allow_private_hosts": True})
        self.resolver = resolver

    async def send(
        self, *, tenant_id: str | None, mail_from: str, rcpt_to: Sequence[str], raw: bytes
    ) -> SendResult:
        async with SmtpSession.open(
            self.config.endpoint, password=self.config.password, settings=self.settings, resolver=self.resolver
        ) as smtp:
            # Refusals come back per recipient (SendResult.refusal), for the outbox's verdicts.
            return await smtp.deliver(mail_from, list(rcpt_to), raw)


@dataclass(frozen=True, slots=True)
class CapturedView:
    id: str
    tenant_id: str | None
    mail_from: str
    rcpt_to: list[str]
    size: int
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "mail_from": self.mail_from, "rcpt_to": self.rcpt_to, "size": self.size,
                "created_at": self.created_at.isoformat()}


class CaptureTransport:
    """Development: keeps every message in the database instead of sending it."""

    def __init__(self, *, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def send(
        self, *, tenant_id: str | None, mail_from: str, rcpt_to: Sequence[str], raw: bytes
    ) -> SendResult:
        capture_id = new_id("cap")
        with self.db.session() as s:
            s.add(CapturedMessage(id=capture_id, tenant_id=tenant_id, mail_from=mail_from, rcpt_to=list(rcpt_to),
                                  raw=raw, created_at=self.clock.now()))
        return SendResult(
            recipients=tuple(RecipientOutcome(address=r, accepted=True, smtp_code=250, server_text="captured")
                             for r in rcpt_to),
            smtp_code=250, server_text=f"2.0.0 captured as {capture_id}", smtputf8=False,
        )

    def list_captured(self, tenant_id: str, *, limit: int = 50) -> list[CapturedView]:
        with self.db.session() as s:
            rows = s.scalars(
                select(CapturedMessage).where(CapturedMessage.tenant_id == tenant_id)
                .order_by(CapturedMessage.created_at.desc(), CapturedMessage.id).limit(limit)
            ).all()
            return [CapturedView(id=r.id, tenant_id=r.tenant_id, mail_from=r.mail_from, rcpt_to=list(r.rcpt_to),
                                 size=len(r.raw), created_at=r.created_at) for r in rows]

    def raw(self, tenant_id: str, capture_id: str) -> bytes:
        with self.db.session() as s:
            row = s.get(CapturedMessage, capture_id)
            if row is None or row.tenant_id != tenant_id:
                raise NotFound("no such captured message", code="platform.capture_not_found")
            return bytes(row.raw)


def platform_transport(
    settings: Settings, *, db: Database, clock: Clock, resolver: AddressResolver
) -> PlatformTransport | None:
    """The configured transport, ``None`` when platform sending is off (no URL)."""
    url = settings.platform_smtp_url.strip()
    if not url:
        return None
    if url.lower() == "capture":
        if settings.is_production:
            raise ConfigurationError("MAILPORT_PLATFORM_SMTP_URL=capture is for development; set a smarthost URL")
        return CaptureTransport(db=db, clock=clock)
    return SmtpRelayTransport(config=parse_platform_url(url), settings=settings, resolver=resolver)


def load_platform_dkim_key(settings: Settings) -> str:
    """The platform domain's DKIM private key (PEM): from the key file, or — outside production —
    generated once into ``<data_dir>/platform-dkim.pem`` (its DNS record is then printed by
    ``GET /v1/platform``)."""
    if settings.platform_dkim_key_file:
        path = Path(settings.platform_dkim_key_file)
        try:
            pem = path.read_text()
        except OSError as exc:
            raise ConfigurationError(f"cannot read MAILPORT_PLATFORM_DKIM_KEY_FILE ({exc.strerror})") from exc
        public_key_b64(pem)  # readable RSA key, or a ConfigurationError now rather than at send time
        register_secret(pem)
        return pem
    if settings.is_production:
        raise ConfigurationError(
            "MAILPORT_PLATFORM_DKIM_KEY_FILE must be set when platform sending is on in production"
        )
    path = settings.data_dir / "platform-dkim.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = generate_key().private_pem
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this installation won the race
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(pem)
    pem = path.read_text()
    register_secret(pem)
    return pem
