"""Repositories of own domains and platform senders: the only code that writes SQL for them.

Tenant-facing reads filter by ``tenant_id`` (another tenant's domain is "not found"); the
scheduled re-check reads a domain by id alone, because its job names exactly one row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailport.adapters.storage.tables_domains import Domain, PlatformSender
from mailport.errors import NotFound

__all__ = ["DomainRepository", "PlatformSenderRepository"]


class DomainRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, domain: Domain) -> Domain:
        self.s.add(domain)
        self.s.flush()
        return domain

    def get(self, *, tenant_id: str, domain_id: str) -> Domain:
        row = self.s.get(Domain, domain_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFound("no such domain", code="domain.not_found")
        return row

    def find(self, domain_id: str) -> Domain | None:
        return self.s.get(Domain, domain_id)

    def find_by_name(self, *, tenant_id: str, name: str) -> Domain | None:
        return self.s.scalar(select(Domain).where(Domain.tenant_id == tenant_id, Domain.name == name))

    def of_tenant(self, *, tenant_id: str) -> Sequence[Domain]:
        return self.s.scalars(select(Domain).where(Domain.tenant_id == tenant_id).order_by(Domain.created_at)).all()

    def delete(self, row: Domain) -> None:
        self.s.delete(row)
        self.s.flush()


class PlatformSenderRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, tenant_id: str) -> PlatformSender | None:
        return self.s.get(PlatformSender, tenant_id)

    def add(self, row: PlatformSender) -> PlatformSender:
        self.s.add(row)
        self.s.flush()
        return row

    def alias_taken(self, alias: str, *, other_than: str | None = None) -> bool:
        """Whether a tenant (other than ``other_than``) already sends as ``alias``."""
        query = select(PlatformSender.tenant_id).where(PlatformSender.alias == alias)
        if other_than is not None:
            query = query.where(PlatformSender.tenant_id != other_than)
        return self.s.scalar(query.limit(1)) is not None
