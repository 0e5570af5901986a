"""The staged verification of a mailbox account, as pure values.

A verification walks the account's connections stage by stage — DNS → TCP → TLS → greeting → SMTP
AUTH, the same for IMAP up to LOGIN — then proves the whole path with a **round trip**: a test
mail to the account's own address, searched for in INBOX and the Junk folder. Each stage ends
``ok``, ``failed`` (with a diagnosis code from :mod:`mailport.core.diagnostics`) or ``skipped``
(an earlier stage failed, or it does not apply), and carries its duration.

The order of the connection stages follows the security mode, because that is the order the
wire sees: implicit TLS shakes hands before the server greets; STARTTLS greets in plain text first.
With ``security="none"`` the TLS stage is reported as skipped, so the report shows plainly that
the connection is not encrypted.

Pure: the service passes in clock readings, identifiers and outcomes; this module only plans,
records and renders.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import SMTPUTF8 as SMTPUTF8_POLICY
from email.utils import format_datetime, formataddr
from enum import StrEnum
from typing import Any, Literal, get_args

import idna

from mailport.errors import ValidationError

__all__ = [
    "NOT_ARRIVED",
    "AccountConfig",
    "AuthKind",
    "Endpoint",
    "Landing",
    "Outcome",
    "RoundTrip",
    "Security",
    "Stage",
    "StageResult",
    "StageStatus",
    "VerificationReport",
    "build_test_message",
    "planned_stages",
    "same_server",
]

Security = Literal["tls", "starttls", "none"]
AuthKind = Literal["password", "oauth2"]
Landing = Literal["inbox", "junk"]

NOT_ARRIVED = "roundtrip.not_arrived"
"""Diagnosis code of a test mail that was accepted but not found before the timeout."""

_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]{1,253}")


_HEX_LABEL = re.compile(r"0x[0-9a-f]+", re.IGNORECASE)


def _numeric_shorthand(host: str) -> bool:
    """``2130706433``, ``0x7f000001``, ``127.1``, ``0177.0.0.1``: neither an IP address nor a DNS
    name (whose last label is never all digits), but what some resolvers read as an address — a
    way around address checks, and never a mail server's real name."""
    bare = host.strip().strip("[]")
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        last = bare.rstrip(".").rsplit(".", 1)[-1]
        return last.isdigit() or bool(_HEX_LABEL.fullmatch(last))
    return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """How to reach one mail server: host, port, security mode, login name, optional TLS pin.

    ``pin_sha256`` is the SHA-256 fingerprint of a certificate the user explicitly accepted
    (self-signed servers); with it the chain is not checked, only that exact certificate.
    """

    host: str
    port: int
    security: Security
    username: str | None = None
    pin_sha256: str | None = None

    def __post_init__(self) -> None:
        if (not isinstance(self.host, str) or not _HOST.fullmatch(_ascii_host(self.host))
                or _numeric_shorthand(self.host)):
            raise ValidationError("The server host name is not valid", code="request.invalid_host")
        if (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 1 <= self.port <= 65535
        ):
            raise ValidationError(
                "The port must be between 1 and 65535", code="request.invalid_port"
            )
        if self.security not in get_args(Security):
            raise ValidationError(
                "security must be one of: tls, starttls, none", code="request.invalid_security"
            )
        if self.username is not None and any(ch in self.username for ch in "\r\n\x00"):
            raise ValidationError(
                "The user name contains a control character", code="request.invalid_username"
            )

    @property
    def ascii_host(self) -> str:
        """The host in ASCII (IDNA A-labels), as DNS, SNI and certificates spell it."""
        return _ascii_host(self.host)


def same_server(a: Endpoint, b: Endpoint) -> bool:
    """Whether a stored secret given for ``a`` may be sent to ``b``: every field that decides where
    the login goes (host, port, security, user name, pinned certificate) must be equal."""
    return _identity(a) == _identity(b)


def _identity(e: Endpoint) -> tuple[str, int, str, str, str]:
    return (e.ascii_host.lower().rstrip("."), e.port, e.security, e.username or "",
            (e.pin_sha256 or "").lower())


