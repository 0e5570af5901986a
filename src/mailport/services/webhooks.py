"""Events and webhooks: record every event once, deliver it signed to each endpoint, keep a log.

:class:`EventLog` is what other services call inside their own transaction: the event row, one
``webhook_deliveries`` row per matching endpoint and one ``webhook`` job per delivery are all
committed with the state change that caused them — an event is never lost between "the message
was sent" and "the host was told".

:class:`WebhookService` manages endpoints (the signing secret is stored encrypted and shown once)
and runs the ``webhook`` jobs: sign with :func:`mailport.core.webhooks.delivery_request`, POST
through the SSRF guard, and retry with :data:`~mailport.core.webhooks.WEBHOOK_RETRY_POLICY`
until the receiver answers 2xx; 410 Gone disables the endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets as random_bytes
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mailport.adapters.queue import ClaimedJob, JobQueue
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.outbox_repository import OutboxRepository, WebhookRepository
from mailport.adapters.storage.tables_outbox import Event as EventRow
from mailport.adapters.storage.tables_outbox import Webhook, WebhookDelivery
from mailport.adapters.webhook_http import WebhookPoster, check_url
from mailport.clock import Clock
from mailport.core.addresses import reject_control_chars
from mailport.core.events import Event, EventPayload, EventType, WebhookTest, format_timestamp, make_event
from mailport.core.jobs import Done, JobResult, Retry
from mailport.core.webhooks import (
    WEBHOOK_RETRY_POLICY,
    check_webhook_url,
    classify_delivery,
    delivery_request,
    format_secret,
)
from mailport.errors import RemoteError, ValidationError
from mailport.ids import new_id
from mailport.services.secretstore import SecretStore
from mailport.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["WEBHOOK_JOB", "DeliveryView", "EventLog", "WebhookService", "WebhookView"]

WEBHOOK_JOB = "webhook"
OWNER = "webhook"
SIGNING_SECRET = "signing"


def _event_from_row(row: EventRow) -> Event:
    return Event(id=row.id, type=EventType(row.type), created_at=row.created_at,
                 tenant_id=row.tenant_id, data=row.data)


class EventLog:
    """Records events and fans them out to the tenant's webhooks, in the caller's transaction."""

    def __init__(self, *, queue: JobQueue, cache_seconds: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.queue = queue
        # Every message event asks "which endpoints want this?"; most tenants have none or one.
        # A second's cache saves that query on hot paths; this process's own changes clear it,
        # another process's are seen within ``cache_seconds``.
        self.cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._targets: dict[str, tuple[float, list[tuple[str, list[str]]]]] = {}

    def invalidate(self, tenant_id: str) -> None:
        self._targets.pop(tenant_id, None)

    def _endpoints(self, hooks: WebhookRepository, tenant_id: str) -> list[tuple[str, list[str]]]:
        now = self._monotonic()
        cached = self._targets.get(tenant_id)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        targets = [(h.id, list(h.event_types)) for h in hooks.enabled(tenant_id=tenant_id)]
        self._targets[tenant_id] = (now, targets)
        return targets

    def record(
        self, s: Session, *, tenant_id: str, payload: EventPayload, now: datetime,
        message_id: str | None = None, only_webhook: str | None = None, seq: int = 0,
    ) -> Event:
        """Store the event and queue its deliveries. ``seq`` orders a message's history when
        two events carry the same time (see :func:`mailport.services.send.event_seq`)."""
        event = make_event(payload, event_id=new_id("evt"), tenant_id=tenant_id, created_at=now)
        OutboxRepository(s).add_event(EventRow(
            id=event.id, tenant_id=tenant_id, message_id=message_id, type=event.type.value,
            data=event.to_dict()["data"], created_at=now, seq=seq,
        ))
        hooks = WebhookRepository(s)
        if only_webhook is not None:
            targets: list[tuple[str, list[str]]] = [(only_webhook, [])]
        else:
            targets = [(hook_id, types) for hook_id, types in self._endpoints(hooks, tenant_id)
                       if not types or event.type.value in types]
        for hook_id, _ in targets:
            delivery = WebhookDelivery(
                id=new_id("whd"), tenant_id=tenant_id, webhook_id=hook_id, event_id=event.id,
                event_type=event.type.value, state="pending", attempts=0, created_at=now,
                updated_at=now, next_attempt_at=now,
            )
            hooks.add_delivery(delivery)
            self.queue.enqueue(kind=WEBHOOK_JOB, payload={"delivery_id": delivery.id}, now=now,
                               tenant_id=tenant_id, dedupe_key=delivery.id, session=s)
        return event

    def record_each(self, s: Session, *, now: datetime,
                    entries: Sequence[tuple[str, str | None, EventPayload, int]]) -> None:
        """:meth:`record` of many events at once — ``(tenant_id, message_id, payload, seq)``
        each, of any tenants: one INSERT for the events, one for the deliveries the tenants'
        webhooks want and one for their jobs (a worker's batch of begun or finished sends)."""
        if not entries:
            return
        rows = self.event_rows(now=now, entries=entries)
        OutboxRepository(s).add_event_rows(rows)
        self.fan_out(s, rows, now=now)

    def event_rows(self, *, now: datetime,
                   entries: Sequence[tuple[str, str | None, EventPayload, int]]) -> list[dict[str, Any]]:
        """The rows :meth:`record_each` stores (for a caller that stores them in a statement of
        its own, then calls :meth:`fan_out` with those it stored)."""
        return [_event_row(payload, tenant_id=tenant_id, message_id=message_id, now=now, seq=seq)
                for tenant_id, message_id, payload, seq in entries]

    def fan_out(self, s: Session, rows: Sequence[Mapping[str, Any]], *, now: datetime) -> None:
        """The webhook deliveries of stored event rows, with their jobs: one INSERT each, none
        when no tenant of the rows has a webhook that wants them."""
        deliveries: list[dict[str, Any]] = []
        hooks = WebhookRepository(s)
        for row in rows:
            tenant_id = str(row["tenant_id"])
            deliveries.extend(_delivery_rows(row, self._endpoints(hooks, tenant_id), tenant_id, now))
        if deliveries:
            hooks.add_deliveries(deliveries)
            self.queue.enqueue_new(s, [{"kind": WEBHOOK_JOB, "payload": {"delivery_id": d["id"]},
                                        "tenant_id": d["tenant_id"], "dedupe_key": d["id"]} for d in deliveries],
                                   now=now)

    def record_many(self, s: Session, *, tenant_id: str, now: datetime,
                    entries: Sequence[tuple[str, EventPayload]]) -> None:
        """:meth:`record` for many messages' events at once (``(message_id, payload)`` each):
        one INSERT for the events, and the deliveries of those the tenant's webhooks want."""
        rows = [_event_row(payload, tenant_id=tenant_id, message_id=message_id, now=now, seq=0)
                for message_id, payload in entries]
        OutboxRepository(s).add_event_rows(rows)
        hooks = WebhookRepository(s)
        targets = self._endpoints(hooks, tenant_id)
        deliveries: list[dict[str, Any]] = []
        for row in rows:
            deliveries.extend(_delivery_rows(row, targets, tenant_id, now))
        if deliveries:  # a batch to a tenant with webhooks: thousands of rows, two statements
            hooks.add_deliveries(deliveries)
            self.queue.enqueue_new(s, [{"kind": WEBHOOK_JOB, "payload": {"delivery_id": d["id"]},
                                        "tenant_id": tenant_id, "dedupe_key": d["id"]} for d in deliveries],
                                   now=now)


def _event_row(payload: EventPayload, *, tenant_id: str, message_id: str | None, now: datetime,
               seq: int) -> dict[str, Any]:
    """An event's row as :func:`make_event` and :meth:`Event.to_dict` would give its values,
    without building the :class:`Event` (its checks and a second pass over ``data`` were a
    twentieth of a batch's accept CPU): ``data`` is the payload's JSON values either way."""
    if not tenant_id:
        raise ValidationError("an event needs a tenant_id", field="tenant_id")
    format_timestamp(now)  # refuses naive times, as make_event does
    return {"id": new_id("evt"), "tenant_id": tenant_id, "message_id": message_id, "type": payload.type.value,
            "data": payload.to_data(), "created_at": now, "seq": seq}


def _delivery_rows(event: Mapping[str, Any], targets: Sequence[tuple[str, list[str]]], tenant_id: str,
                   now: datetime) -> list[dict[str, Any]]:
    """The pending delivery rows of one event (its row): one per webhook whose event types take
    it (none listed: all)."""
    return [{"id": new_id("whd"), "tenant_id": tenant_id, "webhook_id": hook_id, "event_id": event["id"],
             "event_type": event["type"], "state": "pending", "attempts": 0, "created_at": now,
             "updated_at": now, "next_attempt_at": now}
            for hook_id, types in targets if not types or event["type"] in types]


@dataclass(frozen=True, slots=True)
class WebhookView:
    id: str
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Webhook) -> WebhookView:
        return cls(id=row.id, url=row.url, description=row.description,
                   event_types=list(row.event_types), enabled=row.enabled,
                   disabled_reason=row.disabled_reason, created_at=row.created_at,
                   updated_at=row.updated_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "url": self.url, "description": self.description,
            "event_types": self.event_types, "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryView:
        return cls(id=row.id, webhook_id=row.webhook_id, event_id=row.event_id,
                   event_type=row.event_type, state=row.state, attempts=row.attempts,
                   last_status_code=row.last_status_code, last_error=row.last_error,
                   last_duration_ms=row.last_duration_ms, next_attempt_at=row.next_attempt_at,
                   delivered_at=row.delivered_at, created_at=row.created_at)

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "webhook_id": self.webhook_id, "event_id": self.event_id,
            "event_type": self.event_type, "state": self.state, "attempts": self.attempts,
            "last_status_code": self.last_status_code, "last_error": self.last_error,
            "last_duration_ms": self.last_duration_ms, "next_attempt_at": iso(self.next_attempt_at),
            "delivered_at": iso(self.delivered_at), "created_at": self.created_at.isoformat(),
        }


