"""core.domainstate: transitions and the re-check schedule of GUIDE §3, with time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailport.core.dnsauth import RecordKind, RecordVerdict, Status
from mailport.core.domainstate import (
    CheckOutcome,
    DomainState,
    after_check,
    check_outcome,
    manual_check_retry_after,
    sending_allowed,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
P, F, I = CheckOutcome.PASSED, CheckOutcome.FAILED, CheckOutcome.INCONCLUSIVE


def _v(kind: RecordKind, status: Status, required: bool = True) -> RecordVerdict:
    return RecordVerdict(kind=kind, name="x", status=status, code="c", required=required)


def test_outcome_ignores_informational_records() -> None:
    ok = [_v(RecordKind.DKIM, Status.PASS), _v(RecordKind.DMARC, Status.PASS)]
    assert check_outcome([*ok, _v(RecordKind.SPF, Status.FAIL, required=False)]) is P
    assert check_outcome([*ok, _v(RecordKind.RETURN_PATH, Status.UNKNOWN)]) is I
    assert check_outcome([_v(RecordKind.DKIM, Status.FAIL), _v(RecordKind.DMARC, Status.UNKNOWN)]) is F


def _check(state: DomainState, outcome: CheckOutcome, now: datetime, *, since: datetime = T0,
           degraded_since: datetime | None = None):  # type: ignore[no-untyped-def]
    return after_check(state=state, state_since=since, created_at=T0, degraded_since=degraded_since,
                       outcome=outcome, now=now)


@pytest.mark.parametrize(
    ("age", "next_in"),
    [(timedelta(minutes=0), timedelta(minutes=5)), (timedelta(minutes=55), timedelta(minutes=5)),
     (timedelta(hours=1), timedelta(hours=1)), (timedelta(hours=71, minutes=30), timedelta(minutes=30)),
     (timedelta(hours=72), None)],
)
def test_pending_schedule(age: timedelta, next_in: timedelta | None) -> None:
    t = _check(DomainState.PENDING, F, T0 + age)
    assert t.state is DomainState.PENDING and not t.changed
    assert t.next_check_at == (None if next_in is None else T0 + age + next_in)


def test_pending_to_active_then_daily() -> None:
    t = _check(DomainState.PENDING, P, T0 + timedelta(minutes=10))
    assert (t.state, t.changed, t.state_since) == (DomainState.ACTIVE, True, T0 + timedelta(minutes=10))
    assert t.next_check_at == T0 + timedelta(minutes=10, days=1)


def test_degrade_grace_suspend_and_recover() -> None:
    day = T0 + timedelta(days=3)
    t = _check(DomainState.ACTIVE, F, day)
    assert (t.state, t.degraded_since, t.next_check_at) == (DomainState.DEGRADED, day, day + timedelta(minutes=5))
    assert sending_allowed(t.state)
    later = day + timedelta(hours=71, minutes=45)
    t2 = _check(DomainState.DEGRADED, F, later, since=day, degraded_since=day)
    assert t2.state is DomainState.DEGRADED and t2.next_check_at == day + timedelta(hours=72)  # not an hour late
    t3 = _check(DomainState.DEGRADED, F, day + timedelta(hours=72), since=day, degraded_since=day)
    assert (t3.state, t3.changed) == (DomainState.SUSPENDED, True)
    assert not sending_allowed(t3.state) and not sending_allowed(DomainState.PENDING)
    t4 = _check(DomainState.SUSPENDED, P, day + timedelta(days=5), since=t3.state_since, degraded_since=day)
    assert (t4.state, t4.degraded_since) == (DomainState.ACTIVE, None)


def test_inconclusive_never_degrades_or_suspends() -> None:
    t = _check(DomainState.ACTIVE, I, T0)
    assert t.state is DomainState.ACTIVE and t.next_check_at == T0 + timedelta(minutes=15)
    d = T0 - timedelta(hours=100)
    t = _check(DomainState.DEGRADED, I, T0, since=d, degraded_since=d)
    assert t.state is DomainState.DEGRADED


def test_degraded_pass_reactivates() -> None:
    t = _check(DomainState.DEGRADED, P, T0 + timedelta(hours=2), degraded_since=T0)
    assert (t.state, t.changed) == (DomainState.ACTIVE, True)


def test_manual_rate_limit_and_aware_times() -> None:
    assert manual_check_retry_after(None, now=T0, min_interval=timedelta(seconds=30)) is None
    assert manual_check_retry_after(T0, now=T0 + timedelta(seconds=10), min_interval=timedelta(seconds=30)) == 20
    assert manual_check_retry_after(T0, now=T0 + timedelta(seconds=30), min_interval=timedelta(seconds=30)) is None
    with pytest.raises(ValueError):
        _check(DomainState.ACTIVE, P, datetime(2026, 1, 1))