def _ascii_host(host: str) -> str:
    """``mail.bücher.example`` → ``mail.xn--bcher-kva.example``; "" if it cannot be encoded."""
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfig:
    """Everything verification needs to know about an account, without its secret."""

    email: str
    smtp: Endpoint
    imap: Endpoint | None = None
    display_name: str = ""
    auth_kind: AuthKind = "password"
    transport: str = "smtp_imap"  # core.transports: smtp_imap, gmail_api or graph

    def __post_init__(self) -> None:
        if self.auth_kind not in get_args(AuthKind):
            raise ValidationError(
                "auth_kind must be password or oauth2", code="request.invalid_auth_kind"
            )


class Stage(StrEnum):
    """A verification stage; values are also the ``stage`` of the adapters' errors."""

    SMTP_DNS = "smtp.dns"
    SMTP_TCP = "smtp.tcp"
    SMTP_TLS = "smtp.tls"
    SMTP_GREETING = "smtp.greeting"
    SMTP_AUTH = "smtp.auth"
    IMAP_DNS = "imap.dns"
    IMAP_TCP = "imap.tcp"
    IMAP_TLS = "imap.tls"
    IMAP_GREETING = "imap.greeting"
    IMAP_LOGIN = "imap.login"
    SEND = "roundtrip.send"
    ARRIVAL = "roundtrip.arrival"


class StageStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class Outcome(StrEnum):
    """The one-word summary of a report."""

    VERIFIED = "verified"  # every stage ok, the test mail is in INBOX
    DELIVERED_TO_JUNK = "delivered_to_junk"  # works, but the test mail was filed as spam
    SENT_UNCONFIRMED = "sent_unconfirmed"  # no IMAP: sent, arrival not confirmed
    NOT_ARRIVED = "not_arrived"  # sent, not found before the timeout
    FAILED = "failed"  # a connection stage or the send failed


def _connection_stages(protocol: Literal["smtp", "imap"], security: Security) -> list[Stage]:
    dns, tcp, tls, greeting = (
        Stage(f"{protocol}.{name}") for name in ("dns", "tcp", "tls", "greeting")
    )
    login = Stage.SMTP_AUTH if protocol == "smtp" else Stage.IMAP_LOGIN
    if security == "tls":
        return [dns, tcp, tls, greeting, login]
    return [dns, tcp, greeting, tls, login]


def planned_stages(account: AccountConfig) -> list[Stage]:
    """Every stage a verification of ``account`` reports, in the order they run."""
    stages = _connection_stages("smtp", account.smtp.security)
    if account.imap is not None:
        stages += _connection_stages("imap", account.imap.security)
    return stages + [Stage.SEND, Stage.ARRIVAL]


