"""Receiving mailport's webhooks: check the signature and the timestamp, get a typed event.

In a host application's endpoint::

    from mailport.client.webhooks import parse_event

    event = parse_event(body=await request.body(), headers=request.headers,
                        secrets=[settings.mailport_webhook_secret])
    if isinstance(event.data, MessageSent): ...

Deliveries follow the Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), so any Standard Webhooks library verifies them too. Here the signature is
checked with :func:`mailport.core.webhooks.verify` (the very code that signs), over the raw body
bytes — parse only after verifying. A failed check raises
:class:`~mailport.errors.AuthError` with ``code`` ``webhook.signature_missing``,
``webhook.signature_malformed``, ``webhook.timestamp_out_of_tolerance`` or
``webhook.signature_mismatch``; answer it with 400 or 401 and mailport retries later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from mailport.core import webhooks as signing
from mailport.errors import ValidationError

__all__ = [
    "SIGNATURE_HEADER",
    "AccountNeedsAttention",
    "AccountNeedsReconnect",
    "AccountVerified",
    "DomainStateChanged",
    "MessageBounced",
    "MessageCancelled",
    "MessageDeferred",
    "MessageFailed",
    "MessageQueued",
    "MessageReceived",
    "MessageSending",
    "MessageSent",
    "OtherEvent",
    "RecipientOutcome",
    "RecipientSuppressed",
    "WebhookEvent",
    "WebhookTest",
    "parse_event",
]

SIGNATURE_HEADER = signing.SIGNATURE_HEADER


class _Data(BaseModel):
    # Newer servers may add fields: keep them, never fail on them.
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class RecipientOutcome(_Data):
    """One recipient's fate in an attempt; ``diagnosis`` is a diagnosis code when it failed."""

    recipient: str
    status: str
    smtp_code: int | None = None
    enhanced_code: str | None = None
    text: str | None = None
    diagnosis: str | None = None


class _MessageData(_Data):
    message_id: str
    account_id: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class MessageQueued(_MessageData):
    event: Literal["message.queued"] = Field("message.queued", exclude=True)
    recipients: list[str] = Field(default_factory=list)
    send_at: datetime | None = None


class MessageSending(_MessageData):
    event: Literal["message.sending"] = Field("message.sending", exclude=True)
    attempt: int


class MessageSent(_MessageData):
    """Accepted by the server for at least one recipient; ``recipients`` lists every one's fate."""

    event: Literal["message.sent"] = Field("message.sent", exclude=True)
    attempt: int
    header_message_id: str | None = None
    recipients: list[RecipientOutcome] = Field(default_factory=list)


class MessageDeferred(_MessageData):
    event: Literal["message.deferred"] = Field("message.deferred", exclude=True)
    attempt: int
    retry_at: datetime
    reason: str | None = None
    recipients: list[RecipientOutcome] = Field(default_factory=list)


class MessageFailed(_MessageData):
    """Given up: ``reason`` is a diagnosis code (explain it with ``Client.explain`` or show the
    recipients' ``diagnosis``)."""

    event: Literal["message.failed"] = Field("message.failed", exclude=True)
    attempt: int
    reason: str | None = None
    recipients: list[RecipientOutcome] = Field(default_factory=list)


class MessageCancelled(_MessageData):
    event: Literal["message.cancelled"] = Field("message.cancelled", exclude=True)


class MessageBounced(_MessageData):
    """A bounce came back for a sent message; ``hard`` means: stop mailing this address."""

    event: Literal["message.bounced"] = Field("message.bounced", exclude=True)
    recipient: str
    status: str | None = None
    diagnosis: str | None = None
    hard: bool
    server_text: str = ""


class RecipientSuppressed(_Data):
    """An address went on the suppression list (``reason``: ``hard_bounce``, ``soft_bounces`` or
    ``manual``); sends to it are refused with ``send.recipient_suppressed`` until it is removed."""

    event: Literal["recipient.suppressed"] = Field("recipient.suppressed", exclude=True)
    address: str
    reason: str
    status: str | None = None
    diagnosis: str | None = None
    message_id: str | None = None


