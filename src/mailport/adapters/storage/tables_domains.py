"""Tables of sending from the platform and from own domains.

* ``domains``: a tenant's own sending domain — its DKIM selector (the private key sits encrypted
  in ``secrets``, owner kind ``domain``), the state of :mod:`mailport.core.domainstate`, the last
  check's per-record verdicts and when to check again.
* ``platform_senders``: one row per tenant that sends from the platform domain — its alias
  (unique platform-wide: it is the local part of a shared domain), display name and reply
  address, which is only used once confirmed through the link mailed to it.
* ``captured_messages``: with ``MAILPORT_PLATFORM_SMTP_URL=capture`` (development) platform mail
  is stored here instead of leaving, and shown through the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = ["CapturedMessage", "Domain", "PlatformSender"]


class Domain(Base):
    __tablename__ = "domains"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_domains_tenant_name"),
        Index("ix_domains_next_check", "next_check_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(253))  # ASCII (A-labels), lower case
    unicode_name: Mapped[str] = mapped_column(String(253))
    selector: Mapped[str] = mapped_column(String(63))
    return_path_prefix: Mapped[str] = mapped_column(String(63))
    state: Mapped[str] = mapped_column(String(16))
    fallback: Mapped[str] = mapped_column(String(16))  # refuse | platform (when not sendable)
    state_since: Mapped[datetime]
    degraded_since: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    last_manual_check_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    last_check: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PlatformSender(Base):
    __tablename__ = "platform_senders"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(320))  # confirmed
    reply_to_pending: Mapped[str | None] = mapped_column(String(320))
    reply_to_token_hash: Mapped[str | None] = mapped_column(String(64))
    reply_to_requested_at: Mapped[datetime | None]
    reply_to_confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CapturedMessage(Base):
    __tablename__ = "captured_messages"
    __table_args__ = (Index("ix_captured_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[list[str]] = mapped_column(JSON)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
