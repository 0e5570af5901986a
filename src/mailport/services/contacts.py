"""Contacts pushed by the host product, and their mail in both directions.

The host owns its contacts: ``PUT /v1/contacts`` upserts a batch by the host's own id (name and
addresses replace what was stored). Messages are linked to contacts by address, case-insensitively
and over every participant (from, to, cc, reply-to), at query time — so a contact added today
sees last month's mail, and changing an address re-links at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.inbox_repository import ContactRepository
from mailport.adapters.storage.tables_inbox import Contact
from mailport.clock import Clock
from mailport.core.addresses import reject_control_chars
from mailport.core.contacts import address_key
from mailport.errors import ValidationError
from mailport.ids import new_id

__all__ = ["ContactInput", "ContactService", "ContactView", "UpsertResult"]

MAX_BATCH = 1000
MAX_ADDRESSES = 50


@dataclass(frozen=True, slots=True)
class ContactInput:
    id: str  # the host's own id
    name: str | None
    addresses: Sequence[str]


@dataclass(frozen=True, slots=True)
class ContactView:
    id: str  # the host's id (what the API speaks)
    name: str | None
    addresses: list[str]
    updated_at: datetime

    @classmethod
    def of(cls, row: Contact) -> ContactView:
        return cls(id=row.external_id, name=row.name, addresses=list(row.addresses), updated_at=row.updated_at)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "addresses": self.addresses,
                "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True, slots=True)
class UpsertResult:
    created: int
    updated: int
    contacts: list[ContactView]


class ContactService:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def upsert(self, tenant_id: str, contacts: Sequence[ContactInput]) -> UpsertResult:
        """Create or replace contacts by the host's id, all in one transaction."""
        if len(contacts) > MAX_BATCH:
            raise ValidationError(f"at most {MAX_BATCH} contacts per request", field="contacts")
        cleaned = [_clean(c, i) for i, c in enumerate(contacts)]
        ids = [c.id for c in cleaned]
        if len(set(ids)) != len(ids):
            raise ValidationError("a contact id appears twice in the request", field="contacts")
        now = self.clock.now()
        created = updated = 0
        views: list[ContactView] = []
        with self.db.session() as s:
            repo = ContactRepository(s)
            for item in cleaned:
                row, is_new = repo.upsert(tenant_id=tenant_id, external_id=item.id, name=item.name,
                                          addresses=list(item.addresses), new_id=new_id("con"), now=now)
                created += is_new
                updated += not is_new
                views.append(ContactView.of(row))
        return UpsertResult(created=created, updated=updated, contacts=views)

    def get(self, tenant_id: str, contact_id: str) -> ContactView:
        with self.db.session() as s:
            return ContactView.of(ContactRepository(s).get(tenant_id=tenant_id, contact_id=contact_id))

    def list_contacts(self, tenant_id: str, *, limit: int = 200, offset: int = 0) -> list[ContactView]:
        if not 1 <= limit <= 1000 or offset < 0:
            raise ValidationError("limit must be 1–1000 and offset not negative", field="limit")
        with self.db.session() as s:
            return [ContactView.of(r) for r in ContactRepository(s).list_for_tenant(tenant_id=tenant_id, limit=limit,
                                                                          offset=offset)]

    def delete(self, tenant_id: str, contact_id: str) -> None:
        with self.db.session() as s:
            ContactRepository(s).delete(tenant_id=tenant_id, contact_id=contact_id)


def _clean(item: ContactInput, index: int) -> ContactInput:
    where = f"contacts[{index}]"
    if not isinstance(item.id, str) or not item.id.strip() or len(item.id) > 200:
        raise ValidationError(f"{where}.id must be 1–200 characters", field=f"{where}.id")
    reject_control_chars(item.id, field=f"{where}.id")
    name = item.name.strip() if isinstance(item.name, str) else None
    if name is not None:
        reject_control_chars(name, field=f"{where}.name")
        if len(name) > 300:
            raise ValidationError(f"{where}.name is longer than 300 characters", field=f"{where}.name")
    if len(item.addresses) > MAX_ADDRESSES:
        raise ValidationError(f"{where} has more than {MAX_ADDRESSES} addresses", field=f"{where}.addresses")
    keys: list[str] = []
    for j, raw in enumerate(item.addresses):
        key = address_key(raw) if isinstance(raw, str) else None
        if key is None:
            raise ValidationError(f"{where}.addresses[{j}] is not an email address",
                                  code="request.invalid_address", field=f"{where}.addresses")
        if key not in keys:
            keys.append(key)
    return ContactInput(id=item.id.strip(), name=name or None, addresses=keys)
