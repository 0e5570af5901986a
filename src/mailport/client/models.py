"""Typed views of the API's answers (pydantic models), and the small value types requests take.

The models accept fields they do not know (``extra="allow"``): a newer server may add fields
without breaking an older client. Times are parsed into timezone-aware :class:`datetime`.
A unit test compares every model with the server's OpenAPI document, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Account",
    "Address",
    "Alias",
    "ApiKey",
    "ApiKeyCreated",
    "Attachment",
    "Bounce",
    "BounceRecipient",
    "CapturedMail",
    "Contact",
    "ContactInput",
    "ContactsUpserted",
    "Delivery",
    "Diagnosis",
    "DnsRecord",
    "Domain",
    "DomainCheck",
    "DomainLastCheck",
    "Endpoint",
    "EndpointSettings",
    "InboxAttachment",
    "InboxMessage",
    "Mailbox",
    "MailboxAttention",
    "Message",
    "MessageEvent",
    "OAuthStart",
    "Problem",
    "Recipient",
    "RecordVerdict",
    "SenderSettings",
    "SentCopy",
    "Suppression",
    "SyncState",
    "Tenant",
    "TenantCreated",
    "UiSession",
    "Webhook",
    "WebhookCreated",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


# ---- request value types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Mailbox:
    """An address with an optional display name, for ``to``/``cc``/``bcc``/``reply_to``/``from``."""

    email: str
    name: str = ""

    def to_json(self) -> dict[str, str]:
        return {"email": self.email, "name": self.name} if self.name else {"email": self.email}


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file to send; ``content_type`` is guessed from the name by the server when empty."""

    filename: str
    content: bytes
    content_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """One message of :meth:`AsyncMessages.send_batch` (the arguments of ``messages.send``).

    Give each its own ``idempotency_key`` (e.g. ``f"invoice-{id}"``): sending the same batch
    again after a crash then replays instead of sending twice."""

    to: Sequence[str | Mailbox]
    subject: str = ""
    text: str | None = None
    html: str | None = None
    account: str | None = None
    from_: str | Mailbox | None = None
    cc: Sequence[str | Mailbox] = ()
    bcc: Sequence[str | Mailbox] = ()
    reply_to: Sequence[str | Mailbox] = ()
    attachments: Sequence[Attachment] = ()
    headers: Mapping[str, str] | None = None
    metadata: Mapping[str, str] | None = None
    send_at: datetime | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointSettings:
    """SMTP or IMAP server settings for connecting a mailbox; ``security`` is tls|starttls|none."""

    host: str
    port: int
    security: str
    username: str | None = None
    pin_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in {"host": self.host, "port": self.port, "security": self.security,
                                  "username": self.username, "pin_sha256": self.pin_sha256}.items()
                if v is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactInput:
    """One of the host product's contacts (its own ``id``) with the addresses it mails from/to."""

    id: str
    name: str | None = None
    addresses: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "addresses": list(self.addresses)}


# ---- errors --------------------------------------------------------------------------------


class Diagnosis(_Model):
    """A failure explained in the caller's language: stable ``code``, ``title`` and ``steps``."""

    code: str
    title: str
    steps: list[str] = Field(default_factory=list)
    provider: str | None = None
    retryable: bool = False
    server_text: str | None = None


class Problem(_Model):
    """An error answer (RFC 9457 problem+json) with mailport's stable ``code``."""

    type: str = "about:blank"
    title: str = ""
    status: int
    code: str
    detail: str | None = None
    field: str | None = None
    stage: str | None = None
    server_text: str | None = None
    diagnosis: Diagnosis | None = None
    retry_after: int | None = None
    errors: list[dict[str, Any]] | None = None


# ---- tenants, accounts ---------------------------------------------------------------------


class Tenant(_Model):
    id: str
    name: str
    display_name: str | None
    created_at: datetime
    default_method: str | None = None
    """How a message that names neither account, from nor method is sent (``account``, ``platform``,
    ``domain``)."""
    default_account: str | None = None
    default_from: str | None = None
    """The From address of ``default_method`` ``domain`` (at one of the tenant's verified domains)."""
    time_zone: str | None = None


class TenantCreated(Tenant):
    api_key: str = Field(description="Shown once: store it now.")


class ApiKey(_Model):
    """A tenant API key as the operator sees it (never the key itself)."""

    id: str
    tenant_id: str
    label: str | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKey):
    api_key: str = Field(description="Shown once: store it now.")


class Endpoint(_Model):
    host: str
    port: int
    security: str
    username: str | None
    pin_sha256: str | None = None


class Alias(_Model):
    email: str
    verified: bool


class MailboxAttention(_Model):
    """Why a mailbox needs attention: a diagnosis code, and which part of mailport learnt it."""

    code: str
    source: str
    at: datetime
    server_text: str | None = None


class Account(_Model):
    """A connected mailbox."""

    id: str
    email: str
    display_name: str | None
    provider_id: str | None
    auth_kind: str
    smtp: Endpoint
    imap: Endpoint | None
    aliases: list[Alias]
    daily_limit: int | None
    status: str
    state: Literal["working", "needs_attention", "not_tested"] = "not_tested"
    """The one state of the mailbox, the same the pages show."""
    attention: MailboxAttention | None = None
    has_password: bool
    last_verification: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class OAuthStart(_Model):
    authorization_url: str
    expires_at: datetime
    provider: str


