"""PostgreSQL reads awaited on the event loop (``adapters/storage/async_reads.py``): the API key
check on every request without a thread hop — the same rows as the threaded read, a revoked key
refused at the next request, a bounded number of connections, connections the server ended
replaced, and an unreachable server a transient ``StorageError``."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, select

from dbfixtures import PG_ADMIN_URL
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.repositories import ApiKeyRepository
from mailport.adapters.storage.row_read import RowRead
from mailport.adapters.storage.tables import ApiKey, Base, Tenant
from mailport.errors import StorageError

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)
KEYS = RowRead(select(ApiKey.id, ApiKey.tenant_id, ApiKey.last_used_at)
               .where(ApiKey.tenant_id == bindparam("tenant_id")).order_by(ApiKey.id))
PID = RowRead(select(ApiKey.id).where(ApiKey.id == bindparam("key_id")))


@pytest.fixture
def db(pg_url: str) -> Any:
    database = Database(pg_url)
    Base.metadata.create_all(database.engine)
    with database.session() as s:
        s.add(Tenant(id="ten_1", name="T", created_at=NOW))
        s.flush()
        s.add_all([ApiKey(id="k1", tenant_id="ten_1", secret_hash="h1", created_at=NOW, last_used_at=NOW),
                   ApiKey(id="k2", tenant_id="ten_1", secret_hash="h2", created_at=NOW)])
    yield database
    database.dispose()


def _backends(db_name: str) -> set[int]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        return {row[0] for row in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (db_name,))}


async def _pid(db: Database) -> int:
    [(pid,)] = await db.driver_rows_async("SELECT pg_backend_pid()", {})
    return int(pid)


def test_the_rows_the_threaded_read_gives(db: Database) -> None:
    assert db.has_async_reads

    async def read() -> tuple[Any, Any, Any]:
        return (await KEYS.first_async(db, {"tenant_id": "ten_1"}),
                await KEYS.first_async(db, {"tenant_id": "nobody"}),
                await ApiKeyRepository.find_active_async(db, "k2"))

    first, nobody, active = asyncio.run(read())
    assert first == KEYS.first(db, {"tenant_id": "ten_1"}) == ("k1", "ten_1", NOW)
    assert first[2].tzinfo is not None  # the column type's result processor ran
    assert nobody is None
    assert active == ApiKeyRepository.find_active(db, "k2")
    assert active is not None and active.tenant_id == "ten_1" and active.last_used_at is None


def test_the_read_runs_on_the_loop_thread_outside_any_transaction(db: Database, pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]

    async def read() -> tuple[str, str]:
        thread = threading.current_thread().name
        pid = await _pid(db)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            state = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s AND datname = %s",
                                  (pid, name)).fetchone()
        return thread, str(state[0] if state else None)

    thread, state = asyncio.run(read())
    assert thread == threading.main_thread().name
    assert state == "idle"  # autocommit: no transaction left open ("idle in transaction")


def test_a_revoked_key_is_refused_at_the_next_read(db: Database) -> None:
    async def read() -> Any:
        return await ApiKeyRepository.find_active_async(db, "k1")

    async def both() -> tuple[Any, Any]:
        before = await read()
        with db.session() as s:  # revoked by another connection between two reads on this loop
            ApiKeyRepository(s).get(tenant_id="ten_1", key_id="k1").revoked_at = NOW
        return before, await read()

    before, after = asyncio.run(both())
    assert before is not None and after is None


def test_concurrent_reads_share_a_few_connections(db: Database, pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    idle = _backends(name)

    async def many() -> tuple[set[int], set[int]]:
        pids = await asyncio.gather(*(_pid(db) for _ in range(40)))
        return set(pids), _backends(name) - idle

    used, opened = asyncio.run(many())
    assert 1 <= len(used) <= 4  # bounded (``AsyncReaders.size``), not one per waiting request
    assert used <= opened


def test_a_connection_the_server_ended_is_replaced_unnoticed(db: Database) -> None:
    async def run() -> tuple[int, int]:
        first = await _pid(db)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        for _ in range(100):  # the server's goodbye reaches the idle socket
            if not _backends_has(first):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        return first, await _pid(db)

    first, second = asyncio.run(run())
    assert second != first


def _backends_has(pid: int) -> bool:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is not None


def test_a_new_event_loop_opens_its_own_and_the_old_loops_are_closed(db: Database, pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    first = asyncio.run(_pid(db))
    assert first in _backends(name)
    second = asyncio.run(_pid(db))  # another loop: the first loop's connection cannot serve it
    assert second != first
    for _ in range(100):
        if first not in _backends(name):
            break
        threading.Event().wait(0.02)
    assert first not in _backends(name)
    db.dispose()
    for _ in range(100):
        if second not in _backends(name):
            break
        threading.Event().wait(0.02)
    assert second not in _backends(name)  # dispose closes the idle ones


def test_a_server_that_is_not_there_is_a_transient_storage_error() -> None:
    db = Database("postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2")
    try:
        with pytest.raises(StorageError) as raised:
            asyncio.run(ApiKeyRepository.find_active_async(db, "k1"))
        assert raised.value.transient
        assert db.unavailable
    finally:
        db.dispose()


def test_a_failed_statement_is_a_storage_error_and_the_next_read_works(db: Database) -> None:
    async def run() -> Any:
        with pytest.raises(StorageError) as raised:
            await db.driver_rows_async("SELECT * FROM no_such_table", {})
        assert not raised.value.transient
        return await ApiKeyRepository.find_active_async(db, "k1")

    assert asyncio.run(run()) is not None


def test_the_key_read_goes_over_libpq_prepared_once_and_other_shapes_through_psycopg(db: Database) -> None:
    """The key check's statement is prepared once per connection and run over libpq directly;
    a statement with a parameter that path does not take (a list) still runs, through psycopg."""
    from mailport.adapters.storage import async_reads

    async def run() -> tuple[Any, Any, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        first = await ApiKeyRepository.find_active_async(db, "k1")
        second = await ApiKeyRepository.find_active_async(db, "k2")
        listed = await db.driver_rows_async("SELECT count(*) FROM api_keys WHERE id = ANY(%(ids)s)",
                                            {"ids": ["k1", "k2", "nope"]})
        # the session's own prepared statements, seen from that session (one connection here)
        prepared = await db.driver_rows_async(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %(like)s", {"like": "%api_keys%"})
        return first, second, listed, prepared

    direct = async_reads._Direct.rows
    calls: list[bool] = []

    async def counted(conn: Any, sql: str, params: Any) -> Any:
        rows = await direct(conn, sql, params)
        calls.append(rows is not None)
        return rows

    async_reads._Direct.rows = counted  # type: ignore[method-assign]
    try:
        first, second, listed, prepared = asyncio.run(run())
    finally:
        async_reads._Direct.rows = direct  # type: ignore[method-assign]
    assert first == ApiKeyRepository.find_active(db, "k1") and first is not None and first.last_used_at == NOW
    assert second is not None and second.last_used_at is None
    assert listed == [(2,)]
    assert calls == [True, True, False, True]  # the list went through psycopg
    # the key statement once (the list's statement is psycopg's, unprepared on its first run)
    assert len([p for p in prepared if "api_keys.id = $1" in str(p[0])]) == 1, prepared


def test_a_parameter_with_a_nul_is_refused_as_psycopg_refuses_it_not_cut_short(db: Database) -> None:
    """libpq ends a text parameter at a NUL: ``k1\\x00junk`` must not read as ``k1``."""
    async def run() -> Any:
        return await db.driver_rows_async("SELECT id FROM api_keys WHERE id = %(key_id)s", {"key_id": "k1\x00junk"})

    with pytest.raises(StorageError):
        asyncio.run(run())
