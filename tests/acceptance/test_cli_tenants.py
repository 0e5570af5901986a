"""`mailport tenant create/list` as a user runs them, on SQLite and PostgreSQL."""

import json
import os
import subprocess
import sys
from pathlib import Path


def _mailport(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailport.cli", *args], check=False, env=env, capture_output=True,
                          text=True, timeout=60)


def test_tenant_create_prints_key_once_and_list_shows_it(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, "MAILPORT_DATA_DIR": str(tmp_path / "var"), "MAILPORT_DATABASE_URL": database_url}
    created = _mailport("tenant", "create", "acme", env=env)
    assert created.returncode == 0, created.stderr
    key_lines = [line for line in created.stdout.splitlines() if line.startswith("mpk_")]
    assert len(key_lines) == 1
    listed = _mailport("tenant", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    tenants = json.loads(listed.stdout)
    assert [t["name"] for t in tenants] == ["acme"]
    assert key_lines[0] not in listed.stdout and key_lines[0] not in listed.stderr


def test_help_names_the_environment_variables() -> None:
    result = subprocess.run([sys.executable, "-m", "mailport.cli", "serve", "--help"], check=False, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert "MAILPORT_PORT" in result.stdout and "MAILPORT_DATABASE_URL" in result.stdout


def test_production_without_keys_is_a_clear_startup_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_ENV="production", MAILPORT_DATA_DIR=str(tmp_path))
    result = _mailport("migrate", env=env)
    assert result.returncode == 2
    assert "MAILPORT_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
