"""core.leases: the one lease rule of the job queue, with literal values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailport.core.leases import RECOVERED_RUN_AT, LeasePolicy, WorkerId, holds_slot, is_claimable
from mailport.errors import ValidationError

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_policy_for_the_configured_lease() -> None:
    policy = LeasePolicy.for_lease(60)
    assert (policy.duration, policy.heartbeat, policy.silent_after) == (60 * S, 2 * S, 10 * S)
    short = LeasePolicy.for_lease(4)
    assert (short.heartbeat, short.silent_after) == (0.8 * S, 4 * S)
    assert policy.until(T0) == T0 + 60 * S and policy.live_since(T0) == T0 - 10 * S
    with pytest.raises(ValidationError):
        LeasePolicy(heartbeat=10 * S, silent_after=10 * S)
    with pytest.raises(ValidationError):
        LeasePolicy(duration=5 * S, heartbeat=S, silent_after=10 * S)


def test_claimable_ready_when_due_running_only_when_the_lease_ran_out() -> None:
    assert is_claimable(state="ready", run_at=T0, locked_until=None, now=T0)
    assert not is_claimable(state="ready", run_at=T0 + S, locked_until=None, now=T0)
    assert is_claimable(state="ready", run_at=RECOVERED_RUN_AT, locked_until=None, now=T0)
    assert not is_claimable(state="running", run_at=T0, locked_until=T0, now=T0)
    assert is_claimable(state="running", run_at=T0, locked_until=T0 - S, now=T0)
    for state in ("done", "failed"):
        assert not is_claimable(state=state, run_at=T0 - S, locked_until=None, now=T0)


def test_a_slot_belongs_to_a_lease_that_is_still_renewed() -> None:
    policy = LeasePolicy.for_lease(60)
    held = {"state": "running", "locked_until": T0 + 50 * S, "now": T0, "policy": policy}
    assert holds_slot(renewed_at=T0 - 2 * S, **held)  # type: ignore[arg-type]
    assert holds_slot(renewed_at=T0 - 10 * S, **held)  # type: ignore[arg-type]
    # Silent for longer than five heartbeats: its lease still runs, but it holds no slot.
    assert not holds_slot(renewed_at=T0 - 11 * S, **held)  # type: ignore[arg-type]
    assert not holds_slot(state="running", locked_until=T0 - S, renewed_at=T0, now=T0, policy=policy)
    assert not holds_slot(state="ready", locked_until=None, renewed_at=T0, now=T0, policy=policy)


def test_worker_ids_round_trip_and_old_ids_are_not_judged() -> None:
    wid = WorkerId(host="box-1", node="0123456789ab", started=1234567, pid=4242)
    assert str(wid) == "box-1:0123456789ab.1234567:4242"
    assert WorkerId.parse(str(wid)) == wid
    assert str(wid).rsplit(":", 1)[-1] == "4242"
    assert WorkerId.parse("box-1:4242") is None and WorkerId.parse(None) is None
    other = WorkerId(host="box-1", node="ba9876543210", started=1, pid=4242)
    assert wid.same_node(WorkerId.parse("x:0123456789ab.9:1") or other)
    assert not wid.same_node(other)
    assert len(str(WorkerId(host="h" * 300, node="0" * 12, started=10**12, pid=4194304))) <= 100
