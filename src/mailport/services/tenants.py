"""Tenants and their API keys: create, list, authenticate."""

from __future__ import annotations

import hmac
import secrets as random
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.domain_repository import DomainRepository
from mailport.adapters.storage.repositories import ActiveKey, ApiKeyRepository, TenantRepository
from mailport.adapters.storage.tables import Account, ApiKey, Tenant
from mailport.clock import Clock
from mailport.core import apikeys
from mailport.core.addresses import parse_address
from mailport.core.domainstate import DomainState, sending_allowed
from mailport.errors import NotFound, Unauthenticated, ValidationError
from mailport.ids import new_id
from mailport.services.domains import DomainNotVerified

# How a message is sent when it names neither account, from address nor method: a mailbox, the
# platform address, or the own domain (with the From address stored beside it, ``default_from``).
METHODS: Final = ("account", "platform", "domain")


@dataclass(frozen=True, slots=True)
class TenantView:
    id: str
    name: str
    display_name: str | None
    created_at: datetime
    default_method: str | None = None
    default_account_id: str | None = None
    time_zone: str | None = None
    default_from: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "display_name": self.display_name,
            "created_at": self.created_at.isoformat(),
            "default_method": self.default_method,
            "default_account": self.default_account_id,
            "default_from": self.default_from,
            "time_zone": self.time_zone,
        }


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    """A tenant API key as the operator sees it: never the key itself, only its id (the part
    after ``mpk_``), label and dates."""

    id: str
    tenant_id: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "tenant_id": self.tenant_id, "label": self.label,
            "prefix": f"{apikeys.PREFIX}_{self.id}_",
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKeyView
    api_key: str  # shown once, never stored in clear


@dataclass(frozen=True, slots=True)
class CreatedTenant:
    tenant: TenantView
    api_key: str  # shown once, never stored in clear


LAST_USED_RESOLUTION = timedelta(minutes=1)


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
        return self.add_key(tenant_id=tenant_id, label=label).api_key

    def add_key(self, *, tenant_id: str, label: str | None = None) -> CreatedKey:
        """Another key for the tenant (rotation: add the new one, switch, revoke the old one)."""
        if label is not None and (len(label) > 200 or any(ord(ch) < 32 for ch in label)):
            raise ValidationError("label must be at most 200 printable characters", field="label")
        now = self.clock.now()
        with self.db.session() as s:
            TenantRepository(s).get(tenant_id)
            api_key = self._issue_key(s, tenant_id=tenant_id, now=now, label=label)
            parsed = apikeys.parse_key(api_key)
            assert parsed is not None
            return CreatedKey(key=_key_view(ApiKeyRepository(s).get(tenant_id=tenant_id, key_id=parsed.key_id)),
                              api_key=api_key)

    def list_keys(self, tenant_id: str) -> list[ApiKeyView]:
        with self.db.session() as s:
            TenantRepository(s).get(tenant_id)
            return [_key_view(k) for k in ApiKeyRepository(s).list_for_tenant(tenant_id)]

    def revoke_key(self, *, tenant_id: str, key_id: str) -> ApiKeyView:
        """Revoke a key: from the next request on it answers 401, on every process (keys are
        looked up in the database on each request, never cached)."""
        now = self.clock.now()
        with self.db.session() as s:
            key = ApiKeyRepository(s).get(tenant_id=tenant_id, key_id=key_id)
            if key.revoked_at is None:
                key.revoked_at = now
                s.flush()
            return _key_view(key)

    def list_tenants(self) -> list[TenantView]:
        with self.db.session() as s:
            return [_view(t) for t in TenantRepository(s).list_all()]

    def get(self, tenant_id: str) -> TenantView:
        with self.db.session() as s:
            return _view(TenantRepository(s).get(tenant_id))

    def update_settings(self, tenant_id: str, changes: dict[str, Any]) -> TenantView:
        """Change how the business sends by default (``default_method``: ``account`` with a
        ``default_account``, ``platform``, or ``domain`` with a ``default_from`` address at one of
        its own domains that passed its DNS check) and its ``time_zone`` (an IANA name)."""
        unknown = set(changes) - {"default_method", "default_account", "default_from", "time_zone"}
        if unknown:
            raise ValidationError(f"cannot change: {', '.join(sorted(unknown))}", field=min(unknown))
        with self.db.session() as s:
            tenant = TenantRepository(s).get(tenant_id)
            method = changes.get("default_method", tenant.default_method)
            account_id = changes.get("default_account", tenant.default_account_id)
            from_email = changes.get("default_from", tenant.default_from)
            if method not in (None, *METHODS):
                raise ValidationError("default_method is account, platform or domain", field="default_method")
            if method != "account":
                account_id = None  # only the mailbox method names a mailbox
            elif account_id is None:
                raise ValidationError("name the mailbox to send from", field="default_account")
            else:
                account = s.get(Account, account_id)
                if account is None or account.tenant_id != tenant_id:
                    raise NotFound(f"no account {account_id}", code="account.not_found", field="default_account")
            if method != "domain":
                from_email = None  # only the own-domain method names a From address
            elif not from_email:
                raise ValidationError("name the address at your domain to send from", field="default_from")
            else:
                from_email = _verified_domain_address(s, tenant_id, from_email)
            tenant.default_method, tenant.default_account_id = method, account_id
            tenant.default_from = from_email
            if "time_zone" in changes:
                tenant.time_zone = check_time_zone(changes["time_zone"]) if changes["time_zone"] else None
            s.flush()
            return _view(tenant)

    def authenticate(self, presented: str | None) -> str:
        """The tenant id a presented API key belongs to, or :class:`Unauthenticated`."""
        tenant_id, touch = self.check_key(presented)
        if touch is not None:
            self.touch_key(touch)
        return tenant_id

    @property
    def checks_keys_inline(self) -> bool:
        """True where :meth:`check_key` is a read that does not wait: on SQLite (WAL) a reader
        neither waits for nor blocks the writers, so the API's event loop runs the check itself
        rather than paying a thread hop on every request. A PostgreSQL read is a network round
        trip: there it is awaited (:attr:`checks_keys_async`), or, with another driver, goes to a
        thread (:meth:`authenticate`)."""
        return self.db.is_sqlite

    @property
    def checks_keys_async(self) -> bool:
        """True where :meth:`check_key_async` reads on the event loop without a thread
        (PostgreSQL through psycopg): the thread hop cost more CPU than the read."""
        return self.db.has_async_reads

    def check_key(self, presented: str | None) -> tuple[str, str | None]:
        """:meth:`authenticate` without its write: the tenant id, and the key id whose "last
        used" is due (write it with :meth:`touch_key`) or ``None``. Read on every request, never
        cached: a revoked key is refused at once, by every process."""
        parsed = _parsed_key(presented)  # the read below never queues behind the writers
        return self._checked(parsed, ApiKeyRepository.find_active(self.db, parsed.key_id))

    async def check_key_async(self, presented: str | None) -> tuple[str, str | None]:
        """:meth:`check_key` awaited on the event loop (where :attr:`checks_keys_async`)."""
        parsed = _parsed_key(presented)
        return self._checked(parsed, await ApiKeyRepository.find_active_async(self.db, parsed.key_id))

    def _checked(self, parsed: apikeys.ParsedKey, key: ActiveKey | None) -> tuple[str, str | None]:
        if key is None or not apikeys.secret_matches(parsed.secret, key.secret_hash):
            raise Unauthenticated("a valid tenant API key is required")
        tenant_id, last_used = key.tenant_id, key.last_used_at
        # "Last used" to the minute: one write a minute per key, not one per request.
        due = last_used is None or self.clock.now() - last_used >= LAST_USED_RESOLUTION
        return tenant_id, parsed.key_id if due else None

    def touch_key(self, key_id: str) -> None:
        """Record that the key was used now (a write: queues for the writers' turn)."""
        with self.db.session() as s:
            ApiKeyRepository(s).touch(key_id, self.clock.now())

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


