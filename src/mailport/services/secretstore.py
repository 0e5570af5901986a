"""Encrypted secrets of tenant-owned objects (passwords, OAuth tokens, DKIM keys) and key rotation.

Each secret is one row, encrypted with the keyring's first key and bound (AES-GCM associated data)
to its tenant, owner and name, so a ciphertext moved to another row does not decrypt. Rotation
re-encrypts in small batches, one transaction each: the service keeps running, every key in the
keyring still decrypts, and a crash mid-way simply resumes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailport.adapters.secrets import Secret, SecretBox
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.repositories import SecretRepository
from mailport.clock import Clock
from mailport.logs import register_secret


def _aad(tenant_id: str, owner_kind: str, owner_id: str, name: str) -> str:
    return f"{tenant_id}:{owner_kind}:{owner_id}:{name}"


@dataclass(frozen=True, slots=True)
class RotationReport:
    rotated: int
    by_key_before: dict[str, int]
    by_key_after: dict[str, int]


class SecretStore:
    def __init__(self, *, db: Database, box: SecretBox, clock: Clock) -> None:
        self.db = db
        self.box = box
        self.clock = clock

    def put(self, s: Session, *, tenant_id: str, owner_kind: str, owner_id: str, name: str, value: str) -> None:
        """Store (or replace) a secret inside the caller's transaction."""
        register_secret(value)
        token = self.box.encrypt(value, aad=_aad(tenant_id, owner_kind, owner_id, name))
        SecretRepository(s).put(
            tenant_id=tenant_id, owner_kind=owner_kind, owner_id=owner_id, name=name,
            key_id=self.box.key_id_of(token), ciphertext=token, now=self.clock.now(),
        )

    def get(self, s: Session, *, tenant_id: str, owner_kind: str, owner_id: str, name: str) -> Secret | None:
        token = SecretRepository(s).get(tenant_id=tenant_id, owner_kind=owner_kind, owner_id=owner_id, name=name)
        if token is None:
            return None
        value = self.box.decrypt(token, aad=_aad(tenant_id, owner_kind, owner_id, name))
        register_secret(value)
        return Secret(value)

    def exists(self, s: Session, *, tenant_id: str, owner_kind: str, owner_id: str, name: str) -> bool:
        return SecretRepository(s).get(
            tenant_id=tenant_id, owner_kind=owner_kind, owner_id=owner_id, name=name
        ) is not None

    def delete_owner(self, s: Session, *, tenant_id: str, owner_kind: str, owner_id: str) -> int:
        return SecretRepository(s).delete_owner(tenant_id=tenant_id, owner_kind=owner_kind, owner_id=owner_id)

    def rotate(self, *, batch: int = 200) -> RotationReport:
        """Re-encrypt every secret not yet under the keyring's first key."""
        primary = self.box.primary_key_id
        with self.db.session() as s:
            before = SecretRepository(s).count_by_key()
        rotated = 0
        while True:
            with self.db.session() as s:
                rows = SecretRepository(s).not_under_key(primary, limit=batch)
                for row in rows:
                    aad = _aad(row.tenant_id, row.owner_kind, row.owner_id, row.name)
                    row.ciphertext = self.box.rotate(row.ciphertext, aad=aad)
                    row.key_id = primary
                    row.updated_at = self.clock.now()
                rotated += len(rows)
            if len(rows) < batch:
                break
        with self.db.session() as s:
            after = SecretRepository(s).count_by_key()
        return RotationReport(rotated=rotated, by_key_before=before, by_key_after=after)