class UiSession(_Model):
    """A signed link to mailport's Settings › E-mail page; send the user there before expiry."""

    url: str
    expires_at: datetime
    language: str = "en"
    """The language the pages will speak (en, nl, de, it or fr; English for any other asked for)."""


# ---- messages ------------------------------------------------------------------------------


class Recipient(_Model):
    address: str
    kind: str
    status: str
    smtp_code: int | None
    enhanced_code: str | None
    text: str | None
    diagnosis: str | None


class MessageEvent(_Model):
    id: str
    type: str
    created_at: datetime
    data: dict[str, Any]


class SentCopy(_Model):
    state: str
    folder: str | None
    uid: int | None
    attempts: int
    detail: str | None


class Message(_Model):
    """An outgoing message; ``state`` is queued, sending, sent, deferred, failed, cancelled or
    bounced; ``reason`` a diagnosis code when it failed."""

    id: str
    state: str
    account_id: str
    from_: str = Field(alias="from")
    subject: str
    message_id_header: str
    size: int
    attachment_count: int
    metadata: dict[str, Any]
    send_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    reason: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    recipients: list[Recipient]
    events: list[MessageEvent] | None = None
    sent_copy: SentCopy | None = None
    replayed: bool = Field(False, description="True when an Idempotency-Key returned an earlier message.")


class BatchResult(_Model):
    """One item of a batch, at ``index`` in the order sent: ``status`` 202 (accepted), 200 (an
    earlier message with the same idempotency key) or the error status with ``error``."""

    index: int
    status: int
    message: Message | None = None
    error: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.status < 300


class Batch(_Model):
    """The answer of ``POST /v1/messages/batch``: one result per message, in order."""

    accepted: int
    replayed: int
    failed: int
    results: list[BatchResult]


# ---- webhooks ------------------------------------------------------------------------------


class Webhook(_Model):
    id: str
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(Webhook):
    secret: str = Field(description="The signing secret; shown only in this answer.")


class Delivery(_Model):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


# ---- inbox and contacts --------------------------------------------------------------------


class Address(_Model):
    name: str | None = None
    email: str | None = None


class BounceRecipient(_Model):
    recipient: str
    status: str | None
    hard: bool
    reason: str


class Bounce(_Model):
    is_bounce: bool
    recipients: list[BounceRecipient]
    original_message_id: str | None


class InboxAttachment(_Model):
    """An attachment of a synced message as the server described it (the bytes on demand)."""

    filename: str | None
    content_type: str
    size: int


class InboxMessage(_Model):
    id: str
    account_id: str
    folder: str
    direction: str
    message_id_header: str | None
    in_reply_to: str | None
    references: list[str]
    thread_id: str
    subject: str
    from_: Address = Field(alias="from")
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    received_at: datetime | None
    flags: list[str]
    seen: bool
    size: int
    snippet: str
    sent_message_id: str | None
    bounce: Bounce | None
    contacts: list[str]
    attachments: list[InboxAttachment] = []
    has_attachments: bool = False


class SyncState(_Model):
    account_id: str
    enabled: bool
    state: str
    last_sync_at: datetime | None
    error: dict[str, str | None] | None


class Suppression(_Model):
    """An address on the tenant's suppression list: sends to it are refused until it is removed.

    ``reason``: ``hard_bounce``, ``soft_bounces`` or ``manual``; ``diagnosis`` explains the bounce
    in the client's language; ``message_id`` is the message whose bounce put it there."""

    address: str
    reason: str
    status: str | None = None
    diagnosis: Diagnosis | None = None
    server_text: str | None = None
    message_id: str | None = None
    created_at: datetime


class Contact(_Model):
    id: str
    name: str | None
    addresses: list[str]
    updated_at: datetime


class ContactsUpserted(_Model):
    created: int
    updated: int
    contacts: list[Contact]


# ---- own domains and platform mail ---------------------------------------------------------


class DnsRecord(_Model):
    kind: str
    type: str
    name: str
    value: str
    strings: list[str]
    zone_line: str
    required: bool


class RecordVerdict(_Model):
    kind: str
    name: str
    status: str
    code: str
    required: bool
    found: list[str]
    params: dict[str, str]
    title: str
    fix: str


class DomainLastCheck(_Model):
    at: datetime
    outcome: str
    source: str
    verdicts: list[RecordVerdict]


class Domain(_Model):
    id: str
    name: str
    unicode_name: str
    selector: str
    state: str
    fallback: str
    sending: bool
    state_since: datetime
    degraded_since: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    records: list[DnsRecord]
    last_check: DomainLastCheck | None
    created_at: datetime


class DomainCheck(_Model):
    domain: Domain
    outcome: str
    previous_state: str
    state: str
    source: str
    verdicts: list[RecordVerdict]


class SenderSettings(_Model):
    alias: str
    address: str
    display_name: str
    reply_to: str | None
    reply_to_pending: str | None


class CapturedMail(_Model):
    id: str
    mail_from: str
    rcpt_to: list[str]
    size: int
    created_at: datetime
