"""PostgreSQL round trips that are not the work: a pooled connection is checked out without a
ping, reads run without BEGIN/ROLLBACK, a connection the server ended is replaced unnoticed, and
message bodies are stored with lz4 (migration 0025_body_lz4). See bench/bench_send.py, "session 6
PostgreSQL pass"."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from dbfixtures import PG_ADMIN_URL
from mailport.adapters.storage.database import Database

pytestmark = pytest.mark.postgres


def _backend(db_name: str, pid: int) -> tuple[str, str]:
    """(state, last query) of a backend, seen from another connection."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute("SELECT state, query FROM pg_stat_activity WHERE pid = %s AND datname = %s",
                            (pid, db_name)).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_a_checkout_sends_nothing_and_a_read_opens_no_transaction(pg_url: str) -> None:
    db = Database(pg_url)
    name = pg_url.rsplit("/", 1)[1]
    try:
        with db.reading() as s:
            pid = s.execute(sa.text("SELECT pg_backend_pid() AS marker_one")).scalar_one()
            # autocommit: the read left no transaction open (with BEGIN it would be "idle in transaction")
            assert _backend(name, pid) == ("idle", "SELECT pg_backend_pid() AS marker_one")
        with db.engine.connect() as conn:  # the pool's checkout: no ping reaches the server
            assert conn.connection.dbapi_connection.info.backend_pid == pid  # type: ignore[union-attr]
            assert _backend(name, pid) == ("idle", "SELECT pg_backend_pid() AS marker_one")
        with db.session() as s:  # a write still runs in a transaction of its own
            s.execute(sa.text("SELECT 1 AS marker_two"))
            assert _backend(name, pid) == ("idle in transaction", "SELECT 1 AS marker_two")
    finally:
        db.dispose()


def test_connections_the_server_ended_are_replaced(pg_url: str) -> None:
    db = Database(pg_url)
    name = pg_url.rsplit("/", 1)[1]
    try:
        with db.session() as s:
            s.execute(sa.text("CREATE TABLE t (x int)"))
            s.execute(sa.text("INSERT INTO t VALUES (1)"))
        with db.reading() as s:
            before = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            ended = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchone()
        assert ended is not None and ended[0] >= 1
        time.sleep(0.2)  # the server's goodbye reaches the idle socket
        with db.reading() as s:
            assert s.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
            assert s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != before
        with db.session() as s:
            s.execute(sa.text("INSERT INTO t VALUES (2)"))
        assert not db.unavailable
    finally:
        db.dispose()


def test_reading_sessions_still_see_what_was_committed_and_write_nothing_by_accident(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        with db.session() as s:
            s.execute(sa.text("CREATE TABLE t (x int)"))
        for n in range(1, 4):
            with db.session() as s:
                s.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})
            with db.reading() as s:
                assert s.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == n
    finally:
        db.dispose()


