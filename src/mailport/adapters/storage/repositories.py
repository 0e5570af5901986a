"""Repositories: the only code that writes SQL for tenants, keys, secrets and accounts.

Every method on tenant-owned data takes ``tenant_id`` and filters by it, so another tenant's row is
simply "not found" — the isolation rule lives here, not in each endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.row_read import RowRead
from mailport.adapters.storage.tables import Account, ApiKey, Secret, Tenant
from mailport.errors import NotFound


class ActiveKey(NamedTuple):
    tenant_id: str
    secret_hash: str
    last_used_at: datetime | None


# Read on every request or accepted message: built once (building a select costs more Python
# than the lookup takes in SQLite).
_ACTIVE_KEY = RowRead(select(ApiKey.tenant_id, ApiKey.secret_hash, ApiKey.last_used_at).where(
    ApiKey.id == bindparam("key_id"), ApiKey.revoked_at.is_(None)))
_ACCOUNT_BY_ID = select(Account).where(Account.tenant_id == bindparam("tenant_id"),
                                       Account.id == bindparam("account_id"))
_SENDER_BY_ID = RowRead(select(Account.id, Account.email, Account.display_name).where(
    Account.tenant_id == bindparam("tenant_id"), Account.id == bindparam("account_id")))


class Sender(NamedTuple):
    """What accepting a message needs of its account."""

    id: str
    email: str
    display_name: str | None


class SendingAccountRow(NamedTuple):
    """The columns of an account the worker reads to send from it."""

    id: str
    tenant_id: str
    email: str
    provider_id: str | None
    auth_kind: str
    transport: str
    smtp: dict[str, Any]
    imap: dict[str, Any] | None
    daily_limit: int | None
    status: str
    attention: dict[str, Any] | None
    updated_at: datetime


_ACCOUNTS_FOR_SENDING = RowRead(select(*(getattr(Account, f) for f in SendingAccountRow._fields))
                                .where(Account.id.in_(bindparam("b_ids", expanding=True))))


class TenantRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, *, id: str, name: str, now: datetime, display_name: str | None = None) -> Tenant:
        tenant = Tenant(id=id, name=name, display_name=display_name, created_at=now)
        self.s.add(tenant)
        self.s.flush()
        return tenant

    def get(self, tenant_id: str) -> Tenant:
        tenant = self.s.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound("no such tenant", resource="tenant")
        return tenant

    def list_all(self) -> Sequence[Tenant]:
        return self.s.scalars(select(Tenant).order_by(Tenant.created_at, Tenant.id)).all()


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, *, id: str, tenant_id: str, secret_hash: str, label: str | None, now: datetime) -> ApiKey:
        key = ApiKey(id=id, tenant_id=tenant_id, secret_hash=secret_hash, label=label, created_at=now)
        self.s.add(key)
        self.s.flush()
        return key

    @staticmethod
    def find_active(db: Database, key_id: str) -> ActiveKey | None:
        """What checking a presented key needs, if the key exists and is not revoked. Read on
        every request, outside any session and the writers' turn (:class:`RowRead`: a session
        cost thirty times the lookup)."""
        row = _ACTIVE_KEY.first(db, {"key_id": key_id})
        return None if row is None else ActiveKey(*row)

    @staticmethod
    async def find_active_async(db: Database, key_id: str) -> ActiveKey | None:
        """:meth:`find_active` awaited on the event loop, where ``db.has_async_reads``."""
        row = await _ACTIVE_KEY.first_async(db, {"key_id": key_id})
        return None if row is None else ActiveKey(*row)

    def list_for_tenant(self, tenant_id: str) -> Sequence[ApiKey]:
        return self.s.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.id)
        ).all()

    def get(self, *, tenant_id: str, key_id: str) -> ApiKey:
        key = self.s.get(ApiKey, key_id)
        if key is None or key.tenant_id != tenant_id:
            raise NotFound("no such API key", resource="api_key")
        return key

    def touch(self, key_id: str, now: datetime) -> None:
        self.s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


class SecretRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def put(
        self, *, tenant_id: str, owner_kind: str, owner_id: str, name: str, key_id: str, ciphertext: str, now: datetime
    ) -> None:
        row = self.s.scalar(
            select(Secret).where(
                Secret.tenant_id == tenant_id,
                Secret.owner_kind == owner_kind,
                Secret.owner_id == owner_id,
                Secret.name == name,
            )
        )
        if row is None:
            self.s.add(
                Secret(
                    tenant_id=tenant_id, owner_kind=owner_kind, owner_id=owner_id, name=name,
                    key_id=key_id, ciphertext=ciphertext, updated_at=now,
                )
            )
        else:
            row.key_id, row.ciphertext, row.updated_at = key_id, ciphertext, now
        self.s.flush()

    def get(self, *, tenant_id: str, owner_kind: str, owner_id: str, name: str) -> str | None:
        return self.s.scalar(
            select(Secret.ciphertext).where(
                Secret.tenant_id == tenant_id,
                Secret.owner_kind == owner_kind,
                Secret.owner_id == owner_id,
                Secret.name == name,
            )
        )

    def delete_owner(self, *, tenant_id: str, owner_kind: str, owner_id: str) -> int:
        result = self.s.execute(
            delete(Secret).where(
                Secret.tenant_id == tenant_id, Secret.owner_kind == owner_kind, Secret.owner_id == owner_id
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def not_under_key(self, key_id: str, *, limit: int) -> Sequence[Secret]:
        """Secrets still encrypted under another key than ``key_id`` (for rotation batches)."""
        return self.s.scalars(
            select(Secret).where(Secret.key_id != key_id).order_by(Secret.id).limit(limit)
        ).all()

    def count_by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key_id in self.s.scalars(select(Secret.key_id)):
            counts[key_id] = counts.get(key_id, 0) + 1
        return counts


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, account: Account) -> Account:
        self.s.add(account)
        self.s.flush()
        return account

    def get(self, *, tenant_id: str, account_id: str) -> Account:
        account = self.s.scalar(_ACCOUNT_BY_ID, {"tenant_id": tenant_id, "account_id": account_id})
        if account is None:
            raise NotFound("no such account", resource="account")
        return account

    @staticmethod
    def sender(db: Database, *, tenant_id: str, account_id: str) -> Sender:
        """:meth:`get` of the columns the accept path uses, as a plain row read outside any
        session (every accepted message reads one: :class:`RowRead`)."""
        row = _SENDER_BY_ID.first(db, {"tenant_id": tenant_id, "account_id": account_id})
        if row is None:
            raise NotFound("no such account", resource="account")
        return Sender(*row)

    def load_for_sending(self, account_ids: Sequence[str]) -> dict[str, SendingAccountRow]:
        """The worker's read of a batch's accounts, in one query, as plain rows (:class:`RowRead`);
        by id only: each comes from the batch's own messages, whose tenant the worker checks."""
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        return {a.id: a for a in map(SendingAccountRow._make, _ACCOUNTS_FOR_SENDING.all_in(self.s, {"b_ids": ids}))}

    def find_by_email(self, *, tenant_id: str, email: str) -> Account | None:
        return self.s.scalar(
            select(Account).where(Account.tenant_id == tenant_id, Account.email == email)
        )

    def list_for_tenant(self, *, tenant_id: str) -> Sequence[Account]:
        return self.s.scalars(
            select(Account).where(Account.tenant_id == tenant_id).order_by(Account.created_at, Account.id)
        ).all()

    def update(self, *, tenant_id: str, account_id: str, values: dict[str, Any]) -> Account:
        account = self.get(tenant_id=tenant_id, account_id=account_id)
        for name, value in values.items():
            setattr(account, name, value)
        self.s.flush()
        return account

    def delete(self, *, tenant_id: str, account_id: str) -> None:
        account = self.get(tenant_id=tenant_id, account_id=account_id)
        self.s.delete(account)
        self.s.flush()
