"""RowRead reads, on a SQLite file, exactly the rows a session reads — through a driver connection
of the calling thread that does not queue for the writers' turn."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, select

from mailport.adapters.storage.database import Database
from mailport.adapters.storage.repositories import ApiKeyRepository
from mailport.adapters.storage.row_read import RowRead
from mailport.adapters.storage.tables import ApiKey, Base, Tenant
from mailport.errors import StorageError

NOW = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)
KEYS = RowRead(select(ApiKey.id, ApiKey.tenant_id, ApiKey.last_used_at, ApiKey.revoked_at)
               .where(ApiKey.tenant_id == bindparam("tenant_id")).order_by(ApiKey.id))


def _seed(database: Database) -> None:
    Base.metadata.create_all(database.engine)
    with database.session() as s:
        s.add(Tenant(id="ten_1", name="T", created_at=NOW))
        s.flush()
        s.add_all([ApiKey(id="k1", tenant_id="ten_1", secret_hash="h1", created_at=NOW, last_used_at=NOW),
                   ApiKey(id="k2", tenant_id="ten_1", secret_hash="h2", created_at=NOW)])


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'mailport.db'}")
    _seed(database)
    yield database
    database.dispose()


def test_the_rows_a_session_reads(db: Database) -> None:
    assert db.has_driver_reads
    with db.reading() as s:
        expected = [tuple(r) for r in s.connection().execute(KEYS.statement, {"tenant_id": "ten_1"})]
    rows = KEYS.all(db, {"tenant_id": "ten_1"})
    assert rows == expected == [("k1", "ten_1", NOW, None), ("k2", "ten_1", None, None)]
    assert rows[0][2].tzinfo is UTC  # the column type's result processor ran (SQLite stores text)
    assert KEYS.first(db, {"tenant_id": "nobody"}) is None


def test_a_revoked_key_is_gone_at_the_next_read(db: Database) -> None:
    assert ApiKeyRepository.find_active(db, "k1") is not None
    with db.session() as s:
        ApiKeyRepository(s).get(tenant_id="ten_1", key_id="k1").revoked_at = NOW
    assert ApiKeyRepository.find_active(db, "k1") is None


def test_reads_while_a_writer_holds_the_turn(db: Database) -> None:
    """A read neither waits for a writer's open transaction nor sees what it has not committed."""
    with db.session() as s:
        s.add(ApiKey(id="k3", tenant_id="ten_1", secret_hash="h3", created_at=NOW))
        s.flush()
        found: list[Any] = []
        reader = threading.Thread(target=lambda: found.append(KEYS.all(db, {"tenant_id": "ten_1"})))
        reader.start()
        reader.join(5)
        assert not reader.is_alive() and [r[0] for r in found[0]] == ["k1", "k2"]
    assert [r[0] for r in KEYS.all(db, {"tenant_id": "ten_1"})] == ["k1", "k2", "k3"]


def test_after_dispose_a_read_opens_a_new_connection(db: Database) -> None:
    assert len(KEYS.all(db, {"tenant_id": "ten_1"})) == 2
    db.dispose()
    assert len(KEYS.all(db, {"tenant_id": "ten_1"})) == 2


def test_a_database_that_is_gone_is_a_storage_error_not_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "mailport.db"
    database = Database(f"sqlite:///{path}")
    try:
        path.unlink()
        with pytest.raises(StorageError):
            KEYS.all(database, {"tenant_id": "ten_1"})
        assert not path.exists()
    finally:
        database.dispose()


