"""Tables of the web pages' sign-in: used link nonces and live sessions.

* ``ui_link_uses``: the nonce of every ``/ui/enter`` link that was opened, until the link would
  have expired anyway — the primary key makes a second opening fail, on every process.
* ``ui_sessions``: one row per session a link started. The cookie is still a signed token, but
  it names this row, and a session whose row is revoked (sign-out, or the host product's
  ``DELETE /v1/ui-sessions?user=…``) or gone is refused at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = ["UiLinkUse", "UiSessionRow"]


class UiLinkUse(Base):
    __tablename__ = "ui_link_uses"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class UiSessionRow(Base):
    __tablename__ = "ui_sessions"
    __table_args__ = (Index("ix_ui_sessions_tenant_user", "tenant_id", "user_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
