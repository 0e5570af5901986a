"""pytest plugin: databases and app clients for the tests, on SQLite and on PostgreSQL.

PostgreSQL runs on this machine (127.0.0.1:5432, trust auth); each test session creates its own
scratch database and drops it at the end, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailport.runtime import Runtime
from mailport.settings import load_settings
from testenv import unavailable

PG_ADMIN_URL = os.environ.get("MAILPORT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_KEY = "mpa_test_operator_key_0123456789"


def _pg_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except (psycopg.Error, OSError):
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A scratch PostgreSQL database for this test session; yields its SQLAlchemy URL."""
    if not _pg_available():
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    import psycopg

    name = f"mailport_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated-on-use database URL: SQLite in tmp_path, or a fresh schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mailport.db'}"
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """The session's PostgreSQL database with an empty schema, for tests that are PostgreSQL-only."""
    import sqlalchemy as sa

    # One database per session, one schema-reset per test: drop every table for a clean slate.
    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    yield pg_database


def make_runtime(tmp_path: Path, database_url: str | None = None, **overrides: object) -> Runtime:
    values: dict[str, object] = {
        "env": "test",
        "data_dir": tmp_path / "var",
        "database_url": database_url or "",
        "admin_key": ADMIN_KEY,
        "secret_key": "t1:" + "A" * 43 + "=",
    }
    values.update(overrides)
    settings = load_settings(**values)
    runtime = Runtime(settings=settings)
    runtime.db.migrate()
    return runtime


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    """A migrated runtime on SQLite and (second run) PostgreSQL."""
    rt = make_runtime(tmp_path, database_url)
    yield rt
    rt.close()


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A migrated runtime on SQLite only (for tests that need no PostgreSQL variant)."""
    rt = make_runtime(tmp_path)
    yield rt
    rt.close()


@pytest.fixture
def api(runtime: Runtime) -> Iterator[object]:
    """A TestClient on the app over ``runtime`` (SQLite and PostgreSQL)."""
    from fastapi.testclient import TestClient

    from mailport.api.app import create_app

    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """CLI commands run in-process (typer's runner) call ``configure_logging``, which replaces the
    root handlers with one on pytest's captured stderr; put the previous ones back afterwards so
    later tests do not log into a closed stream."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
