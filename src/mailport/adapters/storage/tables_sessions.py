"""Tables of the web pages' sign-in: used link nonces and live sessions.

* ``ui_link_uses``: the nonce of every ``/ui/enter`` link that was opened, until the link would
  have expired anyway — the primary key makes a second opening fail, on every process.
* ``ui_sessions``: one row per session a link started. The cookie is still a signed token, but
  it names this row, and a session whose row is revoked (sign-out, or the host product's
  ``DELETE /v1/ui-sessions?user=…``) or gone is refused at once.
* ``ui_test_runs``: the mailbox page's live test runs (0026), so that whichever API process a
  poll reaches can answer it. The process that runs the test writes its stages as they arrive
  and renews ``updated_at`` every few seconds; a row still ``running`` whose ``updated_at`` went
  stale belongs to a process that died. Never a password: the stage results, the report (what
  the page shows, and what an account keeps as its last status anyway) and a keyed fingerprint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = ["UiLinkUse", "UiSessionRow", "UiTestRun"]


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


class UiTestRun(Base):
    __tablename__ = "ui_test_runs"
    __table_args__ = (Index("ix_ui_test_runs_session", "session_id", "state"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(32))
    # running → done | crashed | cancelled; "interrupted" is read, not written (a stale running row).
    state: Mapped[str] = mapped_column(String(16))
    stages: Mapped[list[str]] = mapped_column(JSON)
    results: Mapped[dict[str, Any]]
    report: Mapped[dict[str, Any] | None]
    # HMAC of the tested settings and password under a key derived from the secret key: lets
    # "Save" (in any process) record the test only when nothing changed; reveals neither.
    fingerprint: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
