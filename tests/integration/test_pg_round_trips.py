"""PostgreSQL round trips that are not the work: a pooled connection is checked out without a
ping, reads run without BEGIN/ROLLBACK, a connection the server ended is replaced unnoticed, and
message bodies are stored with lz4 (migration 0025_body_lz4). See bench/bench_send.py, "session 6
PostgreSQL pass"."""

from __future__ import annotations

import time

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
