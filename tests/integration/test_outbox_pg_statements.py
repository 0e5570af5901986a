"""PostgreSQL's one-statement begin and finish of a batch (``OutboxRepository.begin_all`` and
``finish_all``): what they write for the messages still as they were read, and what they leave
alone for those that changed meanwhile (bench/bench_send.py, "session 7 PostgreSQL worker pass")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from outbox_helpers import outbox_runtime, sink_account

from mailport.adapters.queue import JobQueue
from mailport.adapters.storage.outbox_repository import OutboxRepository
from mailport.adapters.storage.tables import Job
from mailport.adapters.storage.tables_outbox import Event, Message, MessageContent, MessageRecipient, SentCopy
from mailport.core.addresses import parse_address
from mailport.core.message import Attachment, Mailbox
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


def _rows(rt: Runtime, table: sa.Table, column: sa.Column[str], value: str) -> list[dict[str, object]]:
    with rt.db.session() as s:
        return [dict(r._mapping) for r in s.execute(sa.select(table).where(column == value))]


def test_accept_in_one_statement_stores_what_the_executemanys_store(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON rows of ``add_accepted`` come back as the executemany path stores the same rows:
    times, bytes (a NUL and high bytes), nested JSON with quotes, backslashes and non-ASCII text,
    NULLs, and the defaults of the columns the rows leave out."""
    given: dict[str, list[dict[str, object]]] = {}
    real = OutboxRepository.add_accepted

    def spy(self: OutboxRepository, messages: list[dict[str, object]], contents: list[dict[str, object]],
            recipients: list[dict[str, object]], *, events: list[dict[str, object]],
            jobs: list[dict[str, object]], wake: bool) -> None:
        assert self.accepts_in_one_statement and not wake  # sent next year: nobody to wake now
        given.update(m=messages, c=contents, r=recipients, e=events, j=jobs)
        real(self, messages, contents, recipients, events=events, jobs=jobs, wake=wake)

    monkeypatch.setattr(OutboxRepository, "add_accepted", spy)
    tenant = rt.tenants.create(name="Statements").tenant.id
    account = sink_account(rt, tenant, 2525)
    message_id = rt.outbox.submit(tenant, SendRequest(
        account_id=account, to=["klant@example.org", Mailbox(parse_address("zoe@example.org"), 'Zoë "de" Vries \\ ✓')],
        subject="Factuur 'F-1' \\ \"é\" ✓ 請求書", text="Beste klant,\n\nBijgaand de factuur.",
        attachments=[Attachment("factuur.pdf", b"%PDF-1.4\n\x00\xff\xfe\\x00" + bytes(range(256)))],
        metadata={"invoice": "F-1 \"quoted\" \\ é"}, send_at=datetime(2027, 1, 1, 9, 30, tzinfo=UTC),
    ), idempotency_key="key-\\\"1").message.id
    assert {k: len(v) for k, v in given.items()} == {"m": 1, "c": 1, "r": 2, "e": 1, "j": 1}

    copy_id = "msg_" + "c" * (len(message_id) - 4)

    def renamed(rows: list[dict[str, object]], **changes: object) -> list[dict[str, object]]:
        return [{k: (copy_id if v == message_id else v) for k, v in {**row, **changes}.items()} for row in rows]

    with rt.db.session() as s:  # the same rows through the executemanys, under another id
        repo = OutboxRepository(s)
        repo.add_many(renamed(given["m"], idempotency_key="key-2"), renamed(given["c"]), renamed(given["r"]))
        repo.add_event_rows(renamed(given["e"], id="evt_copy", data={**given["e"][0]["data"],  # type: ignore[dict-item]
                                                                    "message_id": copy_id}))
        JobQueue.insert_rows(s, renamed(given["j"], payload={**given["j"][0]["payload"],  # type: ignore[dict-item]
                                                              "message_id": copy_id}))

    def stored(which: str) -> list[list[dict[str, object]]]:
        out = []
        for table, column in ((Message.__table__, Message.__table__.c.id),
                              (MessageContent.__table__, MessageContent.__table__.c.message_id),
                              (MessageRecipient.__table__, MessageRecipient.__table__.c.message_id),
                              (Event.__table__, Event.__table__.c.message_id),
                              (Job.__table__, Job.__table__.c.dedupe_key)):
            rows = _rows(rt, table, column, which)  # type: ignore[arg-type]
            out.append([{k: v for k, v in row.items() if k not in ("id", "message_id", "idempotency_key",
                                                                   "dedupe_key", "data", "payload")}
                        for row in sorted(rows, key=lambda r: str(r.get("address", "")))])
        return out

    one, many = stored(message_id), stored(copy_id)
    assert one == many
    [[message], [content], recipients, [event], [job]] = one
    assert content["raw"] == given["c"][0]["raw"]  # bytea through its \\x hex text
    assert message["meta"] == {"invoice": "F-1 \"quoted\" \\ é"}
    assert message["send_at"] == datetime(2027, 1, 1, 9, 30, tzinfo=UTC)
    assert [r["address"] for r in recipients] == ["klant@example.org", "zoe@example.org"]
    assert job["state"] == "ready" and job["attempts"] == 0 and job["run_at"] == message["send_at"]
    assert event["type"] == "message.queued"
    [[data]] = [[r["data"] for r in _rows(rt, Event.__table__, Event.__table__.c.message_id, message_id)]]  # type: ignore[arg-type]
    assert data == given["e"][0]["data"]


