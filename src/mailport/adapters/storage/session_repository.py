"""Where the web pages' link uses and sessions are kept: the database (every process sees the
same), or memory (one process; tests and the pure service)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.tables_sessions import UiLinkUse, UiSessionRow
from mailport.errors import StorageError

__all__ = ["DatabaseSessionStore", "MemorySessionStore"]


class DatabaseSessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def use_link(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        """Mark the link used; ``False`` when it was used before (by any process)."""
        try:
            with self.db.session() as s:
                s.execute(delete(UiLinkUse).where(UiLinkUse.expires_at < now))
                s.add(UiLinkUse(nonce=nonce, expires_at=expires_at))
                s.flush()
        except StorageError as exc:  # a duplicate key: this link was opened before
            if isinstance(exc.__cause__, IntegrityError):
                return False
            raise
        return True

    def start(self, *, session_id: str, tenant_id: str, user_name: str, now: datetime,
              expires_at: datetime) -> None:
        with self.db.session() as s:
            s.execute(delete(UiSessionRow).where(UiSessionRow.expires_at < now))
            s.add(UiSessionRow(id=session_id, tenant_id=tenant_id, user_name=user_name, created_at=now,
                               expires_at=expires_at, revoked_at=None))

    def is_live(self, session_id: str, *, now: datetime) -> bool:
        with self.db.session() as s:
            row = s.get(UiSessionRow, session_id)
            return row is not None and row.revoked_at is None and row.expires_at > now

    def revoke(self, session_id: str, *, now: datetime) -> None:
        with self.db.session() as s:
            s.execute(update(UiSessionRow).where(UiSessionRow.id == session_id, UiSessionRow.revoked_at.is_(None))
                      .values(revoked_at=now))

    def revoke_user(self, *, tenant_id: str, user_name: str, now: datetime) -> int:
        with self.db.session() as s:
            ids = s.scalars(select(UiSessionRow.id).where(
                UiSessionRow.tenant_id == tenant_id, UiSessionRow.user_name == user_name,
                UiSessionRow.revoked_at.is_(None), UiSessionRow.expires_at > now)).all()
            if ids:
                s.execute(update(UiSessionRow).where(UiSessionRow.id.in_(ids)).values(revoked_at=now))
            return len(ids)


class MemorySessionStore:
    def __init__(self) -> None:
        self._links: dict[str, datetime] = {}
        self._sessions: dict[str, tuple[str, str, datetime, bool]] = {}

    def use_link(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        if nonce in self._links:
            return False
        self._links[nonce] = expires_at
        return True

    def start(self, *, session_id: str, tenant_id: str, user_name: str, now: datetime,
              expires_at: datetime) -> None:
        self._sessions[session_id] = (tenant_id, user_name, expires_at, False)

    def is_live(self, session_id: str, *, now: datetime) -> bool:
        found = self._sessions.get(session_id)
        return found is not None and not found[3] and found[2] > now

    def revoke(self, session_id: str, *, now: datetime) -> None:
        if session_id in self._sessions:
            tenant_id, user_name, expires_at, _ = self._sessions[session_id]
            self._sessions[session_id] = (tenant_id, user_name, expires_at, True)

    def revoke_user(self, *, tenant_id: str, user_name: str, now: datetime) -> int:
        hits = [sid for sid, (t, u, e, r) in self._sessions.items()
                if t == tenant_id and u == user_name and not r and e > now]
        for sid in hits:
            self.revoke(sid, now=now)
        return len(hits)
