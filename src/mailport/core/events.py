"""The one event vocabulary: what happened to messages, accounts and domains.

Every event is stored with its message (``GET /v1/messages/{id}`` shows the history) and POSTed to
the tenant's webhooks as JSON of one fixed shape::

    {"id": "evt_…", "type": "message.sent", "created_at": "2026-11-23T12:00:00Z",
     "tenant_id": "ten_…", "data": {…}}

``data`` is built by the payload classes below (one per :class:`EventType`); message events always
carry ``message_id``, ``account_id`` and the host's ``metadata`` (its document id), so a webhook
receiver can match the event to its invoice without another request. Types are stable strings;
new types may be added, receivers must ignore types they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

from mailport.core.outbox import MessageState, Outcome, RecipientOutcome
from mailport.errors import ValidationError

__all__ = [
    "AccountNeedsAttention",
    "AccountNeedsReconnect",
    "AccountVerified",
    "DomainStateChanged",
    "Event",
    "EventPayload",
    "EventType",
    "MessageBounced",
    "MessageCancelled",
    "MessageDeferred",
    "MessageFailed",
    "MessageQueued",
    "MessageReceived",
    "MessageSending",
    "MessageSent",
    "RecipientSuppressed",
    "WebhookTest",
    "format_timestamp",
    "make_event",
    "payload_for_outcome",
]


class EventType(StrEnum):
    MESSAGE_QUEUED = "message.queued"
    MESSAGE_SENDING = "message.sending"
    MESSAGE_SENT = "message.sent"
    MESSAGE_DEFERRED = "message.deferred"
    MESSAGE_FAILED = "message.failed"
    MESSAGE_CANCELLED = "message.cancelled"
    MESSAGE_BOUNCED = "message.bounced"
    MESSAGE_RECEIVED = "message.received"
    DOMAIN_STATE_CHANGED = "domain.state_changed"
    ACCOUNT_VERIFIED = "account.verified"
    ACCOUNT_NEEDS_RECONNECT = "account.needs_reconnect"
    ACCOUNT_NEEDS_ATTENTION = "account.needs_attention"
    RECIPIENT_SUPPRESSED = "recipient.suppressed"
    WEBHOOK_TEST = "webhook.test"


# The message state each message event reports (``message.received`` is inbound: no state).
STATE_EVENTS: Mapping[MessageState, EventType] = MappingProxyType(
    {
        MessageState.QUEUED: EventType.MESSAGE_QUEUED,
        MessageState.SENDING: EventType.MESSAGE_SENDING,
        MessageState.SENT: EventType.MESSAGE_SENT,
        MessageState.DEFERRED: EventType.MESSAGE_DEFERRED,
        MessageState.FAILED: EventType.MESSAGE_FAILED,
        MessageState.CANCELLED: EventType.MESSAGE_CANCELLED,
        MessageState.BOUNCED: EventType.MESSAGE_BOUNCED,
    }
)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``: ``2026-11-23T12:00:00Z`` (microseconds only when non-zero)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError("event times must be timezone-aware", field="created_at")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_timestamp(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("created_at is not an RFC 3339 time", field="created_at") from exc
    if moment.tzinfo is None:
        raise ValidationError("created_at must carry a time zone", field="created_at")
    return moment


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _json_value(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values; Mapping below is an ABC check, slow to fail
        return value
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, RecipientOutcome):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class EventPayload:
    """Base of the typed ``data`` objects; subclasses set :attr:`type`."""

    type: ClassVar[EventType]

    def to_data(self) -> dict[str, Any]:
        names = _FIELD_NAMES.get(type(self))
        if names is None:  # dataclasses.fields() rebuilds its tuple on every call
            names = _FIELD_NAMES[type(self)] = tuple(f.name for f in fields(self))
        return {name: _json_value(getattr(self, name)) for name in names}


_FIELD_NAMES: dict[type[EventPayload], tuple[str, ...]] = {}


@dataclass(frozen=True, kw_only=True)
class _MessagePayload(EventPayload):
    message_id: str
    account_id: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MessageQueued(_MessagePayload):
    type: ClassVar[EventType] = EventType.MESSAGE_QUEUED
    recipients: Sequence[str] = ()
    send_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class MessageSending(_MessagePayload):
    type: ClassVar[EventType] = EventType.MESSAGE_SENDING
    attempt: int


@dataclass(frozen=True, kw_only=True)
class MessageSent(_MessagePayload):
    """Accepted by the server for at least one recipient; ``recipients`` lists every one's fate."""

    type: ClassVar[EventType] = EventType.MESSAGE_SENT
    attempt: int
    header_message_id: str | None = None
    recipients: Sequence[RecipientOutcome] = ()


@dataclass(frozen=True, kw_only=True)
class MessageDeferred(_MessagePayload):
    type: ClassVar[EventType] = EventType.MESSAGE_DEFERRED
    attempt: int
    retry_at: datetime
    reason: str | None
    recipients: Sequence[RecipientOutcome] = ()


@dataclass(frozen=True, kw_only=True)
class MessageFailed(_MessagePayload):
    type: ClassVar[EventType] = EventType.MESSAGE_FAILED
    attempt: int
    reason: str | None
    recipients: Sequence[RecipientOutcome] = ()


@dataclass(frozen=True, kw_only=True)
class MessageCancelled(_MessagePayload):
    type: ClassVar[EventType] = EventType.MESSAGE_CANCELLED