def test_a_large_group_commit_is_accepted_in_statements_of_bounded_size(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL refuses a value over 1 GB: a group commit of many large messages is split by
    content size, each message whole in one statement, and the workers are woken once."""
    from mailport.adapters.storage import outbox_repository

    monkeypatch.setattr(outbox_repository, "_ACCEPT_STATEMENT_BYTES", 60_000)
    tenant = rt.tenants.create(name="Statements").tenant.id
    account = sink_account(rt, tenant, 2525)
    statements: list[str] = []
    execute = outbox_repository.execute_driver_sql

    def seen(session: Any, statement: str, params: Any) -> None:
        if statement.startswith("WITH m AS"):
            statements.append(statement)
        execute(session, statement, params)

    monkeypatch.setattr(outbox_repository, "execute_driver_sql", seen)
    requests = [(SendRequest(account_id=account, to=["klant@example.org", "boekhouding@example.org"],
                             subject=f"Factuur {n}", text="Beste klant,",
                             attachments=[Attachment("factuur.pdf", b"%PDF-1.4\n" + bytes([n]) * 20_000)]), None)
                for n in range(5)]
    results = rt.outbox.submit_many(tenant, requests)
    ids = [r.message.id for r in results]  # type: ignore[union-attr]
    assert len(statements) == 3  # ~27 KB of MIME each: two, two and one under 60,000 bytes
    assert sum("pg_notify" in s for s in statements) == 1 and "pg_notify" in statements[-1]
    with rt.db.session() as s:
        for table, column in ((Message.__table__, Message.__table__.c.id),
                              (MessageContent.__table__, MessageContent.__table__.c.message_id),
                              (Event.__table__, Event.__table__.c.message_id),
                              (Job.__table__, Job.__table__.c.dedupe_key)):
            assert sorted(s.scalars(sa.select(column).where(column.in_(ids)))) == sorted(ids), table
        recipients = s.execute(sa.select(MessageRecipient.message_id, sa.func.count())
                               .group_by(MessageRecipient.message_id)).all()
    assert dict(recipients) == dict.fromkeys(ids, 2)


def test_a_key_another_process_committed_meanwhile_replays_its_message(
        rt: Runtime, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The accept statement runs on psycopg directly: a duplicate idempotency key that another
    process committed after this one looked (the unique index's violation) is still an
    ``IntegrityError`` to the group commit, which settles item by item — the late request replays
    the first message, and the group's other item is accepted."""
    tenant = rt.tenants.create(name="Race").tenant.id
    account = sink_account(rt, tenant, 2525)
    first = rt.outbox.submit(tenant, SendRequest(account_id=account, to=["klant@example.org"], subject="Factuur 1",
                                                 text="Beste klant,"), idempotency_key="inv-1")
    other = outbox_runtime(tmp_path / "other", pg_url)
    try:
        monkeypatch.setattr(other.outbox, "_replays", lambda *_a: {})  # it looked before the first committed
        results = other.outbox.submit_many(tenant, [
            (SendRequest(account_id=account, to=["klant@example.org"], subject="Factuur 1", text="Beste klant,"),
             "inv-1"),
            (SendRequest(account_id=account, to=["klant@example.org"], subject="Factuur 2", text="Beste klant,"),
             "inv-2")])
    finally:
        other.close()
    replayed, accepted = results
    assert replayed.message.id == first.message.id and replayed.replayed  # type: ignore[union-attr]
    assert accepted.message.id != first.message.id and not accepted.replayed  # type: ignore[union-attr]
    with rt.db.session() as s:
        keys = sorted(s.scalars(sa.select(Message.idempotency_key).where(Message.tenant_id == tenant)))
    assert keys == ["inv-1", "inv-2"]


# --- plans on tables PostgreSQL has not analyzed yet -------------------------------------------
# A new installation's first minute at month-end: thousands of rows, no statistics (autovacuum
# analyzes a table a minute or more later). The worker's reads must look their rows up by key
# then, not hash a scan of every message, content or job (bench/bench_send.py, session 15).


def _history(rt: Runtime, like: str, count: int) -> None:
    """``count`` sent messages copied from ``like`` — with contents, recipients and done jobs — in
    tables autovacuum leaves alone, so that they stay unanalyzed."""
    def copy(table: sa.Table, key: str, new: dict[str, str]) -> str:
        names = [c.name for c in table.columns if c.name not in new and not (c.name == "id" and key != "id")]
        values = [*names, *new.values()]
        return (f"INSERT INTO {table.name} ({', '.join([*names, *new])}) SELECT {', '.join(values)} "
                f"FROM {table.name}, generate_series(1, {count}) AS g WHERE {key} = :like")
    filler = "'msg_h' || lpad(g::text, 19, '0')"
    with rt.db.session() as s:
        for table in ("messages", "message_contents", "message_recipients", "jobs"):
            s.execute(sa.text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        s.execute(sa.text(copy(Message.__table__, "id", {"id": filler, "idempotency_key": "NULL",  # type: ignore[arg-type]
                                                          "state": "'sent'"})), {"like": like})
        s.execute(sa.text(copy(MessageContent.__table__, "message_id", {"message_id": filler})),  # type: ignore[arg-type]
                  {"like": like})
        s.execute(sa.text(copy(MessageRecipient.__table__, "message_id", {"message_id": filler})),  # type: ignore[arg-type]
                  {"like": like})
        s.execute(sa.text(copy(Job.__table__, "dedupe_key", {"dedupe_key": filler, "state": "'done'"})),  # type: ignore[arg-type]
                  {"like": like})
        assert s.scalar(sa.text("SELECT count(*) FROM pg_stats WHERE tablename = 'messages'")) == 0


def _plans_of(s: sa.orm.Session, call: Any) -> list[str]:
    """The plans PostgreSQL ran ``call``'s statements with on ``s``'s connection (auto_explain,
    sent to this client as notices)."""
    plans: list[str] = []
    driver = s.connection().connection.driver_connection
    assert driver is not None

    def keep(diag: Any) -> None:
        text = diag.message_primary or ""
        if "Query Text" in text and "Text: SELECT 1\n" not in text:
            plans.append(text)

    for setting in ("LOAD 'auto_explain'", "SET LOCAL auto_explain.log_min_duration = 0",
                    "SET LOCAL auto_explain.log_level = notice", "SET LOCAL client_min_messages = notice"):
        s.execute(sa.text(setting))
    driver.add_notice_handler(keep)
    try:
        call()
        # A plan is logged when its statement's portal is dropped: at the next statement.
        s.execute(sa.text("SELECT 1"))
    finally:
        driver.remove_notice_handler(keep)
    return plans


def test_the_workers_reads_look_rows_up_by_key_on_unanalyzed_tables(rt: Runtime) -> None:
    first, second = _two_messages(rt)
    _history(rt, second, 3000)
    with rt.db.session() as s:
        account = s.scalar(sa.select(Message.account_id).where(Message.id == first))
        assert account is not None
        s.execute(sa.update(Message).where(Message.id == first).values(state="sending"))
        s.execute(sa.update(Job).where(Job.dedupe_key == first)
                  .values(state="running", locked_by="w2", locked_until=NOW, renewed_at=NOW))
    with rt.db.session() as s:
        repo = OutboxRepository(s)
        loaded: dict[str, Any] = {}
        counts: dict[str, Any] = {}
        plans = _plans_of(s, lambda: (
            loaded.update(repo.load_locked_for_sending([first, second], [account])[0]),
            counts.update(repo.in_flight_many(account_ids=[account], now=NOW, exclude=[], live_since=NOW,
                                              worker="w1"))))
    assert set(loaded) == {first, second} and loaded[second].content is not None
    assert counts == {account: (1, 1)}  # the one in flight, held by another worker
    assert len(plans) == 2, plans
    for plan in plans:
        assert "Seq Scan" not in plan, plan
    assert "dedupe_key" in plans[1].split("Index Cond", 1)[-1], plans[1]  # the job found by its key

    with rt.db.session() as s:  # the batch's finish ends the job it names, found by its id
        job = s.scalar(sa.select(Job.id).where(Job.dedupe_key == first))
        recorded: set[str] = set()
        plans = _plans_of(s, lambda: recorded.update(OutboxRepository(s).finish_all(
            [{"b_id": first, "b_state": "sent", "b_reason": None, "b_now": NOW, "b_next": None, "b_delay": None,
              "b_sent_at": NOW}], recipients=[], events=[], copies=[],
            job_ends=[{"id": job, "worker": "w2", "message_id": first, "state": "done", "last_error": None,
                       "run_at": None, "updated_at": NOW}])))
        assert recorded == {first}
        assert s.scalar(sa.select(Job.state).where(Job.id == job)) == "done"
    assert len(plans) == 1 and "Seq Scan on jobs" not in plans[0], plans