class WebhookService:
    def __init__(
        self, *, db: Database, secrets: SecretStore, events: EventLog, poster: WebhookPoster,
        clock: Clock, settings: Settings, rng: Callable[[], float] | None = None,
    ) -> None:
        self.db = db
        self.secrets = secrets
        self.events = events
        self.poster = poster
        self.clock = clock
        self.settings = settings
        self.rng = rng or random.Random().random

    # -- endpoints ---------------------------------------------------------------------------

    def create(
        self, tenant_id: str, *, url: str, event_types: Sequence[str] = (),
        description: str | None = None,
    ) -> tuple[WebhookView, str]:
        """A new endpoint and its signing secret (``whsec_…``), which is shown only here."""
        checked_url = self._check_url(url)
        types = _check_event_types(event_types)
        now = self.clock.now()
        secret = format_secret(random_bytes.token_bytes(32))
        with self.db.session() as s:
            row = WebhookRepository(s).add(Webhook(
                id=new_id("whk"), tenant_id=tenant_id, url=checked_url,
                description=_check_description(description), event_types=types, enabled=True,
                created_at=now, updated_at=now,
            ))
            self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=row.id,
                             name=SIGNING_SECRET, value=secret)
            view = WebhookView.of(row)
        self.events.invalidate(tenant_id)
        return view, secret

    def list_webhooks(self, tenant_id: str) -> list[WebhookView]:
        with self.db.session() as s:
            return [WebhookView.of(w) for w in WebhookRepository(s).list_for_tenant(tenant_id=tenant_id)]

    def get(self, tenant_id: str, webhook_id: str) -> WebhookView:
        with self.db.session() as s:
            return WebhookView.of(WebhookRepository(s).get(tenant_id=tenant_id, webhook_id=webhook_id))

    def update(
        self, tenant_id: str, webhook_id: str, *, url: str | None = None,
        event_types: Sequence[str] | None = None, enabled: bool | None = None,
        description: str | None = None,
    ) -> WebhookView:
        with self.db.session() as s:
            row = WebhookRepository(s).get(tenant_id=tenant_id, webhook_id=webhook_id)
            if url is not None:
                row.url = self._check_url(url)
            if event_types is not None:
                row.event_types = _check_event_types(event_types)
            if description is not None:
                row.description = _check_description(description)
            if enabled is not None:
                row.enabled = enabled
                if enabled:
                    row.disabled_reason = None
            row.updated_at = self.clock.now()
            s.flush()
            view = WebhookView.of(row)
        self.events.invalidate(tenant_id)
        return view

    def rotate_secret(self, tenant_id: str, webhook_id: str) -> str:
        """A new signing secret (the old one stops working at once)."""
        secret = format_secret(random_bytes.token_bytes(32))
        with self.db.session() as s:
            WebhookRepository(s).get(tenant_id=tenant_id, webhook_id=webhook_id)
            self.secrets.put(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=webhook_id,
                             name=SIGNING_SECRET, value=secret)
        return secret

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        with self.db.session() as s:
            WebhookRepository(s).delete(tenant_id=tenant_id, webhook_id=webhook_id)
            self.secrets.delete_owner(s, tenant_id=tenant_id, owner_kind=OWNER, owner_id=webhook_id)
        self.events.invalidate(tenant_id)

    def deliveries(self, tenant_id: str, webhook_id: str, *, limit: int = 50) -> list[DeliveryView]:
        with self.db.session() as s:
            repo = WebhookRepository(s)
            repo.get(tenant_id=tenant_id, webhook_id=webhook_id)
            return [DeliveryView.of(d) for d in repo.deliveries(tenant_id=tenant_id,
                                                                webhook_id=webhook_id, limit=limit)]

    def test(self, tenant_id: str, webhook_id: str) -> DeliveryView:
        """Queue a ``webhook.test`` event to this endpoint only (even if it filters types)."""
        now = self.clock.now()
        with self.db.session() as s:
            repo = WebhookRepository(s)
            hook = repo.get(tenant_id=tenant_id, webhook_id=webhook_id)
            if not hook.enabled:
                raise ValidationError("the webhook is disabled; enable it first",
                                      code="webhook.disabled", field="enabled")
            event = self.events.record(s, tenant_id=tenant_id, payload=WebhookTest(webhook_id=hook.id),
                                       now=now, only_webhook=hook.id)
            delivery = next(d for d in repo.deliveries(tenant_id=tenant_id, webhook_id=hook.id, limit=5)
                            if d.event_id == event.id)
            return DeliveryView.of(delivery)

    # -- the ``webhook`` job -----------------------------------------------------------------

    async def handle_delivery(self, job: ClaimedJob) -> JobResult:
        delivery_id = str(job.payload.get("delivery_id", ""))
        prepared = await asyncio.to_thread(self._prepare, delivery_id)
        if prepared is None:
            return Done()
        url, event, secret = prepared
        now = self.clock.now()
        body, headers = delivery_request(event, secrets=[secret], timestamp=now)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        refused = False
        try:
            response = await self.poster.post(url, body=body, headers=headers,
                                              timeout=self.settings.webhook_timeout)
            status = response.status
            if not 200 <= status < 300:
                error = f"HTTP {status}: {response.excerpt[:200]}".strip()
        except RemoteError as exc:
            error = f"[{exc.code}] {exc.message}"
        except ValidationError as exc:
            # The URL breaks the rule (saved under an older one): no retry makes it valid, only an edit.
            error, refused = f"[{exc.code}] {exc.message}", True
        duration_ms = int((time.perf_counter() - started) * 1000)
        return await asyncio.to_thread(self._record, delivery_id, status, error, duration_ms, refused)

    def _prepare(self, delivery_id: str) -> tuple[str, Event, str] | None:
        now = self.clock.now()
        with self.db.session() as s:
            repo = WebhookRepository(s)
            delivery = repo.delivery(delivery_id)
            if delivery is None or delivery.state != "pending":
                return None
            hook = repo.find(delivery.webhook_id)
            row = OutboxRepository(s).event(delivery.event_id)
            if hook is None or row is None or not hook.enabled:
                delivery.state, delivery.updated_at = "failed", now
                delivery.last_error = "the webhook was disabled or removed"
                return None
            secret = self.secrets.get(s, tenant_id=hook.tenant_id, owner_kind=OWNER, owner_id=hook.id,
                                      name=SIGNING_SECRET)
            if secret is None:
                delivery.state, delivery.updated_at = "failed", now
                delivery.last_error = "the webhook has no signing secret"
                return None
            return hook.url, _event_from_row(row), secret.reveal()

    def _record(self, delivery_id: str, status: int | None, error: str | None,
                duration_ms: int, refused: bool = False) -> JobResult:
        now = self.clock.now()
        verdict = classify_delivery(status)
        with self.db.session() as s:
            repo = WebhookRepository(s)
            delivery = repo.delivery(delivery_id)
            if delivery is None:
                return Done()
            delivery.attempts += 1
            delivery.last_status_code = status
            delivery.last_error = error
            delivery.last_duration_ms = duration_ms
            delivery.updated_at = now
            if verdict == "delivered":
                delivery.state, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
                return Done()
            if refused:
                delivery.state, delivery.next_attempt_at = "failed", None
                return Done()
            if verdict == "gone":
                delivery.state, delivery.next_attempt_at = "gone", None
                hook = repo.find(delivery.webhook_id)
                if hook is not None:
                    hook.enabled = False
                    hook.disabled_reason = "the receiver answered 410 Gone"
                    hook.updated_at = now
                    self.events.invalidate(hook.tenant_id)
                return Done()
            retry_at = WEBHOOK_RETRY_POLICY.next_attempt(
                attempt=delivery.attempts, queued_at=delivery.created_at, now=now, rng=self.rng)
            if retry_at is None:
                delivery.state, delivery.next_attempt_at = "failed", None
                return Done()
            delivery.next_attempt_at = retry_at
            return Retry(run_at=retry_at, error=error)

    # -- checks ------------------------------------------------------------------------------

    def _check_url(self, url: str) -> str:
        if isinstance(url, str):
            check_url(url.strip())  # what httpx, which delivers, cannot parse is "not valid" first
        return check_webhook_url(url, allow_private=self.settings.private_hosts)


def _check_event_types(values: Sequence[str]) -> list[str]:
    known = {t.value for t in EventType}
    if isinstance(values, str):
        raise ValidationError("event_types is a list", field="event_types")
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError(f"unknown event type(s): {', '.join(unknown)}", field="event_types")
    return sorted(set(values))


def _check_description(value: str | None) -> str | None:
    if value is None:
        return None
    value = reject_control_chars(value, field="description").strip()
    if len(value) > 200:
        raise ValidationError("description is longer than 200 characters", field="description")
    return value or None