def _key_view(k: ApiKey) -> ApiKeyView:
    return ApiKeyView(id=k.id, tenant_id=k.tenant_id, label=k.label, created_at=k.created_at,
                      last_used_at=k.last_used_at, revoked_at=k.revoked_at)


def _view(t: Tenant) -> TenantView:
    return TenantView(id=t.id, name=t.name, display_name=t.display_name, created_at=t.created_at,
                      default_method=t.default_method, default_account_id=t.default_account_id,
                      time_zone=t.time_zone, default_from=t.default_from)


def _verified_domain_address(s: Session, tenant_id: str, from_email: str) -> str:
    """``from_email`` if it is at one of the tenant's domains whose records passed (active, or
    degraded within its grace), else a :class:`ValidationError` saying which it is not."""
    address = parse_address(from_email, field="default_from")
    domain = DomainRepository(s).find_by_name(tenant_id=tenant_id, name=address.ascii_domain)
    if domain is None:
        raise ValidationError(f"{address.domain} is not one of this tenant's domains; add it and check its "
                              "DNS records first", code="domain.unknown", field="default_from")
    if not sending_allowed(DomainState(domain.state)):
        raise DomainNotVerified(f"{domain.unicode_name} has not passed its DNS check (it is {domain.state}); "
                                "publish its records and check again",
                                field="default_from", domain=domain.name, state=domain.state)
    return address.email


def check_time_zone(name: str) -> str:
    """An IANA time zone name (``Europe/Amsterdam``), or :class:`ValidationError`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{name!r} is not a time zone name like Europe/Amsterdam",
                              field="time_zone") from exc
    return name


def _parsed_key(presented: str | None) -> apikeys.ParsedKey:
    parsed = apikeys.parse_key(presented or "")
    if parsed is None:
        raise Unauthenticated("a valid tenant API key is required")
    return parsed
