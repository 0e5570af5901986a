"""Tables of the suppression list: suppressed addresses per tenant and soft-bounce counters.

``suppressions`` holds one row per (tenant, address key): why (a hard bounce, repeated soft
bounces, or an entry made by hand), the bounce's status, diagnosis code and server text, and the
message that bounced. ``bounce_counters`` counts consecutive soft bounces per address until the
threshold puts it on the list (or the count goes stale, see ``core.suppression``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = ["BounceCounter", "Suppression"]


class Suppression(Base):
    __tablename__ = "suppressions"

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(320), primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(16))  # hard_bounce | soft_bounces | manual
    status: Mapped[str | None] = mapped_column(String(16))
    diagnosis: Mapped[str | None] = mapped_column(String(64))
    server_text: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class BounceCounter(Base):
    __tablename__ = "bounce_counters"

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(320), primary_key=True)
    soft_count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime]
