"""Repositories of OAuth sign-ins and grants: the only code that writes SQL for them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailport.adapters.storage.tables_oauth import OAuthGrant, OAuthState

__all__ = ["OAuthGrantRepository", "OAuthStateRepository"]


class OAuthStateRepository:
    """Pending sign-ins (one row per ``state``, single use)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: OAuthState) -> OAuthState:
        self.s.add(row)
        self.s.flush()
        return row

    def expired(self, *, before: datetime, limit: int = 100) -> Sequence[OAuthState]:
        return self.s.scalars(select(OAuthState).where(OAuthState.expires_at < before).limit(limit)).all()

    def find_for_update(self, state_hash: str) -> OAuthState | None:
        """The sign-in of ``state_hash``, locked (PostgreSQL) so it is taken once."""
        return self.s.scalar(select(OAuthState).where(OAuthState.state_hash == state_hash).with_for_update().limit(1))

    def delete(self, row: OAuthState) -> None:
        self.s.delete(row)


class OAuthGrantRepository:
    """The grant behind an OAuth account (one row per account)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, account_id: str) -> OAuthGrant | None:
        return self.s.get(OAuthGrant, account_id)

    def add(self, row: OAuthGrant) -> OAuthGrant:
        self.s.add(row)
        return row
