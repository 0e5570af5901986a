"""Tenants and their API keys: create, list, authenticate."""

from __future__ import annotations

import hmac
import secrets as random
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.repositories import ApiKeyRepository, TenantRepository
from mailport.adapters.storage.tables import Tenant
from mailport.clock import Clock
from mailport.core import apikeys
from mailport.errors import Unauthenticated, ValidationError
from mailport.ids import new_id


@dataclass(frozen=True, slots=True)
class TenantView:
    id: str
    name: str
    display_name: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "display_name": self.display_name,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CreatedTenant:
    tenant: TenantView
    api_key: str  # shown once, never stored in clear


class TenantService:
    def __init__(self, *, db: Database, clock: Clock, admin_key: str) -> None:
        self.db = db
        self.clock = clock
        self._admin_key = admin_key

    def create(self, *, name: str, display_name: str | None = None) -> CreatedTenant:
        name = name.strip()
        if not name or len(name) > 200 or any(ord(ch) < 32 for ch in name):
            raise ValidationError("tenant name must be 1–200 printable characters", field="name")
        now = self.clock.now()
        with self.db.session() as s:
            tenant = TenantRepository(s).add(
                id=new_id("ten"), name=name, display_name=display_name or name, now=now
            )
            key = self._issue_key(s, tenant_id=tenant.id, now=now, label="default")
            return CreatedTenant(tenant=_view(tenant), api_key=key)

    def create_key(self, *, tenant_id: str, label: str | None = None) -> str:
        now = self.clock.now()
        with self.db.session() as s:
            TenantRepository(s).get(tenant_id)
            return self._issue_key(s, tenant_id=tenant_id, now=now, label=label)

    def list(self) -> list[TenantView]:
        with self.db.session() as s:
            return [_view(t) for t in TenantRepository(s).list()]

    def get(self, tenant_id: str) -> TenantView:
        with self.db.session() as s:
            return _view(TenantRepository(s).get(tenant_id))

    def authenticate(self, presented: str | None) -> str:
        """The tenant id a presented API key belongs to, or :class:`Unauthenticated`."""
        parsed = apikeys.parse_key(presented or "")
        if parsed is None:
            raise Unauthenticated("a valid tenant API key is required")
        with self.db.session() as s:
            key = ApiKeyRepository(s).find_active(parsed.key_id)
            if key is None or not apikeys.secret_matches(parsed.secret, key.secret_hash):
                raise Unauthenticated("a valid tenant API key is required")
            return key.tenant_id

    def is_admin(self, presented: str | None) -> bool:
        if not presented or not self._admin_key:
            return False
        return hmac.compare_digest(presented.encode(), self._admin_key.encode())

    def _issue_key(self, s: Session, *, tenant_id: str, now: datetime, label: str | None) -> str:
        key_id = new_id("k", length=12)[2:]
        secret = urlsafe_b64encode(random.token_bytes(32)).decode().rstrip("=")
        ApiKeyRepository(s).add(
            id=key_id, tenant_id=tenant_id, secret_hash=apikeys.hash_secret(secret), label=label, now=now
        )
        return apikeys.format_key(key_id=key_id, secret=secret)


def _view(t: Tenant) -> TenantView:
    return TenantView(id=t.id, name=t.name, display_name=t.display_name, created_at=t.created_at)
