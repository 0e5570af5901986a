"""The job queue on a real database: claim, lease, take-over, dedupe — SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailport.adapters.queue import Affinity, JobQueue
from mailport.runtime import Runtime

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def test_claim_respects_run_at_and_claims_once(runtime: Runtime) -> None:
    q = runtime.queue
    now_id = q.enqueue(kind="k", payload={"n": 1}, now=T0)
    q.enqueue(kind="k", payload={"n": 2}, now=T0, run_at=T0 + timedelta(minutes=5))
    first = q.claim(worker_id="w1", now=T0, lease=LEASE, limit=10)
    assert [j.id for j in first] == [now_id] and first[0].payload == {"n": 1} and first[0].attempts == 1
    assert q.claim(worker_id="w2", now=T0, lease=LEASE, limit=10) == []
    q.complete(job_id=now_id, worker_id="w1", now=T0)
    later = q.claim(worker_id="w2", now=T0 + timedelta(minutes=5), lease=LEASE, limit=10)
    assert [j.payload["n"] for j in later] == [2]


def test_expired_lease_is_taken_over(runtime: Runtime) -> None:
    q = runtime.queue
    job_id = q.enqueue(kind="k", payload={}, now=T0)
    q.claim(worker_id="dead", now=T0, lease=LEASE, limit=1)
    assert q.claim(worker_id="alive", now=T0 + timedelta(seconds=29), lease=LEASE, limit=1) == []
    taken = q.claim(worker_id="alive", now=T0 + timedelta(seconds=31), lease=LEASE, limit=1)
    assert [j.id for j in taken] == [job_id] and taken[0].attempts == 2
    # The dead worker's late completion does not clobber the new owner's claim.
    q.complete(job_id=job_id, worker_id="dead", now=T0 + timedelta(seconds=40))
    assert q.depth() == {"running": 1}
    q.complete(job_id=job_id, worker_id="alive", now=T0 + timedelta(seconds=41))
    assert q.depth() == {"done": 1}


def test_retry_and_fail(runtime: Runtime) -> None:
    q = runtime.queue
    job_id = q.enqueue(kind="k", payload={}, now=T0)
    q.claim(worker_id="w", now=T0, lease=LEASE, limit=1)
    q.retry(job_id=job_id, worker_id="w", now=T0, run_at=T0 + timedelta(minutes=1), error="451 later")
    assert q.claim(worker_id="w", now=T0 + timedelta(seconds=59), lease=LEASE, limit=1) == []
    again = q.claim(worker_id="w", now=T0 + timedelta(minutes=1), lease=LEASE, limit=1)
    q.fail(job_id=again[0].id, worker_id="w", now=T0, error="550 no")
    assert q.depth() == {"failed": 1}


def test_dedupe_key_keeps_one_job(runtime: Runtime) -> None:
    q = runtime.queue
    assert q.enqueue(kind="k", payload={}, now=T0, dedupe_key="msg-1") is not None
    assert q.enqueue(kind="k", payload={}, now=T0, dedupe_key="msg-1") is None
    assert q.enqueue(kind="other", payload={}, now=T0, dedupe_key="msg-1") is not None


def test_kinds_filter(runtime: Runtime) -> None:
    q = runtime.queue
    q.enqueue(kind="send", payload={}, now=T0)
    q.enqueue(kind="webhook", payload={}, now=T0)
    claimed = q.claim(worker_id="w", now=T0, lease=LEASE, limit=10, kinds=["webhook"])
    assert [j.kind for j in claimed] == ["webhook"]


def test_claimed_jobs_carry_aware_utc_times(runtime: Runtime) -> None:
    runtime.queue.enqueue(kind="k", payload={}, now=T0)
    job = runtime.queue.claim(worker_id="w", now=T0, lease=LEASE, limit=1)[0]
    assert job.created_at == T0 and job.created_at.tzinfo is not None


def test_heartbeat_renews_held_jobs_and_releases_claims_whose_answer_was_lost(runtime: Runtime) -> None:
    q = runtime.queue
    known = q.enqueue(kind="k", payload={"n": 1}, now=T0)
    lost = q.enqueue(kind="k", payload={"n": 2}, now=T0)
    q.claim(worker_id="w", now=T0, lease=LEASE, limit=2)  # the worker only heard of `known`
    backlog = q.enqueue(kind="k", payload={"n": 3}, now=T0)
    renewed = q.heartbeat(worker_id="w", now=T0 + timedelta(seconds=20),
                          until=T0 + timedelta(seconds=50), job_ids=[known])
    assert renewed == 1
    # Still ours at T0 + 40 s (renewed); the lost claim is ready again, ahead of the backlog.
    first = q.claim(worker_id="other", now=T0 + timedelta(seconds=40), lease=LEASE, limit=1)
    assert [j.id for j in first] == [lost]
    rest = q.claim(worker_id="other", now=T0 + timedelta(seconds=40), lease=LEASE, limit=10)
    assert [j.id for j in rest] == [backlog]


def test_a_dead_workers_jobs_are_released_ahead_of_the_backlog(runtime: Runtime) -> None:
    q = runtime.queue
    backlog = [q.enqueue(kind="k", payload={}, now=T0 - timedelta(minutes=5)) for _ in range(2)]
    held = q.enqueue(kind="k", payload={}, now=T0)
    # The dead worker held the newest job: it claimed all three and gave the backlog back.
    claimed = q.claim(worker_id="dead", now=T0, lease=LEASE, limit=3)
    assert {j.id for j in claimed} == {*backlog, held}
    for job_id in backlog:
        q.retry(job_id=job_id, worker_id="dead", now=T0, run_at=T0 - timedelta(minutes=5), error=None)
    assert q.holders() == ["dead"]
    assert q.release_worker(worker_id="dead", now=T0 + timedelta(seconds=1)) == 1
    assert q.holders() == []
    # Well within the 30 s lease, and before the older backlog.
    first = q.claim(worker_id="alive", now=T0 + timedelta(seconds=2), lease=LEASE, limit=1)
    assert [j.id for j in first] == [held]


def test_a_stopping_worker_releases_only_its_own_jobs(runtime: Runtime) -> None:
    q = runtime.queue
    mine = q.enqueue(kind="k", payload={}, now=T0)
    theirs = q.enqueue(kind="k", payload={}, now=T0)
    q.claim(worker_id="me", now=T0, lease=LEASE, limit=1)
    q.claim(worker_id="you", now=T0, lease=LEASE, limit=1)
    assert q.release(job_ids=[mine, theirs], worker_id="me", now=T0) == 1
    assert [j.id for j in q.claim(worker_id="next", now=T0, lease=LEASE, limit=5)] == [mine]


AFFINITY = Affinity(kind="send", key="account_id", threshold=2, prefix="acc_")


def _mailbox_jobs(q: JobQueue) -> dict[str, int]:
    """Two sends of a mailbox the "owner" worker runs (as many as its limit), one more of it
    queued, and jobs of another mailbox, the platform relay and another kind."""
    if q.db.is_sqlite:
        pytest.skip("affinity is PostgreSQL's (SQLite runs one worker)")
    q.enqueue(kind="send", payload={"account_id": "acc_busy"}, now=T0)
    q.enqueue(kind="send", payload={"account_id": "acc_busy"}, now=T0)
    q.claim(worker_id="owner", now=T0, lease=LEASE, limit=2)
    return {name: q.enqueue(kind=kind, payload=payload, now=T0) or 0 for name, kind, payload in [
        ("busy", "send", {"account_id": "acc_busy"}), ("calm", "send", {"account_id": "acc_calm"}),
        ("relay", "send", {"account_id": "platform"}), ("copy", "sent_copy", {"message_id": "m"})]}


def test_affinity_leaves_a_mailbox_to_the_worker_that_fills_it(runtime: Runtime) -> None:
    """Another live worker holds as many of acc_busy's sends as its limit: this worker takes
    every other job (another mailbox, the platform relay, another kind) but not acc_busy's."""
    q = runtime.queue
    ids = _mailbox_jobs(q)
    got = q.claim(worker_id="other", now=T0, lease=LEASE, limit=10, affinity=AFFINITY,
                  live_since=T0 - timedelta(seconds=10))
    assert sorted(j.id for j in got) == sorted([ids["calm"], ids["relay"], ids["copy"]])
    capped = q.claim(worker_id="third", now=T0, lease=LEASE, limit=10, affinity=AFFINITY,
                     live_since=T0 - timedelta(seconds=10), tenant_cap=5, held={})
    assert capped == []  # the tenant-capped claim skips it too
    # the owner is not kept from its own mailbox
    mine = q.claim(worker_id="owner", now=T0, lease=LEASE, limit=10, affinity=AFFINITY,
                   live_since=T0 - timedelta(seconds=10))
    assert [j.id for j in mine] == [ids["busy"]]


