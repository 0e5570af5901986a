"""Where the provider-API inbox sync of an account stands (Gmail ``historyId``, Graph delta link).

One row per account synced through an API transport; IMAP accounts keep their cursors per folder
in ``inbox_folders`` instead. ``cursor`` is opaque to everything but the account's sync adapter.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = ["ApiSyncCursor"]


class ApiSyncCursor(Base):
    __tablename__ = "api_sync_cursors"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    transport: Mapped[str] = mapped_column(String(16))
    cursor: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None]
    full_syncs: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]