def test_postgres_reads_the_rows_a_session_reads_outside_a_transaction(pg_url: str) -> None:
    """On PostgreSQL RowRead runs on a pooled connection in autocommit for the one statement: the
    same rows as a session, a revocation seen at the next read, the connection given back as the
    pool lends it (not in autocommit, no transaction open), and errors as StorageError."""
    database = Database(pg_url)
    try:
        _seed(database)
        assert database.has_driver_reads
        with database.reading() as s:
            expected = [tuple(r) for r in s.connection().execute(KEYS.statement, {"tenant_id": "ten_1"})]
        rows = KEYS.all(database, {"tenant_id": "ten_1"})
        assert rows == expected == [("k1", "ten_1", NOW, None), ("k2", "ten_1", None, None)]
        assert rows[0][2].tzinfo is UTC
        assert ApiKeyRepository.find_active(database, "k1") is not None
        with database.session() as s:
            ApiKeyRepository(s).get(tenant_id="ten_1", key_id="k1").revoked_at = NOW
        assert ApiKeyRepository.find_active(database, "k1") is None
        pooled = database.engine.raw_connection()
        try:
            conn: Any = pooled.driver_connection
            assert conn.autocommit is False and conn.info.transaction_status.name == "IDLE"
        finally:
            pooled.close()
        broken = RowRead(select(ApiKey.id).where(ApiKey.id == bindparam("key_id")).where(
            ApiKey.tenant_id == select(Tenant.id).scalar_subquery()))  # more than one row: an error
        with database.session() as s:
            s.add(Tenant(id="ten_2", name="U", created_at=NOW))
        with pytest.raises(StorageError):
            broken.all(database, {"key_id": "k2"})
        assert ApiKeyRepository.find_active(database, "k2") is not None  # the pool still serves
    finally:
        database.dispose()


def test_in_memory_and_other_databases_read_through_a_session() -> None:
    database = Database("sqlite:///:memory:")
    try:
        Base.metadata.create_all(database.engine)
        assert not database.has_driver_reads
        assert KEYS.all(database, {"tenant_id": "ten_1"}) == []
    finally:
        database.dispose()


def test_row_write_stores_what_core_stores(tmp_path: Path) -> None:
    """The worker's UPDATEs through the driver (executemany with SET columns from the parameters,
    a statement's own literal values, UPDATE … RETURNING with an id list) leave the rows Core
    leaves; a driver error is SQLAlchemy's, so the transaction fails as a StorageError."""
    from sqlalchemy import Table, update
    from sqlalchemy.exc import IntegrityError

    from mailport.adapters.storage.row_read import RowWrite

    keys = ApiKey.__table__
    assert isinstance(keys, Table)
    touch = update(keys).where(keys.c.id == bindparam("b_id"), keys.c.revoked_at.is_(None))
    revoke = update(keys).where(keys.c.id.in_(bindparam("b_ids", expanding=True)), keys.c.label.is_(None)).values(
        revoked_at=bindparam("b_now"), label="revoked").returning(keys.c.id, keys.c.revoked_at)
    later = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    results = {}
    for how in ("core", "driver"):
        database = Database(f"sqlite:///{tmp_path / how / 'mailport.db'}")
        try:
            Base.metadata.create_all(database.engine)
            with database.session() as s:
                s.add(Tenant(id="ten_1", name="T", created_at=NOW))
                s.flush()
                s.add_all([ApiKey(id=f"k{n}", tenant_id="ten_1", secret_hash=f"h{n}", created_at=NOW)
                           for n in range(4)])
            with database.session() as s:
                rows = [{"last_used_at": later, "secret_hash": "x", "b_id": "k1"},
                        {"last_used_at": NOW, "secret_hash": "y", "b_id": "k2"}]
                if how == "core":
                    s.connection().execute(touch, rows)
                    returned = [tuple(r) for r in s.connection().execute(
                        revoke, {"b_ids": ["k2", "k3"], "b_now": later})]
                else:
                    RowWrite(touch).execute_many(s, rows)
                    returned = RowWrite(revoke).returning(s, {"b_ids": ["k2", "k3"], "b_now": later})
            with database.reading() as s:
                stored = s.execute(select(ApiKey.id, ApiKey.secret_hash, ApiKey.last_used_at, ApiKey.revoked_at,
                                          ApiKey.label).order_by(ApiKey.id))
                results[how] = (sorted(returned), [tuple(r) for r in stored])
            if how == "driver":
                insert = RowWrite(keys.insert())
                with pytest.raises(StorageError) as caught, database.session() as s:
                    insert.execute_many(s, [{"id": "k1", "tenant_id": "ten_1", "secret_hash": "h", "created_at": NOW}])
                assert isinstance(caught.value.__cause__, IntegrityError)
        finally:
            database.dispose()
    assert results["driver"] == results["core"]
    assert results["driver"][0] == [("k2", later), ("k3", later)]
