"""Migrations: idempotent, every feature head applied, and safe when a fleet starts at once."""

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from mailport.adapters.storage.database import Database, alembic_config


def test_migrate_is_idempotent_and_creates_every_feature_table(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    db.migrate()
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {"tenants", "accounts", "secrets", "jobs"} <= tables
    assert len(tables) >= 10  # outbox, domains, oauth and inbox tables too
    with db.engine.connect() as conn:
        applied = {row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
    assert applied == set(ScriptDirectory.from_config(alembic_config(db)).get_heads())
    db.dispose()


def test_concurrent_migrations_do_not_race(database_url: str) -> None:
    def run() -> None:
        db = Database(database_url)
        try:
            db.migrate()
        finally:
            db.dispose()

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(run) for _ in range(4)]:
            future.result()
    db = Database(database_url)
    assert "accounts" in sa.inspect(db.engine).get_table_names()
    db.dispose()
