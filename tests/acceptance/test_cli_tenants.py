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


def test_tenant_create_prints_only_the_key_on_stdout(tmp_path: Path) -> None:
    """So ``export KEY=$(mailport tenant create acme)`` works as the README shows."""
    env = {**os.environ, "MAILPORT_DATA_DIR": str(tmp_path / "var")}
    env.pop("MAILPORT_DATABASE_URL", None)
    created = _mailport("tenant", "create", "acme", env=env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("mpk_") and len(created.stdout.split()) == 1
    assert "created" in created.stderr and "shown once" in created.stderr


def test_the_data_directory_belongs_to_the_installation_not_the_current_folder(tmp_path: Path) -> None:
    """Run from any folder, the default settings point at the installation's ``var/`` (for a
    source checkout: the repository's), so no empty database appears in the current folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    code = "from mailport.settings import Settings; print(Settings().effective_database_url)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    root = Path(__file__).resolve().parents[2]
    assert result.stdout.strip() == f"sqlite:///{(root / 'var' / 'mailport.db').as_posix()}"
    assert list(tmp_path.iterdir()) == []


def test_a_command_says_which_database_it_uses_when_not_the_default(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    listed = _mailport("tenant", "list", "--json", "--data-dir", str(tmp_path / "elsewhere"), env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"database: sqlite:///{tmp_path}/elsewhere/mailport.db" in listed.stderr
    assert json.loads(listed.stdout) == []


def test_tenant_by_name_full_ids_in_narrow_terminals_and_unknown_tenants_fail(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env |= {"MAILPORT_DATA_DIR": str(tmp_path), "COLUMNS": "40"}
    created = _mailport("tenant", "create", "acme", env=env)
    assert created.returncode == 0, created.stderr
    tenant_id = json.loads(_mailport("tenant", "list", "--json", env=env).stdout)[0]["id"]
    narrow = _mailport("tenant", "list", env=env)
    assert tenant_id in narrow.stdout, narrow.stdout  # not "ten_abc…"
    by_name = _mailport("account", "list", "--tenant", "acme", "--json", env=env)
    assert by_name.returncode == 0 and json.loads(by_name.stdout) == [], by_name.stderr
    unknown = _mailport("account", "list", "--tenant", "acmee", env=env)
    assert unknown.returncode == 2 and "no tenant 'acmee'" in unknown.stderr


def test_times_are_printed_in_the_local_zone_or_the_one_asked_for(tmp_path: Path) -> None:
    """Times the CLI prints are on the reader's clock: ``TZ`` (the machine's zone) or ``--tz``,
    with the zone named — not UTC (issue 16 item 9)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_DATA_DIR=str(tmp_path / "var"), COLUMNS="200", NO_COLOR="1")
    assert _mailport("tenant", "create", "acme", env=env).returncode == 0
    created = datetime.fromisoformat(json.loads(_mailport("tenant", "list", "--json", env=env).stdout)[0]["created_at"])
    created = created if created.tzinfo else created.replace(tzinfo=UTC)

    def shown(zone: str) -> str:
        return created.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")

    by_tz = _mailport("tenant", "list", env={**env, "TZ": "Asia/Kathmandu"})  # UTC+05:45: no UTC hour matches
    assert by_tz.returncode == 0, by_tz.stderr
    assert shown("Asia/Kathmandu") in by_tz.stdout, by_tz.stdout
    by_option = _mailport("--tz", "America/St_Johns", "tenant", "list", env={**env, "TZ": "Asia/Kathmandu"})
    assert shown("America/St_Johns") in by_option.stdout, by_option.stdout
    wrong = _mailport("--tz", "Mars/Olympus", "tenant", "list", env=env)
    assert wrong.returncode == 2 and "Europe/Amsterdam" in wrong.stderr


def test_suppression_and_batch_take_the_tenant_by_name_too(tmp_path: Path) -> None:
    """``--tenant acme`` means the tenant named acme in every command: the suppression list and
    ``send --batch`` used the name as an id (an empty list, a database error on add, every
    batch line refused with send.no_account)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env |= {"MAILPORT_DATA_DIR": str(tmp_path / "var"), "MAILPORT_ALLOW_PRIVATE_HOSTS": "true",
            "MAILPORT_ALLOW_INSECURE_AUTH": "true", "COLUMNS": "200"}
    assert _mailport("tenant", "create", "acme", env=env).returncode == 0
    added = subprocess.run([sys.executable, "-m", "mailport.cli", "account", "add", "user@example.test",
                            "--tenant", "acme", "--smtp-host", "127.0.0.1", "--smtp-port", "9", "--smtp-security",
                            "none", "--password-stdin", "--json"], input="password\n", env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr

    add = _mailport("suppression", "add", "weg@klant.example", "--tenant", "acme", env=env)
    assert add.returncode == 0, add.stderr
    listed = _mailport("suppression", "list", "--tenant", "acme", "--json", env=env)
    assert [e["address"] for e in json.loads(listed.stdout)] == ["weg@klant.example"], listed.stderr
    unknown = _mailport("suppression", "list", "--tenant", "acmee", env=env)
    assert unknown.returncode == 2 and "no tenant 'acmee'" in unknown.stderr
    removed = _mailport("suppression", "remove", "weg@klant.example", "--tenant", "acme", env=env)
    assert removed.returncode == 0, removed.stderr

    batch = tmp_path / "month-end.jsonl"
    batch.write_text(json.dumps({"from": "user@example.test", "to": ["klant@example.org"], "subject": "Factuur 1",
                                 "text": "Zie bijlage.", "idempotency_key": "inv-1"}) + "\n")
    sent = _mailport("send", "--batch", str(batch), "--tenant", "acme", "--json", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert [r["status"] for r in json.loads(sent.stdout)] == ["queued"]
    nobody = _mailport("send", "--batch", str(batch), "--tenant", "acmee", env=env)
    assert nobody.returncode == 2 and "no tenant 'acmee'" in nobody.stderr


def test_a_database_that_cannot_be_used_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    """``mailport migrate`` (and ``serve``) against a PostgreSQL that refuses, or a database not
    created yet, said so in a 300-line traceback; now one line names the database (password
    hidden) and the server's reason."""
    from lab.ports import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env |= {"MAILPORT_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200",
            "MAILPORT_DATABASE_URL": f"postgresql+psycopg://mailport:hunter2-secret@127.0.0.1:{free_port()}/mailport"}
    result = _mailport("migrate", env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "hunter2-secret" not in result.stderr
    assert "error [storage.unavailable] cannot use the database postgresql+psycopg://mailport:***@" in result.stderr
    assert "refused" in result.stderr.lower()
