"""PostgreSQL's one-statement begin and finish of a batch (``OutboxRepository.begin_all`` and
``finish_all``): what they write for the messages still as they were read, and what they leave
alone for those that changed meanwhile (bench/bench_send.py, "session 7 PostgreSQL worker pass")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from outbox_helpers import outbox_runtime, sink_account

from mailport.adapters.storage.outbox_repository import OutboxRepository
from mailport.adapters.storage.tables import Job
from mailport.adapters.storage.tables_outbox import Event, Message, MessageRecipient, SentCopy
from mailport.runtime import Runtime
from mailport.services.send import SendRequest

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, pg_url)
    yield runtime
    runtime.close()


def _two_messages(rt: Runtime) -> tuple[str, str]:
    tenant = rt.tenants.create(name="Statements").tenant.id
    account = sink_account(rt, tenant, 2525)
    ids = tuple(rt.outbox.submit(tenant, SendRequest(account_id=account, to=["klant@example.org"],
                                                     subject=f"Factuur {n}", text="Beste klant,")).message.id
                for n in range(2))
    return ids[0], ids[1]


def _events(rt: Runtime, message_id: str) -> list[str]:
    with rt.db.session() as s:
        return list(s.scalars(sa.select(Event.type).where(Event.message_id == message_id).order_by(Event.seq)))


def _event_row(rt: Runtime, message_id: str, kind: str, seq: int) -> dict[str, object]:
    with rt.db.session() as s:
        tenant = s.scalar(sa.select(Message.tenant_id).where(Message.id == message_id))
    return {"id": f"evt_{message_id[-20:]}{seq}", "tenant_id": tenant, "message_id": message_id, "type": kind,
            "data": {"message_id": message_id, "note": "é \" '"}, "created_at": NOW, "seq": seq}


def test_begin_moves_only_what_is_still_as_read(rt: Runtime) -> None:
    first, second = _two_messages(rt)
    with rt.db.session() as s:  # another begin got to the second one after it was read
        s.execute(sa.update(Message).where(Message.id == second).values(attempts=1))
    with rt.db.session() as s:
        moved = OutboxRepository(s).begin_all(
            [(first, "queued", 0), (second, "queued", 0)], now=NOW,
            events=[_event_row(rt, first, "message.sending", 10), _event_row(rt, second, "message.sending", 10)])
    assert moved == {first}
    with rt.db.session() as s:
        rows = {m: (state, attempts) for m, state, attempts in
                s.execute(sa.select(Message.id, Message.state, Message.attempts)).all()}
    assert rows[first] == ("sending", 1) and rows[second] == ("queued", 1)
    assert _events(rt, first) == ["message.queued", "message.sending"]
    assert _events(rt, second) == ["message.queued"]


def test_begin_locks_the_accounts_it_reads_for(rt: Runtime) -> None:
    first, _ = _two_messages(rt)
    with rt.db.session() as s:
        account = s.scalar(sa.select(Message.account_id).where(Message.id == first))
        assert account is not None
        loaded, accounts = OutboxRepository(s).load_locked_for_sending([first, "msg_missing"], [account])
        held = s.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                "AND pid = pg_backend_pid()"))
    assert set(loaded) == {first} and set(accounts) == {account}
    content = loaded[first].content
    assert content is not None and content.raw
    assert [(r.address, r.status) for r in loaded[first].recipients] == [("klant@example.org", "pending")]
    assert held == 1


def test_finish_records_only_what_is_still_sending(rt: Runtime) -> None:
    first, second = _two_messages(rt)
    with rt.db.session() as s:
        s.execute(sa.update(Message).where(Message.id.in_([first, second])).values(state="sending", attempts=1))
        s.execute(sa.update(Job).where(Job.dedupe_key.in_([first, second]))
                  .values(state="running", locked_by="w1", attempts=1))
        jobs = dict(s.execute(sa.select(Job.dedupe_key, Job.id).where(Job.dedupe_key.in_([first, second]))).all())
        # the second one was taken over meanwhile (its lease ran out) and finished by another worker
        s.execute(sa.update(Message).where(Message.id == second).values(state="failed", reason="elsewhere"))

    def outcome(message_id: str) -> dict[str, object]:
        return {"b_id": message_id, "b_state": "deferred", "b_reason": "smtp.greylisted", "b_now": NOW,
                "b_next": NOW, "b_delay": 60.0, "b_sent_at": None}

    with rt.db.session() as s:
        recorded = OutboxRepository(s).finish_all(
            [outcome(first), outcome(second)],
            recipients=[{"message_id": m, "address": "klant@example.org", "status": "deferred", "smtp_code": 451,
                         "enhanced_code": "4.7.1", "text": "try later", "diagnosis": "smtp.greylisted",
                         "updated_at": NOW} for m in (first, second)],
            events=[_event_row(rt, m, "message.deferred", 20) for m in (first, second)],
            copies=[{"message_id": m, "tenant_id": _event_row(rt, m, "x", 0)["tenant_id"],
                     "header_message_id": "<x@example.test>", "state": "skipped", "folder": None, "uid": None,
                     "attempts": 0, "detail": "account.no_imap", "updated_at": NOW} for m in (first, second)],
            job_ends=[{"id": jobs[m], "worker": "w1", "message_id": m, "state": "ready", "last_error": "greylisted",
                       "run_at": NOW, "updated_at": NOW} for m in (first, second)])
    assert recorded == {first}
    with rt.db.session() as s:
        states = dict(s.execute(sa.select(Message.id, Message.state)).all())
        codes = dict(s.execute(sa.select(MessageRecipient.message_id, MessageRecipient.smtp_code)).all())
        copies = set(s.scalars(sa.select(SentCopy.message_id)))
        ends = {m: s.execute(sa.select(Job.state, Job.last_error, Job.locked_by).where(Job.id == jobs[m])).one()
                for m in (first, second)}
        data = s.scalar(sa.select(Event.data).where(Event.message_id == first, Event.type == "message.deferred"))
    assert states == {first: "deferred", second: "failed"}
    assert codes == {first: 451, second: None}
    assert copies == {first}
    assert _events(rt, first) == ["message.queued", "message.deferred"]
    assert _events(rt, second) == ["message.queued"]
    assert data == {"message_id": first, "note": "é \" '"}
    # the recorded message's job retries; the other's ends: the other worker's result wins
    assert tuple(ends[first]) == ("ready", "greylisted", None)
    assert tuple(ends[second]) == ("done", None, None)