@pytest.mark.parametrize(("first", "second", "keeper"), [(3, 2, "zulu"), (2, 2, "alpha")])
def test_affinity_between_two_workers_that_both_fill_a_mailbox_keeps_it_with_one(
        runtime: Runtime, first: int, second: int, keeper: str) -> None:
    """Both workers came to hold the mailbox's limit (a burst woke both): the one holding more
    keeps claiming it and the other leaves it, so the mailbox's run ends with one worker; with
    as many each, the one whose id sorts first keeps it."""
    q = runtime.queue
    if q.db.is_sqlite:
        pytest.skip("affinity is PostgreSQL's (SQLite runs one worker)")
    for _ in range(first + second):
        q.enqueue(kind="send", payload={"account_id": "acc_busy"}, now=T0)
    q.claim(worker_id=keeper, now=T0, lease=LEASE, limit=first)
    q.claim(worker_id="owner", now=T0, lease=LEASE, limit=second)
    q.enqueue(kind="send", payload={"account_id": "acc_busy"}, now=T0)
    live = T0 - timedelta(seconds=10)
    assert q.claim(worker_id="owner", now=T0, lease=LEASE, limit=10, affinity=AFFINITY, live_since=live) == []
    assert len(q.claim(worker_id=keeper, now=T0, lease=LEASE, limit=10, affinity=AFFINITY, live_since=live)) == 1