@dataclass(frozen=True, kw_only=True)
class MessageBounced(_MessagePayload):
    """A bounce (DSN/NDR) came back for a sent message; ``hard`` bounces mean stop sending."""

    type: ClassVar[EventType] = EventType.MESSAGE_BOUNCED
    recipient: str
    status: str | None  # RFC 3463 enhanced code from the DSN, e.g. "5.1.1"
    diagnosis: str | None
    hard: bool
    server_text: str = ""


@dataclass(frozen=True, kw_only=True)
class RecipientSuppressed(EventPayload):
    """An address went on the tenant's suppression list: sends to it are refused until removed.

    ``reason``: ``hard_bounce``, ``soft_bounces`` (N in a row) or ``manual``; ``message_id`` the
    message whose bounce put it there; ``diagnosis`` the diagnostics code explaining why."""

    type: ClassVar[EventType] = EventType.RECIPIENT_SUPPRESSED
    address: str
    reason: str
    status: str | None = None
    diagnosis: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageReceived(EventPayload):
    type: ClassVar[EventType] = EventType.MESSAGE_RECEIVED
    account_id: str
    message_id: str
    folder: str
    uid: int
    header_message_id: str | None = None
    from_: str | None = None
    subject: str | None = None
    received_at: datetime | None = None

    def to_data(self) -> dict[str, Any]:
        data = super().to_data()
        data["from"] = data.pop("from_")
        return data


@dataclass(frozen=True, kw_only=True)
class DomainStateChanged(EventPayload):
    type: ClassVar[EventType] = EventType.DOMAIN_STATE_CHANGED
    domain_id: str
    domain: str
    previous: str | None
    state: str
    failing_records: Sequence[str] = ()


@dataclass(frozen=True, kw_only=True)
class AccountVerified(EventPayload):
    type: ClassVar[EventType] = EventType.ACCOUNT_VERIFIED
    account_id: str
    email: str


@dataclass(frozen=True, kw_only=True)
class AccountNeedsReconnect(EventPayload):
    """Sending or syncing stopped until the user signs in again (``reason``: a diagnosis code)."""

    type: ClassVar[EventType] = EventType.ACCOUNT_NEEDS_RECONNECT
    account_id: str
    email: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AccountNeedsAttention(EventPayload):
    """The mailbox stopped working for a reason the business must fix (``code``: a diagnosis
    code), learnt by ``source``: ``verification``, ``send`` or ``sync``. Once per episode."""

    type: ClassVar[EventType] = EventType.ACCOUNT_NEEDS_ATTENTION
    account_id: str
    email: str
    code: str
    source: str


@dataclass(frozen=True, kw_only=True)
class WebhookTest(EventPayload):
    """Sent by ``POST /v1/webhooks/{id}/test``."""

    type: ClassVar[EventType] = EventType.WEBHOOK_TEST
    webhook_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One event as stored and delivered."""

    id: str
    type: EventType
    created_at: datetime
    tenant_id: str
    data: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError("an event needs an id", field="id")
        if not isinstance(self.tenant_id, str) or not self.tenant_id:
            raise ValidationError("an event needs a tenant_id", field="tenant_id")
        try:
            object.__setattr__(self, "type", EventType(self.type))
        except ValueError as exc:
            raise ValidationError(f"unknown event type {self.type!r}", field="type") from exc
        format_timestamp(self.created_at)  # refuses naive times
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "created_at": format_timestamp(self.created_at),
            "tenant_id": self.tenant_id,
            "data": _json_value(self.data),
        }

    def to_json(self) -> bytes:
        """The webhook body: compact UTF-8 JSON (these exact bytes are what gets signed)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Event:
        """Read an event back from storage or a webhook body (the inverse of :meth:`to_dict`)."""
        missing = {"id", "type", "created_at", "tenant_id", "data"} - set(value)
        if missing:
            raise ValidationError(
                "an event needs " + ", ".join(sorted(missing)), field=min(missing)
            )
        if not isinstance(value["data"], Mapping):
            raise ValidationError("event data must be an object", field="data")
        return cls(
            id=value["id"],
            type=value["type"],
            created_at=_parse_timestamp(value["created_at"]),
            tenant_id=value["tenant_id"],
            data=value["data"],
        )


def make_event(
    payload: EventPayload, *, event_id: str, tenant_id: str, created_at: datetime
) -> Event:
    """Wrap a typed payload into an :class:`Event` (id and time come from the caller)."""
    return Event(
        id=event_id,
        type=payload.type,
        created_at=created_at,
        tenant_id=tenant_id,
        data=payload.to_data(),
    )


def payload_for_outcome(
    outcome: Outcome,
    *,
    message_id: str,
    account_id: str | None,
    attempt: int,
    metadata: Mapping[str, str] | None = None,
    header_message_id: str | None = None,
) -> MessageSent | MessageDeferred | MessageFailed:
    """The event a worker records after an attempt, straight from the classified outcome."""
    common: dict[str, Any] = {
        "message_id": message_id,
        "account_id": account_id,
        "metadata": dict(metadata or {}),
        "attempt": attempt,
        "recipients": outcome.recipients,
    }
    if outcome.state is MessageState.SENT:
        return MessageSent(header_message_id=header_message_id, **common)
    if outcome.state is MessageState.DEFERRED:
        if outcome.retry_at is None:
            raise ValidationError("a deferred outcome needs retry_at", field="retry_at")
        return MessageDeferred(retry_at=outcome.retry_at, reason=outcome.reason, **common)
    if outcome.state is MessageState.FAILED:
        return MessageFailed(reason=outcome.reason, **common)
    raise ValidationError(f"no event for an outcome in state {outcome.state}", field="state")
