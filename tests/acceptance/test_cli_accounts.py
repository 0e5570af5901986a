"""`mailport account …` and `mailport worker` as an operator runs them."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PASSWORD = "Cli-Secret-Value-8812"


def _run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailport.cli", *args], check=False, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env["MAILPORT_DATA_DIR"] = str(tmp_path / "var")
    return env


def test_account_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    env = _env(tmp_path)
    tenant = json.loads(_run("tenant", "create", "shop", "--json", env=env).stdout)["id"]
    env["MAILPORT_TENANT"] = tenant
    added = _run("account", "add", "sales@shop.example.com", "--smtp-host", "smtp.example.com",
                 "--smtp-port", "587", "--smtp-security", "starttls", "--password-stdin", "--json",
                 env=env, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    account = json.loads(added.stdout)
    assert account["has_password"] and PASSWORD not in added.stdout + added.stderr
    listed = json.loads(_run("account", "list", "--json", env=env).stdout)
    assert [a["email"] for a in listed] == ["sales@shop.example.com"]
    # A new port drops the stored password (it must never travel to a server it was not given for).
    refused = _run("account", "edit", account["id"], "--smtp-port", "465", "--smtp-security", "tls", env=env)
    assert refused.returncode == 2 and "account.secret_required" in refused.stderr
    edited = _run("account", "edit", account["id"], "--smtp-port", "465", "--smtp-security", "tls",
                  "--password-stdin", "--json", env=env, stdin=PASSWORD + "\n")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["smtp"]["port"] == 465
    bad = _run("account", "add", "x@shop.example.com", "--smtp-host", "smtp.example.com", "--smtp-port", "25",
               "--smtp-security", "none", "--password", "pw-12345", env=env)
    assert bad.returncode == 2 and "request.insecure_auth" in bad.stderr and "Traceback" not in bad.stderr
    assert _run("account", "remove", account["id"], env=env).returncode == 0
    missing = _run("account", "show", account["id"], env=env)
    assert missing.returncode == 2 and "not_found" in missing.stderr


def test_worker_process_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mailport.cli", "worker"], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    lines: list[str] = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "started" in line:
            break
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, "".join(lines) + rest
    assert "stopped" in rest