def test_affinity_spreads_a_mailbox_below_its_limit(runtime: Runtime) -> None:
    """A worker holding fewer of a mailbox's sends than its limit keeps nobody else away."""
    q = runtime.queue
    ids = _mailbox_jobs(q)
    got = q.claim(worker_id="other", now=T0, lease=LEASE, limit=10, affinity=Affinity(
        kind="send", key="account_id", threshold=3, prefix="acc_"), live_since=T0 - timedelta(seconds=10))
    assert ids["busy"] in {j.id for j in got}


def test_affinity_ends_when_the_holder_stops_renewing(runtime: Runtime) -> None:
    """A holder whose heartbeat went silent (killed) keeps nobody from the mailbox, although
    its leases have not run out yet."""
    q = runtime.queue
    ids = _mailbox_jobs(q)
    later = T0 + timedelta(seconds=11)
    got = q.claim(worker_id="other", now=later, lease=LEASE, limit=10, affinity=AFFINITY,
                  live_since=later - timedelta(seconds=10))
    assert ids["busy"] in {j.id for j in got}
    assert q.depth() == {"running": 6}  # the silent holder's own two are still its (lease)


def test_a_lapsed_lease_and_a_ready_job_are_claimed_oldest_first(runtime: Runtime) -> None:
    q = runtime.queue
    lapsed = q.enqueue(kind="k", payload={"n": "lapsed"}, now=T0)
    q.claim(worker_id="dead", now=T0, lease=LEASE, limit=1)
    ready = q.enqueue(kind="k", payload={"n": "ready"}, now=T0, run_at=T0 + timedelta(seconds=1))
    later = q.enqueue(kind="k", payload={"n": "later"}, now=T0, run_at=T0 + timedelta(seconds=2))
    now = T0 + timedelta(minutes=5)  # the lease has lapsed; the other two are due
    order = [q.claim(worker_id="w", now=now, lease=LEASE, limit=1)[0].id for _ in range(3)]
    assert order == [lapsed, ready, later]


