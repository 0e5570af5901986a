"""The life of an own sending domain: pending → active → degraded → suspended, and when to re-check.

Pure: the time is passed in. GUIDE §3 "Own domain":

- **pending**: records published? Re-checked every 5 minutes in the first hour after the domain
  was added, then hourly until 72 hours; after that only when the user asks ("check and activate").
- **active**: every required record passes. Re-checked daily.
- **degraded**: a re-check of an active domain failed. Mail still goes out (the grace period
  exists so a DNS slip does not stop invoicing at once) and the tenant is notified. Re-checked on
  the pending schedule, counted from the moment it degraded; a pass makes it active again.
- **suspended**: still failing when the 72-hour grace ran out. Mail from the domain stops — or
  goes from the platform address with Reply-To instead, if the tenant chose that; we never sign
  with a ``d=`` whose key DNS no longer publishes. Re-checked daily; a pass re-activates.

A check whose lookups did not answer (timeout, SERVFAIL) is *inconclusive*: it never activates,
never degrades and never suspends — a flaky DNS server must not stop a tenant's mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from mailport.core.dnsauth import RecordVerdict, Status
from mailport.errors import ValidationError

__all__ = [
    "ACTIVE_INTERVAL",
    "FAST_INTERVAL",
    "FAST_PHASE",
    "GRACE",
    "SLOW_INTERVAL",
    "SLOW_PHASE",
    "CheckOutcome",
    "DomainState",
    "Transition",
    "after_check",
    "check_outcome",
    "manual_check_retry_after",
    "sending_allowed",
]

FAST_PHASE: Final = timedelta(hours=1)
FAST_INTERVAL: Final = timedelta(minutes=5)
SLOW_PHASE: Final = timedelta(hours=72)
SLOW_INTERVAL: Final = timedelta(hours=1)
ACTIVE_INTERVAL: Final = timedelta(days=1)
GRACE: Final = timedelta(hours=72)
INCONCLUSIVE_RETRY: Final = timedelta(minutes=15)


class DomainState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DEGRADED = "degraded"
    SUSPENDED = "suspended"


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


def check_outcome(verdicts: Iterable[RecordVerdict]) -> CheckOutcome:
    """Failed if a required record fails; inconclusive if one could not be looked up; else passed.

    Informational records (SPF) never decide the outcome.
    """
    required = [v for v in verdicts if v.required]
    if any(v.status is Status.FAIL for v in required):
        return CheckOutcome.FAILED
    if any(v.status is Status.UNKNOWN for v in required):
        return CheckOutcome.INCONCLUSIVE
    return CheckOutcome.PASSED


def sending_allowed(state: DomainState) -> bool:
    """Active, or degraded within its grace period (the grace exists to keep mail flowing)."""
    return state in (DomainState.ACTIVE, DomainState.DEGRADED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """The state after a check and when to look again (``next_check_at`` ``None``: only on demand)."""

    previous: DomainState
    state: DomainState
    state_since: datetime
    degraded_since: datetime | None
    next_check_at: datetime | None

    @property
    def changed(self) -> bool:
        return self.state is not self.previous


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(f"{name} must be timezone-aware", field=name)


def _ramp(start: datetime, now: datetime) -> datetime | None:
    """Every 5 minutes in the first hour after ``start``, hourly until 72 hours, then nothing."""
    age = now - start
    if age < FAST_PHASE:
        return now + FAST_INTERVAL
    if age < SLOW_PHASE:
        return min(now + SLOW_INTERVAL, start + SLOW_PHASE)
    return None


def after_check(
    *,
    state: DomainState,
    state_since: datetime,
    created_at: datetime,
    degraded_since: datetime | None,
    outcome: CheckOutcome,
    now: datetime,
) -> Transition:
    """Apply one check's outcome to a domain; the single place the rules of GUIDE §3 live."""
    for value, name in ((state_since, "state_since"), (created_at, "created_at"), (now, "now")):
        _aware(value, name)
    state = DomainState(state)

    def go(new: DomainState, next_at: datetime | None, degraded: datetime | None = None) -> Transition:
        return Transition(
            previous=state, state=new, state_since=state_since if new is state else now,
            degraded_since=degraded, next_check_at=next_at,
        )

    if outcome is CheckOutcome.PASSED:
        return go(DomainState.ACTIVE, now + ACTIVE_INTERVAL)

    if state is DomainState.PENDING:
        if outcome is CheckOutcome.INCONCLUSIVE:
            ramp = _ramp(created_at, now)
            return go(state, None if ramp is None else max(ramp, now + FAST_INTERVAL))
        return go(state, _ramp(created_at, now))

    if state is DomainState.ACTIVE:
        if outcome is CheckOutcome.INCONCLUSIVE:
            return go(state, now + INCONCLUSIVE_RETRY)
        return go(DomainState.DEGRADED, now + FAST_INTERVAL, degraded=now)

    if state is DomainState.DEGRADED:
        since = degraded_since or state_since
        deadline = since + GRACE
        if outcome is CheckOutcome.FAILED and now >= deadline:
            return go(DomainState.SUSPENDED, now + ACTIVE_INTERVAL, degraded=since)
        ramp = _ramp(since, now) or now + SLOW_INTERVAL
        # The check that can suspend happens right when the grace period ends, not up to an hour late.
        next_at = deadline if now < deadline < ramp else ramp
        return go(state, next_at, degraded=since)

    # suspended: daily until it passes (or the user fixes DNS and clicks "check and activate")
    return go(state, now + ACTIVE_INTERVAL, degraded=degraded_since)


def manual_check_retry_after(
    last_manual_check_at: datetime | None, *, now: datetime, min_interval: timedelta
) -> float | None:
    """Seconds until the user may ask for another check, or ``None`` if they may now."""
    if last_manual_check_at is None:
        return None
    wait = (last_manual_check_at + min_interval - now).total_seconds()
    return wait if wait > 0 else None
