"""The database schema: one SQLAlchemy declarative model per table.

Same code on SQLite (default) and PostgreSQL. Every tenant-owned table has a ``tenant_id`` column,
and repositories always filter by it — a row of another tenant is indistinguishable from a
missing one. Secrets never sit in these tables in clear: ``secrets.ciphertext`` holds AES-GCM
tokens made by :mod:`mailport.adapters.secrets`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_SQLITE_FORMAT = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"


def utc_param(value: datetime | None) -> datetime | None:
    """What :class:`UTCDateTime` binds on PostgreSQL, for values passed outside a column's type
    (an array in ``unnest``): an aware datetime in UTC; a naive one is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        value = utc_param(value)
        return value.replace(tzinfo=None) if value is not None and dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, :meth:`process_bind_param` and the dialect's text format fused into one
        call that remembers its last answer: an accepted batch binds the same ``now`` a dozen
        times per message, and the two stacked processors per value were a twentieth of the
        API's CPU per message (bench/bench_send.py). The text is the dialect's own (``%04d-%02d-%02d
        %02d:%02d:%02d.%06d``); tests/unit/test_storage_datetime.py holds the two to each other."""
        if dialect.name != "sqlite" or getattr(self.impl_instance.dialect_impl(dialect), "_storage_format",
                                               None) != _SQLITE_FORMAT:
            return super().bind_processor(dialect)
        # one (value, text) pair swapped whole: threads share this processor
        last: list[tuple[datetime, str]] = [(datetime.min, "")]

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            seen, text = last[0]
            if value is seen:
                return text
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
            v = value.astimezone(UTC)
            text = (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
                    f".{v.microsecond:06d}")
            last[0] = (value, text)
            return text

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[dict[str, Any]]: JSON,
        datetime: UTCDateTime(),
    }


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # How the business sends when a message names neither account nor method (0016).
    default_method: Mapped[str | None] = mapped_column(String(16))
    default_account_id: Mapped[str | None] = mapped_column(String(32))
    # The From address of default_method "domain": at one of the tenant's own domains (0022).
    default_from: Mapped[str | None] = mapped_column(String(320))
    time_zone: Mapped[str | None] = mapped_column(String(64))


class ApiKey(Base):
    """A tenant API key: only a hash is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Secret(Base):
    """One encrypted secret (password, token, DKIM key) of a tenant-owned object."""

    __tablename__ = "secrets"
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Account(Base):
    """A connected mailbox: SMTP (and optionally IMAP) settings of one address."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    auth_kind: Mapped[str] = mapped_column(String(32))
    # smtp_imap | gmail_api | graph (mailport.core.transports): how this mailbox sends and syncs.
    transport: Mapped[str] = mapped_column(String(16), default="smtp_imap", server_default="smtp_imap")
    smtp: Mapped[dict[str, Any]]
    imap: Mapped[dict[str, Any] | None]
    aliases: Mapped[list[dict[str, Any]]]
    daily_limit: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(32), default="unverified")
    last_verification: Mapped[dict[str, Any] | None]
    # Why the mailbox needs attention, from whichever of verification, sending or syncing saw it
    # last: {"code", "source", "at", "server_text"} (0016).
    attention: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Job(Base):
    """A unit of background work (send a message, deliver a webhook, sync an account).

    Claimed by workers with a lease: ``locked_until`` in the future means someone works on it;
    a lease that ran out means its worker died and the job is taken over.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_ready", "state", "run_at"),
        Index("ix_jobs_finished", "state", "updated_at"),
        # The ready jobs of each tenant in the order they run: a claim asks each tenant for its
        # own when one tenant's backlog fills the front of the queue (adapters/queue.py).
        Index("ix_jobs_ready_tenant", "tenant_id", "run_at", postgresql_where=text("state = 'ready'"),
              sqlite_where=text("state = 'ready'")),
        UniqueConstraint("kind", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default="ready")
    run_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]  # the holder's last heartbeat (core.leases.holds_slot)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
