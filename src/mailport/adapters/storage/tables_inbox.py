"""Tables of the inbox: synced messages, their participants, folder cursors, sync state, contacts.

Why the split:

* ``inbox_messages`` holds what a list shows (headers, flags, size, snippet, thread, links to a
  sent message or a bounce). Bodies are not synced: ``inbox_bodies`` caches the raw bytes of a
  message the first time the API asks for it (or when a bounce had to be read whole).
* ``inbox_participants`` has one row per address of a message (from/to/cc/reply-to), lowercased,
  so "all mail with this contact, both ways" is one indexed join — no JSON scanning.
* ``inbox_folders`` keeps the IMAP cursor per folder (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ).
* ``inbox_sync`` is one row per account: what the UI shows (last sync, error with diagnosis) and
  the lease (``lease_owner``/``lease_until``) that makes exactly one worker sync an account.
* ``contacts`` / ``contact_addresses``: what the host product pushed (its own id, name, addresses).

A message row keeps ``uid`` nullable: after a UIDVALIDITY change the stored UIDs are void; rows
are set ``stale`` and re-matched by Message-ID during the resync, so their ids survive and
nothing is duplicated.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = [
    "Contact",
    "ContactAddress",
    "InboxBody",
    "InboxFolder",
    "InboxMessage",
    "InboxParticipant",
    "InboxSync",
    "InboxWorker",
]


class InboxSync(Base):
    """Sync state and lease of one account."""

    __tablename__ = "inbox_sync"

    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | syncing | idle | error
    last_sync_at: Mapped[datetime | None]
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class InboxWorker(Base):
    """A process running the inbox sync engine: its heartbeat and how many accounts it holds
    (the engine's fair share is the enabled accounts divided by the live workers)."""

    __tablename__ = "inbox_workers"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime] = mapped_column(index=True)
    accounts: Mapped[int] = mapped_column(Integer, default=0)


class InboxFolder(Base):
    """The IMAP cursor of one synced folder of an account."""

    __tablename__ = "inbox_folders"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_inbox_folders_account_name"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))  # inbox | sent
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uidnext: Mapped[int | None] = mapped_column(BigInteger)
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger)
    window_start: Mapped[date | None] = mapped_column(Date)
    synced_at: Mapped[datetime | None]


class InboxMessage(Base):
    """One message of a synced folder (headers and state; the body is fetched on demand)."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("folder_id", "uidvalidity", "uid", name="uq_inbox_messages_folder_uid"),
        Index("ix_inbox_messages_tenant_date", "tenant_id", "date"),
        Index("ix_inbox_messages_account_date", "account_id", "date"),
        # Partial: nearly every row has no sent message (migration 0023_i19_inbox_lean_indexes).
        Index("ix_inbox_messages_sent_message_id", "sent_message_id",
              sqlite_where=text("sent_message_id IS NOT NULL"), postgresql_where=text("sent_message_id IS NOT NULL")),
        # Partial: only rows whose snippet is still to be filled (0024_i19_snippet_pending). Queries
        # name the bare column, which SQLite gets as "= 1": the term its planner must find.
        Index("ix_inbox_messages_snippet_pending", "folder_id", "uidvalidity", "uid",
              sqlite_where=text("snippet_pending = 1"), postgresql_where=text("snippet_pending")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(String(32))
    folder_id: Mapped[int] = mapped_column(ForeignKey("inbox_folders.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))  # in | out (the Sent folder)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    header_message_id: Mapped[str | None] = mapped_column(String(300))
    in_reply_to: Mapped[str | None] = mapped_column(String(300))
    reference_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    thread_id: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text, default="")
    from_name: Mapped[str | None] = mapped_column(String(300))
    from_email: Mapped[str | None] = mapped_column(String(320))
    to: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cc: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    date: Mapped[datetime | None]
    internal_date: Mapped[datetime | None]
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    snippet: Mapped[str] = mapped_column(Text, default="")
    # Listed without a snippet (a lazy first sync): filled in after the listing, or when opened.
    snippet_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # From BODYSTRUCTURE at sync time: [{"filename", "content_type", "size"}] (bytes on demand).
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    sent_message_id: Mapped[str | None] = mapped_column(String(32))  # the outbox message it answers
    bounce: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # BounceReport.to_json() when a bounce
    created_at: Mapped[datetime]


class InboxParticipant(Base):
    """One address on a message, lowercased (the contact-matching key)."""

    __tablename__ = "inbox_participants"
    __table_args__ = (Index("ix_inbox_participants_tenant_address", "tenant_id", "address"),)

    message_id: Mapped[str] = mapped_column(ForeignKey("inbox_messages.id", ondelete="CASCADE"),
                                            primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)  # from | to | cc | reply_to
    tenant_id: Mapped[str] = mapped_column(String(32))


class InboxBody(Base):
    """Raw RFC 5322 bytes of a message, cached on first request."""

    __tablename__ = "inbox_bodies"

    message_id: Mapped[str] = mapped_column(ForeignKey("inbox_messages.id", ondelete="CASCADE"),
                                            primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    fetched_at: Mapped[datetime]


class Contact(Base):
    """A contact of the host product (its CRM person or company)."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_contacts_tenant_external"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]


class ContactAddress(Base):
    __tablename__ = "contact_addresses"
    __table_args__ = (Index("ix_contact_addresses_tenant_address", "tenant_id", "address"),)

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))