def test_message_bodies_are_stored_with_lz4(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        db.migrate()
        with db.reading() as s:
            lz4 = s.execute(sa.text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
            method = s.execute(sa.text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'message_contents'::regclass "
                "AND attname = 'raw'")).scalar()
        if not lz4:
            pytest.skip("this PostgreSQL server is built without lz4")
        assert method == "l"
    finally:
        db.dispose()


def test_row_insert_stores_on_postgresql_what_a_core_insert_stores(pg_url: str) -> None:
    """RowInsert's PostgreSQL plan (SQLAlchemy's compiled INSERT, values processed once) against a
    Core executemany of the same rows: the same stored values, column defaults included."""
    from datetime import UTC, datetime, timedelta, timezone
    from typing import Any, cast

    from sqlalchemy.exc import IntegrityError

    from mailport.adapters.storage.row_insert import RowInsert
    from mailport.adapters.storage.tables import Base
    from mailport.adapters.storage.tables_outbox import Message

    messages = cast(sa.Table, Message.__table__)
    now = datetime(2026, 12, 6, 22, 0, 1, 123456, tzinfo=UTC)
    later = datetime(2026, 12, 7, 9, 30, tzinfo=timezone(timedelta(hours=1)))

    def rows(prefix: str) -> list[dict[str, Any]]:
        return [{
            "id": f"{prefix}{n}", "tenant_id": "ten_1", "account_id": "acc_1", "state": "queued",
            "from_email": "a@example.test", "subject": f"Factuur é {n}", "header_message_id": f"<{n}@x>",
            "size": 100 + n, "meta": {"invoice_id": str(n), "ü": [1, None]} if n else {},
            "send_at": later if n else None, "next_attempt_at": now, "last_delay_seconds": 1.5 if n else None,
            "reason": None, "idempotency_key": f"{prefix}-k{n}" if n else None, "request_fingerprint": None,
            "created_at": now, "updated_at": now, "sent_at": None,
        } for n in range(3)]  # attachment_count and attempts omitted: their defaults apply

    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE tenants (id varchar(32) PRIMARY KEY)")  # for the foreign key
            conn.exec_driver_sql("INSERT INTO tenants VALUES ('ten_1')")
            Base.metadata.create_all(conn, tables=[messages])
            conn.execute(messages.insert(), rows("core"))
            fast = RowInsert(messages)
            fast.execute(conn, rows("fast"))
            assert [plan is not None for plan in fast._plans.values()] == [True]  # not the Core fallback
            stored = {p: [{k: (v.removeprefix(p) if isinstance(v, str) else v) for k, v in row.items()}
                          for row in conn.exec_driver_sql(
                              "SELECT to_jsonb(m) - 'id' - 'idempotency_key' AS r FROM messages m "
                              "WHERE id LIKE %(p)s ORDER BY id", {"p": p + "%"}).scalars()]
                      for p in ("core", "fast")}
            with pytest.raises(IntegrityError):
                RowInsert(messages).execute(conn, rows("fast")[:1])
        assert len(stored["fast"]) == 3
        assert stored["fast"] == stored["core"]
        assert stored["fast"][1]["attachment_count"] == 0 and stored["fast"][1]["attempts"] == 0
    finally:
        engine.dispose()


def test_finish_records_the_outcomes_of_what_is_still_sending(pg_url: str) -> None:
    """PostgreSQL's finish (one ``UPDATE … FROM json_to_recordset(…) RETURNING`` with the rest as
    CTEs): the messages still in ``sending`` take their outcome (``sent_at`` kept when the
    outcome has none, an offset time stored as the same instant), the others are left alone and
    not reported as recorded."""
    from datetime import UTC, datetime, timedelta, timezone
    from typing import cast

    from mailport.adapters.storage.outbox_repository import OutboxRepository
    from mailport.adapters.storage.tables import Tenant
    from mailport.adapters.storage.tables_outbox import Message

    db = Database(pg_url)
    db.migrate()
    now = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    earlier = now - timedelta(hours=1)
    messages = cast(sa.Table, Message.__table__)
    try:
        with db.session() as s:
            s.execute(sa.insert(cast(sa.Table, Tenant.__table__)), {"id": "ten_1", "name": "T", "created_at": now})
            s.execute(sa.insert(messages), [{
                "id": f"m{n}", "tenant_id": "ten_1", "account_id": "acc_1", "state": state,
                "from_email": "a@example.test", "subject": "s", "header_message_id": f"<{n}@x>", "size": 1,
                "meta": {}, "created_at": earlier, "updated_at": earlier, "sent_at": sent_at,
            } for n, state, sent_at in [(1, "sending", None), (2, "sending", earlier), (3, "cancelled", None)]])
        with db.session() as s:
            recorded = OutboxRepository(s).finish_all([
                {"b_id": "m1", "b_state": "sent", "b_reason": None, "b_now": now, "b_next": None,
                 "b_delay": None, "b_sent_at": now.astimezone(timezone(timedelta(hours=1)))},
                {"b_id": "m2", "b_state": "deferred", "b_reason": "smtp.busy", "b_now": now,
                 "b_next": now + timedelta(minutes=5), "b_delay": 300.0, "b_sent_at": None},
                {"b_id": "m3", "b_state": "sent", "b_reason": None, "b_now": now, "b_next": None,
                 "b_delay": None, "b_sent_at": now},
            ], recipients=[], events=[], copies=[], job_ends=[])
        assert recorded == {"m1", "m2"}
        with db.reading() as s:
            rows = {r.id: r for r in s.execute(sa.select(messages).order_by(messages.c.id))}
        assert (rows["m1"].state, rows["m1"].sent_at, rows["m1"].updated_at) == ("sent", now, now)
        assert (rows["m2"].state, rows["m2"].reason, rows["m2"].next_attempt_at, rows["m2"].last_delay_seconds,
                rows["m2"].sent_at) == ("deferred", "smtp.busy", now + timedelta(minutes=5), 300.0, earlier)
        assert (rows["m3"].state, rows["m3"].updated_at) == ("cancelled", earlier)
    finally:
        db.dispose()


def test_settle_many_is_one_statement_and_leaves_another_holders_job(pg_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from dbfixtures import make_runtime
    from mailport.core.jobs import Done, Fail, Retry

    t0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    runtime = make_runtime(tmp_path, pg_url)
    try:
        runtime.db.migrate()
        q = runtime.queue
        ids = [q.enqueue(kind="k", payload={"n": n}, now=t0) for n in range(4)]
        mine = q.claim(worker_id="w1", now=t0, lease=timedelta(seconds=30), limit=3)
        theirs = q.claim(worker_id="w2", now=t0, lease=timedelta(seconds=30), limit=1)
        assert [j.id for j in mine] == ids[:3] and [j.id for j in theirs] == ids[3:]
        statements: list[str] = []
        sa.event.listen(runtime.db.engine, "before_cursor_execute",
                        lambda _c, _cur, statement, *_a: statements.append(statement))
        q.settle_many([(ids[0], Done()), (ids[1], Retry(run_at=t0 + timedelta(minutes=1), error="451 later")),
                       (ids[2], Fail(error="550 no")), (ids[3], Done())], worker_id="w1", now=t0)
        assert len(statements) == 1
        with runtime.db.reading() as s:
            rows = {r.id: r for r in s.execute(sa.text(
                "SELECT id, state, last_error, run_at, locked_by, locked_until, renewed_at FROM jobs"))}
        assert (rows[ids[0]].state, rows[ids[0]].locked_by, rows[ids[0]].locked_until) == ("done", None, None)
        assert (rows[ids[1]].state, rows[ids[1]].last_error, rows[ids[1]].run_at) == (
            "ready", "451 later", t0 + timedelta(minutes=1))
        assert (rows[ids[2]].state, rows[ids[2]].last_error) == ("failed", "550 no")
        assert (rows[ids[3]].state, rows[ids[3]].locked_by) == ("running", "w2")  # not w1's to settle
    finally:
        runtime.close()


def test_a_connection_idle_for_long_is_pinged_first(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle longer than IDLE_PING_SECONDS (a firewall may have dropped it without a word): one
    ``;`` before use, outside any transaction, as ``pool_pre_ping`` did on every checkout."""
    from mailport.adapters.storage import database

    db = Database(pg_url)
    name = pg_url.rsplit("/", 1)[1]
    try:
        with db.reading() as s:
            pid = s.execute(sa.text("SELECT pg_backend_pid() AS marker_three")).scalar_one()
        monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)
        time.sleep(0.01)
        with db.engine.connect():
            assert _backend(name, pid) == ("idle", ";")
        with db.session() as s:  # and the connection is as good as before
            assert s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == pid
    finally:
        db.dispose()


def test_the_begins_load_reads_core_s_rows_in_binary_without_core(pg_url: str) -> None:
    """The worker's begin loads messages, bytes, recipients and accounts on psycopg directly, in
    binary format (``RowRead(binary=True)``): the same rows Core's execution gives — bytes, JSON,
    times, floats, arrays, NULLs — with neither Core's execution nor the bytes as hex."""
    from datetime import UTC, datetime, timedelta
    from typing import cast

    from mailport.adapters.storage import outbox_repository
    from mailport.adapters.storage.outbox_repository import OutboxRepository
    from mailport.adapters.storage.tables import Tenant
    from mailport.adapters.storage.tables_outbox import Message, MessageContent, MessageRecipient

    db = Database(pg_url)
    db.migrate()
    now = datetime(2026, 12, 7, 1, 30, 0, 123456, tzinfo=UTC)
    raw = bytes(range(256)) * 80 + b"\r\n.\r\n\x00"  # every byte value, NUL included
    try:
        with db.session() as s:
            s.execute(sa.insert(cast(sa.Table, Tenant.__table__)), {"id": "ten_1", "name": "T", "created_at": now})
            s.execute(sa.insert(cast(sa.Table, Message.__table__)), [{
                "id": f"m{n}", "tenant_id": "ten_1", "account_id": "acc_none", "state": "queued",
                "from_email": "a@example.test", "subject": "s", "header_message_id": f"<{n}@x>", "size": 1,
                "meta": {"invoice": "F-1", "n": n, "nested": {"é": [1, 2.5, None]}}, "created_at": now,
                "updated_at": now, "send_at": now + timedelta(hours=n) if n == 1 else None,
                "last_delay_seconds": 12.5 if n == 1 else None, "attempts": n,
            } for n in (1, 2)])
            s.execute(sa.insert(cast(sa.Table, MessageContent.__table__)),
                      [{"message_id": "m1", "raw": raw, "envelope": {"from": "a@example.test", "to": ["b@x.test"]}}])
            s.execute(sa.insert(cast(sa.Table, MessageRecipient.__table__)), [
                {"message_id": "m1", "position": p, "address": f"r{p}@x.test", "kind": "to", "status": "pending",
                 "updated_at": now} for p in (1, 0)])
        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda _c, _cur, statement, *_a: statements.append(statement))
        params = {"b_ids": ["m1", "m2", "m3"], "b_keys": []}
        with db.session() as s:
            core = [tuple(r) for r in s.connection().execute(outbox_repository._LOAD_LOCKED_PG.statement, params)]
            assert len(statements) == 1
            driver = outbox_repository._LOAD_LOCKED_PG.all_in(s, params)
            assert len(statements) == 1  # not through Core
            loaded, accounts = OutboxRepository(s).load_locked_for_sending(["m1", "m2"], [])
        assert sorted(driver) == sorted(core) and len(core) == 2
        assert loaded["m1"].content is not None and loaded["m1"].content.raw == raw
        assert loaded["m1"].content.envelope == {"from": "a@example.test", "to": ["b@x.test"]}
        assert [r.address for r in loaded["m1"].recipients] == ["r0@x.test", "r1@x.test"]
        first = loaded["m1"].message
        assert (first.meta, first.send_at, first.last_delay_seconds, first.created_at) == (
            {"invoice": "F-1", "n": 1, "nested": {"é": [1, 2.5, None]}}, now + timedelta(hours=1), 12.5, now)
        assert loaded["m2"].content is None and loaded["m2"].recipients == [] and accounts == {}
    finally:
        db.dispose()
