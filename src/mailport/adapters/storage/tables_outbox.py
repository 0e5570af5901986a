"""Tables of the outbox: messages, their bytes, recipients, events, Sent copies and webhooks.

Why the split:

* ``messages`` is narrow and hot (listing, claiming, limit counts); the wire bytes live in
  ``message_contents`` so a list never drags 25 MB blobs through the database driver.
* ``message_recipients`` holds each recipient's fate, so a retry goes only to the recipients
  still deferred (partial acceptance) and the API shows a diagnosis per recipient.
* ``events`` is the one event log (message events and webhook tests); webhook deliveries point
  at it, so a delivery retried tomorrow signs exactly the bytes of the original event.
* ``sent_copies`` records the IMAP APPEND of the Sent copy *before* it happens, so a worker that
  crashed mid-APPEND is followed by a SEARCH rather than a second copy.

Messages keep ``account_id`` as a plain column (no foreign key): removing an account must not
erase the history of what it sent; a queued message whose account is gone fails when picked up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = [
    "Event",
    "Message",
    "MessageContent",
    "MessageRecipient",
    "SentCopy",
    "Webhook",
    "WebhookDelivery",
]


class Message(Base):
    """One outgoing message and where it is in its life cycle (``core.outbox.MessageState``)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_messages_idempotency"),
        Index("ix_messages_tenant_created", "tenant_id", "created_at"),
        Index("ix_messages_account_state", "account_id", "state"),
        Index("ix_messages_account_sent", "account_id", "sent_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    from_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    header_message_id: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(Integer)
    attachment_count: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]]  # the host's metadata (``metadata`` is taken by SQLAlchemy)
    send_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_delay_seconds: Mapped[float | None]
    reason: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class MessageContent(Base):
    """The exact bytes to send and the envelope, built once at accept time.

    Kept in the database for now (one transaction with the message; backups cover it). At scale
    the blob belongs in object storage with only its key and hash here.
    """

    __tablename__ = "message_contents"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    envelope: Mapped[dict[str, Any]]
    # Prepended to ``raw`` for the Sent copy: the Bcc line the sender should still see.
    sent_prefix: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class MessageRecipient(Base):
    __tablename__ = "message_recipients"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(8))  # to | cc | bcc
    status: Mapped[str] = mapped_column(String(16))  # pending | accepted | deferred | failed
    smtp_code: Mapped[int | None]
    enhanced_code: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    diagnosis: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Event(Base):
    """One event as stored and delivered (``core.events.Event``)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_message", "message_id", "created_at"),
        Index("ix_events_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    message_id: Mapped[str | None] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # A tie-breaker for events written in the same microsecond (history order).
    seq: Mapped[int] = mapped_column(Integer, default=0)


class SentCopy(Base):
    """The Sent-folder copy of a message: ``started`` is written before APPEND, ``done`` after."""

    __tablename__ = "sent_copies"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(32))
    header_message_id: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))  # started | done | skipped | failed
    folder: Mapped[str | None] = mapped_column(String(300))
    uid: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Webhook(Base):
    """A tenant's webhook endpoint; its signing secret is in ``secrets`` (owner ``webhook``)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)  # empty: every type
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event to one endpoint: attempts, the last answer, and the final state."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(48))
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed | gone
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_duration_ms: Mapped[int | None]
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
