"""How a message leaves: one :class:`Transport` per delivery route, one pipeline that calls it.

The send job (:mod:`.job`) never asks *how* a sender sends. It describes the sender
(:class:`Sender`), asks the :class:`Transports` registry for the first transport that
:meth:`~Transport.accepts` it, and hands it an :class:`Outgoing` message — the stored wire bytes
and envelope — plus the account's :class:`AccountCredentials` (password or OAuth token, fetched
lazily, refreshed on demand). The transport answers with one :class:`RecipientResult` per
recipient. It also says whether the mailbox files its own Sent copy
(:meth:`~Transport.sent_copy_skip`) and whether the account's sending limits apply
(:attr:`~Transport.mailbox_limits`).

Routes shipped here: a connected mailbox over SMTP (:mod:`.mailbox_smtp`, pooled sessions), the
platform address and the tenant's own domain (:mod:`.platform_routes`, DKIM-signed at send time).
A provider API (Gmail API, Microsoft Graph) is one more class with the same three members,
registered ahead of the SMTP route so that it takes the accounts it :meth:`~Transport.accepts`.

Errors a transport may raise, and what the pipeline makes of them:

* :class:`~mailport.errors.RemoteError` (a refusal, a network or auth failure): the same result
  for every recipient, classified like an SMTP reply (:func:`results_for_error`) — 4xx and
  network errors retry, 5xx fail. Transports may also build per-recipient results themselves.
* :class:`~mailport.errors.ValidationError` (the route cannot carry this message: size,
  SMTPUTF8; or the route is not configured), :class:`~mailport.errors.NotFound` (the account
  or domain is gone) and :class:`~mailport.services.domains.DomainNotSendable`: a permanent
  failure of the remaining recipients, reason = the error's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from mailport.adapters.secrets import Secret
from mailport.adapters.smtp import SendResult
from mailport.core.outbox import RecipientResult
from mailport.core.verification import AccountConfig
from mailport.errors import RemoteError, ValidationError

__all__ = [
    "AccountCredentials",
    "CredentialSource",
    "FoundCredentials",
    "Outgoing",
    "Sender",
    "SendingAccount",
    "Transport",
    "Transports",
    "results_for_error",
    "results_from_smtp",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SendingAccount:
    """The connected account a message is sent from (what a route needs to decide about it)."""

    id: str
    email: str
    provider_id: str | None
    auth_kind: str  # "password" | "oauth2" | …, as stored on the account
    smtp_host: str
    imap_host: str | None  # None: the account has no IMAP settings
    version: datetime  # the account row's updated_at: changes whenever settings or secret change


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """Who sends: ``key`` is what the outbox stores as the message's account id — an account id,
    ``platform``, or an own domain's id (``dom_…``). ``mailbox`` is set for connected accounts."""

    tenant_id: str
    key: str
    mailbox: SendingAccount | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One attempt's message: exactly the bytes accepted earlier, to the recipients still open."""

    message_id: str  # the outbox id (``msg_…``)
    header_message_id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes
    attempt: int


class FoundCredentials(Protocol):
    @property
    def config(self) -> AccountConfig: ...
    @property
    def password(self) -> Secret | None: ...
    @property
    def token(self) -> str | None: ...


class CredentialSource(Protocol):
    """Where an account's secret comes from (``services.oauth.OAuthService.credentials`` fits):
    its password, or a fresh OAuth access token (a new one when ``rejected_token`` was refused)."""

    async def __call__(self, tenant_id: str, account_id: str, *,
                       rejected_token: str | None = None) -> FoundCredentials: ...


class AccountCredentials(Protocol):
    """The sending account's secret, bound to that account: call it for the settings and the
    password or access token; call it with ``rejected_token`` after a server refused that token
    to get a fresh one (a transport does that once per attempt)."""

    async def __call__(self, *, rejected_token: str | None = None) -> FoundCredentials: ...


@runtime_checkable
class Transport(Protocol):
    """One delivery route. Implementations keep their own connections (pools, HTTP clients)."""

    name: str
    """Shown in logs and metrics: ``smtp``, ``platform``, ``domain``, ``gmail_api``, …"""

    mailbox_limits: bool
    """True when the account's limits (concurrency, rate, daily cap) govern this route."""

    def accepts(self, sender: Sender) -> bool:
        """Whether this route sends for ``sender`` (the first accepting transport wins)."""
        ...

    def sent_copy_skip(self, sender: Sender) -> str | None:
        """Why mailport files no copy in the sender's Sent folder — the server does it itself,
        there is no mailbox, no IMAP — or ``None`` when mailport APPENDs one after sending."""
        ...

    async def send(self, message: Outgoing, *, sender: Sender,
                   credentials: AccountCredentials | None) -> list[RecipientResult]:
        """Transmit ``message.raw`` to ``message.rcpt_to``; one result per recipient.

        ``credentials`` is ``None`` for senders that are not a connected account."""
        ...


class Transports:
    """The routes of this installation, asked in order."""

    def __init__(self, routes: Sequence[Transport]) -> None:
        self.routes: list[Transport] = list(routes)

    def register(self, transport: Transport, *, first: bool = True) -> None:
        """Add a route; ``first`` puts it ahead of the others (a provider API before SMTP)."""
        if first:
            self.routes.insert(0, transport)
        else:
            self.routes.append(transport)

    def for_sender(self, sender: Sender) -> Transport:
        for route in self.routes:
            if route.accepts(sender):
                return route
        raise ValidationError(f"no way to send for {sender.key} is configured here",
                              code="config.platform_missing" if sender.mailbox is None
                              else "send.no_transport", field="method")

    async def aclose(self) -> None:
        for route in self.routes:
            close = getattr(route, "aclose", None)
            if close is not None:
                await close()


def _smtp_code(value: int | None) -> int | None:
    return value if value is not None and 200 <= value <= 599 else None


def results_for_error(recipients: Sequence[str], exc: RemoteError) -> list[RecipientResult]:
    """One failure for every recipient, with the server's reply when there was one."""
    code = exc.code if exc.code not in ("error", "remote.error", "unknown") else None
    smtp_code = _smtp_code(exc.smtp_code)
    text = exc.server_text or exc.message
    # The adapter keeps the reply code in front ("451 4.3.0 …"); the enhanced code is parsed
    # from the start of the text, so hand it the reply without it.
    if smtp_code is not None and text.startswith(f"{smtp_code} "):
        text = text[4:]
    return list(RecipientResult.for_all(recipients, smtp_code=smtp_code, text=text, diagnosis=code))


def results_from_smtp(result: SendResult) -> list[RecipientResult]:
    """Per-recipient results of one SMTP transaction."""
    return list(result.verdicts())