class MessageReceived(_Data):
    event: Literal["message.received"] = Field("message.received", exclude=True)
    account_id: str
    message_id: str
    folder: str
    uid: int
    header_message_id: str | None = None
    from_: str | None = Field(None, alias="from")
    subject: str | None = None
    received_at: datetime | None = None


class DomainStateChanged(_Data):
    event: Literal["domain.state_changed"] = Field("domain.state_changed", exclude=True)
    domain_id: str
    domain: str
    previous: str | None = None
    state: str
    failing_records: list[str] = Field(default_factory=list)


class AccountVerified(_Data):
    event: Literal["account.verified"] = Field("account.verified", exclude=True)
    account_id: str
    email: str


class AccountNeedsReconnect(_Data):
    event: Literal["account.needs_reconnect"] = Field("account.needs_reconnect", exclude=True)
    account_id: str
    email: str
    reason: str


class AccountNeedsAttention(_Data):
    event: Literal["account.needs_attention"] = Field("account.needs_attention", exclude=True)
    account_id: str
    email: str
    code: str
    source: str


class WebhookTest(_Data):
    event: Literal["webhook.test"] = Field("webhook.test", exclude=True)
    webhook_id: str


class OtherEvent(_Data):
    """An event type this client does not know yet (receivers must ignore unknown types)."""


EventData = (MessageQueued | MessageSending | MessageSent | MessageDeferred | MessageFailed
             | MessageCancelled | MessageBounced | MessageReceived | DomainStateChanged
             | AccountVerified | AccountNeedsReconnect | AccountNeedsAttention | RecipientSuppressed | WebhookTest)

_KNOWN: dict[str, type[_Data]] = {
    cls.model_fields["event"].default: cls
    for cls in (MessageQueued, MessageSending, MessageSent, MessageDeferred, MessageFailed, MessageCancelled,
                MessageBounced, MessageReceived, DomainStateChanged, AccountVerified,
                AccountNeedsReconnect, AccountNeedsAttention, RecipientSuppressed, WebhookTest)
}


class WebhookEvent(BaseModel):
    """One delivered event; ``data`` is the typed payload for ``type``."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    created_at: datetime
    tenant_id: str
    data: Annotated[EventData | OtherEvent, Field(union_mode="left_to_right")]
    signed_at: int = Field(description="The signature's timestamp (Unix seconds).")

    @property
    def message_id(self) -> str | None:
        """The mailport message the event is about, if any."""
        value = getattr(self.data, "message_id", None)
        return value if isinstance(value, str) else None

    @property
    def metadata(self) -> dict[str, str]:
        """Your metadata from the send request (message events), else empty."""
        value = getattr(self.data, "metadata", None)
        return dict(value) if isinstance(value, dict) else {}


_ENVELOPE = TypeAdapter(dict[str, Any])


def parse_event(
    *,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str | bytes],
    now: int | datetime | None = None,
    tolerance: timedelta = signing.DEFAULT_TOLERANCE,
) -> WebhookEvent:
    """Verify ``body`` against the delivery's ``headers`` (Standard Webhooks), then parse it.

    ``secrets``: every secret currently valid for the endpoint (the old and the new one during a
    rotation). ``now`` defaults to the current time. Raises :class:`~mailport.errors.AuthError`
    when the signature or timestamp is wrong, :class:`~mailport.errors.ValidationError` when a
    correctly signed body is not an event.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise ValidationError("body must be the raw request bytes, as received", field="body")
    signed_at = signing.verify(body=bytes(body), headers=headers, secrets=secrets,
                               now=int(time.time()) if now is None else now, tolerance=tolerance)
    try:
        envelope = _ENVELOPE.validate_python(json.loads(body))
        data = envelope.get("data")
        event_type = envelope.get("type")
        if not isinstance(data, dict) or not isinstance(event_type, str):
            raise ValidationError("an event needs a type and a data object", field="data")
        model = _KNOWN.get(event_type, OtherEvent)
        return WebhookEvent(
            id=envelope["id"], type=event_type, created_at=envelope["created_at"],
            tenant_id=envelope["tenant_id"], data=model.model_validate(data),  # type: ignore[arg-type]
            signed_at=signed_at,
        )
    except (ValueError, KeyError, PydanticValidationError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError("the webhook body is not a mailport event", field="body") from exc
