"""The suppression list in SQL: entries per (tenant, address key), soft-bounce counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from mailport.adapters.storage.id_lists import PerDialect, one_of
from mailport.adapters.storage.row_read import RowRead
from mailport.adapters.storage.tables_suppression import BounceCounter, Suppression

__all__ = ["ListedAddress", "SuppressionRepository"]


class ListedAddress(NamedTuple):
    """A suppression list entry as the accept-time check reads it (no ORM object)."""

    tenant_id: str
    address_key: str
    address: str
    reason: str
    status: str | None
    diagnosis: str | None
    server_text: str | None
    message_id: str | None
    created_at: datetime


# The accept-time check, on every accepted message (or batch): built once, and read as rows — an
# ORM load of the (usually no) entries cost ~300 µs of the API's CPU per group commit on
# PostgreSQL, a tenth of a single POST (bench/bench_send.py, session 13).
# On PostgreSQL the keys are one array (``= ANY``), so the statement's text is the same for any
# number of them: psycopg runs it directly and prepares it (RowRead.all_in); an expanding ``IN``
# was rendered anew for each count and executed through Core — a tenth of the API's CPU.
_LISTED = PerDialect(lambda postgresql: RowRead(
    select(*(Suppression.__table__.c[f] for f in ListedAddress._fields)).where(
        Suppression.tenant_id == bindparam("tenant_id"),
        one_of(Suppression.address_key, "keys", postgresql=postgresql))))


class SuppressionRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def find(self, *, tenant_id: str, address_keys: Sequence[str]) -> list[ListedAddress]:
        if not address_keys:
            return []
        rows = [ListedAddress._make(row)
                for row in _LISTED.for_session(self.s).all_in(self.s, {"tenant_id": tenant_id,
                                                                       "keys": list(address_keys)})]
        order: dict[str, int] = {}
        for i, key in enumerate(address_keys):
            order.setdefault(key, i)
        return sorted(rows, key=lambda r: order[r.address_key])

    def get(self, *, tenant_id: str, address_key: str) -> Suppression | None:
        return self.s.get(Suppression, (tenant_id, address_key))

    def add(self, entry: Suppression) -> bool:
        """Insert ``entry`` unless the address is already listed; True when it was new."""
        if self.get(tenant_id=entry.tenant_id, address_key=entry.address_key) is not None:
            return False
        self.s.add(entry)
        self.s.flush()
        return True

    def remove(self, *, tenant_id: str, address_key: str) -> bool:
        removed = self.s.execute(delete(Suppression).where(
            Suppression.tenant_id == tenant_id, Suppression.address_key == address_key))
        self.s.execute(delete(BounceCounter).where(
            BounceCounter.tenant_id == tenant_id, BounceCounter.address_key == address_key))
        return bool(getattr(removed, "rowcount", 0))

    def list_for_tenant(self, *, tenant_id: str, limit: int, after: str | None = None) -> list[Suppression]:
        query = select(Suppression).where(Suppression.tenant_id == tenant_id)
        if after:
            query = query.where(Suppression.address_key > after)
        return list(self.s.scalars(query.order_by(Suppression.address_key).limit(limit)))

    def soft_counter(self, *, tenant_id: str, address_key: str) -> BounceCounter | None:
        return self.s.get(BounceCounter, (tenant_id, address_key))

    def set_soft_counter(self, *, tenant_id: str, address_key: str, count: int, now: datetime) -> None:
        row = self.soft_counter(tenant_id=tenant_id, address_key=address_key)
        if row is None:
            self.s.add(BounceCounter(tenant_id=tenant_id, address_key=address_key, soft_count=count, last_at=now))
        else:
            row.soft_count, row.last_at = count, now
        self.s.flush()