@dataclass(frozen=True, slots=True, kw_only=True)
class StageResult:
    stage: Stage
    status: StageStatus
    duration_ms: int | None = None
    code: str | None = None
    message: str | None = None
    server_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage.value,
            "status": self.status.value,
            "duration_ms": self.duration_ms,
            "code": self.code,
            "message": self.message,
            "server_text": self.server_text,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundTrip:
    """What happened to the test mail."""

    message_id: str
    sent: bool
    arrived: bool | None = None  # None: not checked (no IMAP account)
    landed_in: Landing | None = None
    folder: str | None = None  # the server's mailbox name where it was found
    sent_copy: bool | None = None  # None: could not be checked (no IMAP, or no Sent folder)
    sent_folder: str | None = None
    wait_ms: int | None = None
    removed: bool | None = None  # None: not tried (not found); False: only flagged \Deleted

    def to_dict(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "message_id": self.message_id,
            "sent": self.sent,
            "arrived": self.arrived,
            "landed_in": self.landed_in,
            "folder": self.folder,
            "sent_copy": self.sent_copy,
            "sent_folder": self.sent_folder,
            "wait_ms": self.wait_ms,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationReport:
    email: str
    started_at: datetime
    duration_ms: int
    stages: tuple[StageResult, ...]
    roundtrip: RoundTrip | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def assemble(
        cls,
        *,
        account: AccountConfig,
        started_at: datetime,
        duration_ms: int,
        results: Iterable[StageResult],
        roundtrip: RoundTrip | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> VerificationReport:
        """A report over every planned stage: stages without a result are ``skipped``."""
        by_stage = {result.stage: result for result in results}
        unknown = set(by_stage) - set(planned_stages(account))
        if unknown:
            raise ValueError(f"results for unplanned stages: {sorted(s.value for s in unknown)}")
        stages = tuple(
            by_stage.get(stage) or StageResult(stage=stage, status=StageStatus.SKIPPED)
            for stage in planned_stages(account)
        )
        return cls(
            email=account.email,
            started_at=started_at,
            duration_ms=duration_ms,
            stages=stages,
            roundtrip=roundtrip,
            details=dict(details or {}),
        )

    @property
    def failed_stage(self) -> StageResult | None:
        return next((s for s in self.stages if s.status is StageStatus.FAILED), None)

    @property
    def outcome(self) -> Outcome:
        failed = self.failed_stage
        if failed is not None:
            return Outcome.NOT_ARRIVED if failed.stage is Stage.ARRIVAL else Outcome.FAILED
        trip = self.roundtrip
        if trip is None or not trip.sent:
            return Outcome.FAILED
        if trip.arrived is None:
            return Outcome.SENT_UNCONFIRMED
        if trip.landed_in == "junk":
            return Outcome.DELIVERED_TO_JUNK
        return Outcome.VERIFIED if trip.arrived else Outcome.NOT_ARRIVED

    @property
    def ok(self) -> bool:
        """True when the account can send (and, with IMAP, receive) mail."""
        return self.outcome in (
            Outcome.VERIFIED,
            Outcome.DELIVERED_TO_JUNK,
            Outcome.SENT_UNCONFIRMED,
        )

    @property
    def code(self) -> str | None:
        """The diagnosis code of the first failed stage, if any."""
        failed = self.failed_stage
        return failed.code if failed else None

    def stage(self, stage: Stage | str) -> StageResult:
        wanted = Stage(stage)
        return next(s for s in self.stages if s.stage is wanted)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; what the API returns and storage keeps as the account's last status."""
        return {
            "email": self.email,
            "outcome": self.outcome.value,
            "ok": self.ok,
            "code": self.code,
            "started_at": self.started_at.isoformat(),
            "duration_ms": self.duration_ms,
            "stages": [s.to_dict() for s in self.stages],
            "roundtrip": self.roundtrip.to_dict() if self.roundtrip else None,
            **({"details": dict(self.details)} if self.details else {}),
        }


_SUBJECT = (
    "mailport test message / Testnachricht / message de test / messaggio di prova / testbericht"
)
_BODY = """\
This is a test message from mailport.
It was sent to check that this mailbox can send and receive mail. No action is needed;
you may delete it.

mailport
Test ID: {token}
"""


TEST_MESSAGE_ID_PREFIX = "mailport-verify."


def is_test_message_id(message_id: str | None) -> bool:
    """Whether a Message-ID is a verification test mail's: it is never synced into the CRM."""
    return (message_id or "").strip().lstrip("<").startswith(TEST_MESSAGE_ID_PREFIX)


def build_test_message(
    *,
    email: str,
    display_name: str,
    message_id: str,
    date: datetime,
    token: str,
    subject: str = _SUBJECT,
    body: str = _BODY,
) -> bytes:
    """The round-trip test mail, as CRLF bytes ready for SMTP ``DATA``.

    From and To are the account itself. ``subject`` and ``body`` (with ``{token}``) come in the
    user's language from the caller; the defaults name it a test in a few languages. The
    ``X-Mailport-Test`` header and the Message-ID (:func:`is_test_message_id`) let filters and the
    inbox sync recognise and skip it.
    """
    # A non-ASCII address can only travel with SMTPUTF8, and then the headers may be UTF-8 too.
    msg = EmailMessage(policy=SMTP_POLICY if email.isascii() else SMTPUTF8_POLICY)
    msg["From"] = formataddr((display_name, email)) if display_name else email
    msg["To"] = email
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a test
    msg["X-Mailport-Test"] = token
    msg.set_content(body.replace("{token}", token), charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()
