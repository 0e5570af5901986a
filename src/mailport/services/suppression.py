"""The tenant's suppression list: addresses mailport refuses to send to until someone removes them.

A hard bounce puts the recipient on the list at once, soft bounces after
``settings.suppress_after_soft_bounces`` in a row (:mod:`mailport.core.suppression`); a person can
add or remove an address (API, CLI, client library, the Outbox page). Each new entry fires
``recipient.suppressed``. :meth:`SuppressionService.refuse_suppressed` is the accept-time check:
it raises ``send.recipient_suppressed`` carrying the bounce's diagnosis code, which the API
explains in the caller's language.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailport.adapters.storage.suppression_repository import ListedAddress, SuppressionRepository
from mailport.adapters.storage.tables_suppression import Suppression
from mailport.core.addresses import parse_address
from mailport.core.bounces import BouncedRecipient
from mailport.core.contacts import address_key
from mailport.core.events import RecipientSuppressed
from mailport.core.suppression import SuppressionReason, diagnosis_for, next_soft_count
from mailport.errors import NotFound, SuppressedRecipientError, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from mailport.adapters.storage.database import Database
    from mailport.clock import Clock
    from mailport.services.webhooks import EventLog

__all__ = ["SuppressionService", "SuppressionView"]

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class SuppressionView:
    address: str
    reason: str
    status: str | None
    diagnosis: str | None
    server_text: str | None
    message_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Suppression | ListedAddress) -> SuppressionView:
        return cls(address=row.address, reason=row.reason, status=row.status, diagnosis=row.diagnosis,
                   server_text=row.server_text, message_id=row.message_id, created_at=row.created_at)

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "reason": self.reason, "status": self.status,
                "diagnosis": self.diagnosis, "server_text": self.server_text, "message_id": self.message_id,
                "created_at": self.created_at.isoformat()}


class SuppressionService:
    def __init__(self, *, db: Database, clock: Clock, events: EventLog | None, soft_threshold: int) -> None:
        self.db = db
        self.clock = clock
        self.events = events
        self.soft_threshold = soft_threshold

    # -- reading and editing -------------------------------------------------------------------
    def list_suppressions(self, tenant_id: str, *, limit: int = 100, after: str | None = None) -> list[SuppressionView]:
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        with self.db.session() as s:
            rows = SuppressionRepository(s).list_for_tenant(tenant_id=tenant_id, limit=limit,
                                                 after=_key(after) if after else None)
            return [SuppressionView.of(r) for r in rows]

    def get(self, tenant_id: str, address: str) -> SuppressionView:
        with self.db.session() as s:
            row = SuppressionRepository(s).get(tenant_id=tenant_id, address_key=_key(address))
            if row is None:
                raise NotFound(f"{address} is not on the suppression list", code="suppression.not_found")
            return SuppressionView.of(row)

    def add(self, tenant_id: str, address: str) -> SuppressionView:
        """Put ``address`` on the list by hand (idempotent: an existing entry is kept as it is)."""
        parsed = parse_address(address, field="address")
        now = self.clock.now()
        with self.db.session() as s:
            self._suppress(s, tenant_id=tenant_id, address=parsed.email, key=parsed.key, reason="manual",
                           status=None, diagnosis=None, server_text=None, message_id=None, now=now)
            row = SuppressionRepository(s).get(tenant_id=tenant_id, address_key=parsed.key)
            assert row is not None
            return SuppressionView.of(row)

    def remove(self, tenant_id: str, address: str) -> None:
        """Take ``address`` off the list (the customer fixed it); its soft-bounce count restarts."""
        with self.db.session() as s:
            if not SuppressionRepository(s).remove(tenant_id=tenant_id, address_key=_key(address)):
                raise NotFound(f"{address} is not on the suppression list", code="suppression.not_found")

    # -- the accept-time check -----------------------------------------------------------------
    def refuse_suppressed(self, s: Session, tenant_id: str, addresses: Sequence[str]) -> None:
        """Raise ``send.recipient_suppressed`` if any of ``addresses`` is on the list."""
        keys = [k for k in (address_key(a) for a in addresses) if k]
        _raise_if_listed(SuppressionRepository(s).find(tenant_id=tenant_id, address_keys=keys))

    def refusals(self, s: Session, tenant_id: str,
                 recipients: Sequence[Sequence[str]]) -> Sequence[ValidationError | None]:
        """:meth:`refuse_suppressed` for many messages with one query: per message the error
        it would raise, or ``None``."""
        keys_of = [[k for k in (address_key(a) for a in addresses) if k] for addresses in recipients]
        listed = SuppressionRepository(s).find(
            tenant_id=tenant_id, address_keys=list(dict.fromkeys(k for keys in keys_of for k in keys)))
        by_key = {row.address_key: row for row in listed}
        errors: builtins.list[ValidationError | None] = []
        for keys in keys_of:
            try:
                _raise_if_listed([by_key[k] for k in dict.fromkeys(keys) if k in by_key])
                errors.append(None)
            except ValidationError as exc:
                errors.append(exc)
        return errors

    # -- bounces -------------------------------------------------------------------------------
    def record_bounce(self, s: Session, *, tenant_id: str, recipient: BouncedRecipient,
                      message_id: str | None, now: datetime) -> bool:
        """Count one bounce for its recipient (in the caller's transaction); True if it suppressed."""
        key = address_key(recipient.recipient)
        if key is None:
            return False
        reason: SuppressionReason
        if recipient.hard:
            reason = "hard_bounce"
        else:
            repo = SuppressionRepository(s)
            counter = repo.soft_counter(tenant_id=tenant_id, address_key=key)
            verdict = next_soft_count(counter.soft_count if counter else 0, counter.last_at if counter else None,
                                      now=now, threshold=self.soft_threshold)
            repo.set_soft_counter(tenant_id=tenant_id, address_key=key, count=verdict.count, now=now)
            if not verdict.suppress:
                return False
            reason = "soft_bounces"
        return self._suppress(s, tenant_id=tenant_id, address=recipient.recipient, key=key, reason=reason,
                              status=recipient.status, diagnosis=diagnosis_for(recipient.category),
                              server_text=(recipient.diagnostic or "")[:2000] or None,
                              message_id=message_id, now=now)

    def _suppress(self, s: Session, *, tenant_id: str, address: str, key: str, reason: SuppressionReason,
                  status: str | None, diagnosis: str | None, server_text: str | None,
                  message_id: str | None, now: datetime) -> bool:
        added = SuppressionRepository(s).add(Suppression(
            tenant_id=tenant_id, address_key=key, address=address, reason=reason, status=status,
            diagnosis=diagnosis, server_text=server_text, message_id=message_id, created_at=now))
        if added and self.events is not None:
            self.events.record(s, tenant_id=tenant_id, now=now, message_id=message_id, payload=RecipientSuppressed(
                address=address, reason=reason, status=status, diagnosis=diagnosis, message_id=message_id))
        return added


def _key(address: str) -> str:
    key = address_key(address)
    if key is None:
        raise ValidationError(f"{address!r} is not an email address", field="address")
    return key


def _raise_if_listed(found: Sequence[ListedAddress]) -> None:
    if not found:
        return
    first = found[0]
    raise SuppressedRecipientError(
        f"{first.address} is on the suppression list ({first.reason.replace('_', ' ')}"
        f"{', ' + first.status if first.status else ''}); remove it from the list or send with "
        "ignore_suppression",
        field="to",
        diagnosis_code=first.diagnosis, server_text=first.server_text,
        suppressed=[SuppressionView.of(r).to_dict() for r in found],
    )
