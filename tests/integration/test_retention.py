"""Retention on SQLite and PostgreSQL: what is past its age goes, everything else stays."""

from __future__ import annotations

from datetime import timedelta

from outbox_helpers import outbox_runtime, sink_account
from sqlalchemy import func, select, update

from mailport.adapters.storage.tables import Job
from mailport.adapters.storage.tables_outbox import Message, MessageContent
from mailport.services.retention import PRUNE_JOB
from mailport.services.send import SendRequest


def test_prune_removes_old_finished_jobs_and_bodies_only(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    rt = outbox_runtime(tmp_path, database_url, retention_jobs_days=30, retention_bodies_days=90)
    try:
        now = rt.clock.now()
        old, recent = now - timedelta(days=31), now - timedelta(days=29)
        ids = {}
        for name, when, finish in (("old_done", old, "complete"), ("old_failed", old, "fail"),
                                   ("recent_done", recent, "complete"), ("old_ready", old, None)):
            job_id = rt.queue.enqueue(kind="x", payload={}, now=when)
            assert job_id is not None
            ids[name] = job_id
            if finish:
                [claimed] = rt.queue.claim(worker_id="w", now=when, lease=timedelta(seconds=60), limit=1,
                                           kinds=["x"])
                if finish == "complete":
                    rt.queue.complete(job_id=claimed.id, worker_id="w", now=when)
                else:
                    rt.queue.fail(job_id=claimed.id, worker_id="w", now=when, error="no")

        tenant = rt.tenants.create(name="Bakkerij").tenant.id
        account = sink_account(rt, tenant, 1)
        messages = [rt.outbox.submit(tenant, SendRequest(account_id=account, to=["k@example.org"],
                                                         subject=str(n), text="x")).message.id
                    for n in range(3)]
        with rt.db.session() as s:  # sent 91 days ago / sent yesterday / still queued, 91 days old
            s.execute(update(Job).where(Job.kind != "x").values(state="done", updated_at=old))
            s.execute(update(Message).where(Message.id == messages[0])
                      .values(state="sent", updated_at=now - timedelta(days=91)))
            s.execute(update(Message).where(Message.id == messages[1])
                      .values(state="sent", updated_at=now - timedelta(days=1)))
            s.execute(update(Message).where(Message.id == messages[2])
                      .values(updated_at=now - timedelta(days=91)))

        pruned = rt.retention.prune(now=now)

        with rt.db.session() as s:
            left = set(s.scalars(select(Job.id).where(Job.kind == "x")))
            bodies = set(s.scalars(select(MessageContent.message_id)))
            message_count = s.scalar(select(func.count()).select_from(Message))
        assert left == {ids["recent_done"], ids["old_ready"]}
        assert bodies == {messages[1], messages[2]}
        assert message_count == 3  # the messages and their history stay
        assert pruned.message_bodies == 1 and pruned.jobs == 2 + 3  # + the three send jobs
        assert rt.outbox.get(tenant, messages[0]).state == "sent"
    finally:
        rt.close()


def test_prune_is_scheduled_once_per_interval(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    rt = outbox_runtime(tmp_path, database_url, retention_interval=600)
    try:
        rt.retention.schedule()
        rt.retention.schedule()  # a second worker starting: nothing new
        with rt.db.session() as s:
            runs = sorted(s.scalars(select(Job.run_at).where(Job.kind == PRUNE_JOB)))
        assert len(runs) == 2 and runs[1] - runs[0] == timedelta(seconds=600)
    finally:
        rt.close()


def test_a_failed_message_whose_body_was_pruned_cannot_be_sent_again(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    """"Send again" on a message retention emptied says so (409), instead of queueing a job that
    could never send it."""
    import pytest

    from mailport.errors import Conflict

    rt = outbox_runtime(tmp_path, database_url, retention_bodies_days=90)
    try:
        now = rt.clock.now()
        tenant = rt.tenants.create(name="Bakkerij").tenant.id
        account = sink_account(rt, tenant, 1)
        message = rt.outbox.submit(tenant, SendRequest(account_id=account, to=["k@example.org"],
                                                       subject="old", text="x")).message.id
        with rt.db.session() as s:
            s.execute(update(Message).where(Message.id == message)
                      .values(state="failed", reason="auth.failed", updated_at=now - timedelta(days=91)))
        assert rt.retention.prune(now=now).message_bodies == 1
        with pytest.raises(Conflict) as refused:
            rt.outbox.retry(tenant, message)
        assert refused.value.code == "message.not_retryable"
        assert "retention" in str(refused.value)
        assert rt.outbox.get(tenant, message).state == "failed"  # nothing was queued
    finally:
        rt.close()