def test_a_claim_reads_what_it_takes_not_the_whole_queue(runtime: Runtime) -> None:
    """A month-end queue: 30,000 ready jobs. The claim reads a few rows more than it takes —
    one scan of "ready, or running with a lapsed lease" read and sorted every due job (200 ms a
    claim at 300,000 on the benchmark's machine). Checked in the plan PostgreSQL ran, not by time."""
    if runtime.db.is_sqlite:
        pytest.skip("PostgreSQL's plan (SQLite runs one worker, in serve)")
    import json

    import sqlalchemy as sa

    from mailport.adapters.queue import _claim_statements

    with runtime.db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO jobs (tenant_id, kind, dedupe_key, payload, state, run_at, attempts, created_at, updated_at) "
            "SELECT 'ten_' || (g % 50), 'send', 'msg_' || g, json_build_object('account_id', 'acc_' || (g % 200)), "
            "'ready', :t0 + make_interval(secs => g / 1000.0), 0, :t0, :t0 FROM generate_series(1, 30000) g"),
            {"t0": T0})
        conn.execute(sa.text("ANALYZE jobs"))
    affinity = Affinity(kind="send", key="account_id", threshold=8, prefix="acc_")
    statements = _claim_statements(True, affinity, True)
    now = T0 + timedelta(hours=1)
    params = {"b_now": now, "b_until": now + LEASE, "b_worker": "w1", "b_live": now - LEASE,
              "b_kinds": ["send"], "b_full": ["ten_3"], "b_ids": [], "b_window": 144 * 4}

    def rows_read(statement: object, limit: int) -> int:
        with runtime.db.engine.connect() as conn:
            compiled = statement.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
            values = {**{k: v for k, v in compiled.params.items() if v is not None}, **params, "b_limit": limit}
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + compiled.string, values)
            plan = cursor.fetchone()[0]
            conn.rollback()

        def scanned(node: dict[str, Any]) -> int:  # rows read from the jobs table by every scan
            jobs = node.get("Relation Name") == "jobs" and "Scan" in node["Node Type"]
            return int(node["Actual Rows"] if jobs else 0) + sum(scanned(child) for child in node.get("Plans", []))

        return scanned((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])

    assert rows_read(statements.take_oldest, 256) <= 256 * 3  # the taken rows, and the read ones, a few more
    assert rows_read(statements.scan, 144) <= 144 * 4 + 144 * 3  # its window, four times what it wants
    claimed = runtime.queue.claim(worker_id="w1", now=now, lease=LEASE, limit=256, kinds=["send"])
    assert len(claimed) == 256 and [j.payload["account_id"] for j in claimed[:3]] == ["acc_1", "acc_2", "acc_3"]


def test_a_tenant_at_its_share_with_its_backlog_in_front_hides_no_one_else(runtime: Runtime) -> None:
    """One tenant's month-end backlog fills the front of the queue and it holds its share: the
    claim finds the other tenants' jobs behind it (each tenant asked for its own), the jobs of no
    tenant, and a lapsed lease — and none of the capped tenant's."""
    q = runtime.queue
    with q.transaction() as s:
        q.enqueue_new(s, [{"kind": "send", "payload": {"n": n}, "tenant_id": "big", "dedupe_key": f"big-{n}"}
                          for n in range(400)], now=T0)
        q.enqueue_new(s, [{"kind": "send", "payload": {"n": n}, "tenant_id": "small", "dedupe_key": f"small-{n}",
                           "run_at": T0 + timedelta(seconds=1)} for n in range(3)], now=T0)
    untenanted = q.enqueue(kind="send", payload={}, now=T0, run_at=T0 + timedelta(seconds=2))
    lapsed = q.enqueue(kind="send", payload={}, now=T0, tenant_id="other", run_at=T0 - timedelta(seconds=1))
    assert [j.id for j in q.claim(worker_id="dead", now=T0, lease=LEASE, limit=1, held={}, tenant_cap=4)] == [lapsed]
    now = T0 + timedelta(minutes=5)
    q.enqueue(kind="webhook", payload={}, now=T0, tenant_id="small")  # another lane's
    got = q.claim(worker_id="w", now=now, lease=LEASE, limit=10, held={"big": 4}, tenant_cap=4, kinds=["send"])
    assert sorted((j.tenant_id or "", j.id) for j in got) == sorted(
        [("other", lapsed), ("", untenanted), *(("small", j) for j in _ids(runtime, "small"))])
    # below its share again, the big tenant's oldest come first
    more = q.claim(worker_id="w", now=now, lease=LEASE, limit=10, held={}, tenant_cap=4, kinds=["send"])
    assert [j.tenant_id for j in more] == ["big"] * 4 and [j.payload["n"] for j in more] == [0, 1, 2, 3]


def _ids(runtime: Runtime, tenant: str) -> list[int]:
    import sqlalchemy as sa

    from mailport.adapters.storage.tables import Job

    with runtime.db.session() as s:
        return list(s.scalars(sa.select(Job.id).where(Job.tenant_id == tenant, Job.kind == "send")))
