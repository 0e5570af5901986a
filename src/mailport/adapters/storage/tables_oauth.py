"""Tables of OAuth sign-ins: pending authorizations and the grant behind each OAuth account.

* ``oauth_states``: one row per started sign-in, keyed by the SHA-256 of its ``state`` (the
  state itself travels only through the user's browser), deleted when the callback consumes it
  — single use — or when it expires (15 minutes). The PKCE verifier is not here: it is a secret
  (``secrets`` row, owner ``oauth_state``), removed with the row.
* ``oauth_grants``: which provider (and Microsoft tenant) an OAuth account signed in with, the
  provider's stable user id, and when the current access token expires. The refresh and access
  tokens themselves are encrypted ``secrets`` of the account (``oauth_refresh_token``,
  ``oauth_access_token``), so removing the account removes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailport.adapters.storage.tables import Base

__all__ = ["OAuthGrant", "OAuthState"]


class OAuthState(Base):
    """A sign-in between "start" and "callback"."""

    __tablename__ = "oauth_states"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[str] = mapped_column(String(128))
    login_hint: Mapped[str | None] = mapped_column(String(320))
    return_url: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(32))
    options: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class OAuthGrant(Base):
    """The OAuth side of an account whose ``auth_kind`` is ``oauth2``."""

    __tablename__ = "oauth_grants"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    directory: Mapped[str | None] = mapped_column(String(64))  # Microsoft tenant (tid) of the user
    subject: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
