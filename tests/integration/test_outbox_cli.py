"""``mailport send … --attach invoice.pdf`` and ``mailport message …`` as an operator runs them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

from lab import SmtpSink


def _run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailport.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=90, check=False)


def test_send_with_attachment_from_the_command_line(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_DATA_DIR=str(tmp_path / "var"), MAILPORT_ALLOW_PRIVATE_HOSTS="true",
               MAILPORT_ALLOW_INSECURE_AUTH="true")
    env["MAILPORT_TENANT"] = json.loads(_run("tenant", "create", "shop", "--json", env=env).stdout)["id"]
    added = _run("account", "add", "user@example.test", "--smtp-host", "127.0.0.1", "--smtp-port",
                 str(smtp_sink.port), "--smtp-security", "none", "--password-stdin", "--json",
                 env=env, stdin="password\n")
    assert added.returncode == 0, added.stderr
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4\n" + os.urandom(30_000))

    sent = _run("send", "--to", "debiteur@example.org", "--subject", "Factuur 7", "--text", "Zie bijlage.",
                "--attach", str(invoice), "--metadata", "invoice_id=7", "--wait", "--json", env=env)
    assert sent.returncode == 0, sent.stderr
    view = json.loads(sent.stdout)
    assert view["state"] == "sent" and view["metadata"] == {"invoice_id": "7"}
    [received] = smtp_sink.messages
    [part] = list(message_from_bytes(received.data, policy=policy.default).iter_attachments())
    assert part.get_filename() == "invoice.pdf"
    assert hashlib.sha256(part.get_content()).digest() == hashlib.sha256(invoice.read_bytes()).digest()

    queued = _run("send", "--from", "user@example.test", "--to", "b@example.org", "--text", "later",
                  "--send-at", "2099-01-01T10:00:00+0100", "--json", env=env)
    assert queued.returncode == 2 and "send_at" in queued.stderr  # more than a year ahead
    queued = _run("send", "--from", "user@example.test", "--to", "b@example.org", "--text", "x", "--json", env=env)
    queued_id = json.loads(queued.stdout)["id"]
    listed = json.loads(_run("message", "list", "--status", "queued", "--json", env=env).stdout)
    assert [m["id"] for m in listed] == [queued_id]
    cancelled = _run("message", "cancel", queued_id, "--json", env=env)
    assert json.loads(cancelled.stdout)["state"] == "cancelled"
    again = _run("message", "retry", queued_id, env=env)  # a cancelled message stays cancelled
    assert again.returncode == 2 and "message.not_retryable" in again.stderr, again.stderr
    unknown = _run("message", "show", "msg_nope", env=env)
    assert unknown.returncode == 2 and "not_found" in unknown.stderr and unknown.stdout == ""
    shown = _run("message", "show", view["id"], env=env)
    assert "message.sent" in shown.stdout and "debiteur@example.org" in shown.stdout
    missing = _run("send", "--to", "x@example.org", "--text", "x", "--attach", str(tmp_path / "nope.pdf"), env=env)
    assert missing.returncode == 2 and "nope.pdf" in missing.stderr


def test_send_batch_from_a_jsonl_file(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_DATA_DIR=str(tmp_path / "var"), MAILPORT_ALLOW_PRIVATE_HOSTS="true",
               MAILPORT_ALLOW_INSECURE_AUTH="true")
    env["MAILPORT_TENANT"] = json.loads(_run("tenant", "create", "shop", "--json", env=env).stdout)["id"]
    added = _run("account", "add", "user@example.test", "--smtp-host", "127.0.0.1", "--smtp-port",
                 str(smtp_sink.port), "--smtp-security", "none", "--password-stdin", "--json",
                 env=env, stdin="password\n")
    assert added.returncode == 0, added.stderr
    lines = [json.dumps({"to": [f"klant{n}@example.org"], "subject": f"Factuur {n}", "text": "Zie bijlage.",
                         "idempotency_key": f"inv-{n}"}) for n in range(150)]
    lines.insert(10, "{not json")
    lines.insert(20, json.dumps({"to": ["geen adres"], "text": "x"}))
    lines.insert(30, "")  # blank lines are skipped
    batch = tmp_path / "month-end.jsonl"
    batch.write_text("\n".join(lines) + "\n")

    first = _run("send", "--batch", str(batch), "--json", env=env)
    assert first.returncode == 1, first.stderr  # two lines failed; the others are queued
    results = json.loads(first.stdout)
    assert len(results) == 152
    failed = {r["line"]: r["code"] for r in results if r["status"] == "failed"}
    assert failed == {11: "request.invalid_json", 21: "request.invalid_address"}
    assert sum(r["status"] == "queued" for r in results) == 150

    again = _run("send", "--batch", str(batch), env=env)  # a rerun after a crash sends nothing twice
    assert again.returncode == 1
    assert "0 queued, 150 already queued earlier" in again.stdout and "2 failed" in again.stdout
    listed = json.loads(_run("message", "list", "--limit", "200", "--json", env=env).stdout)
    assert len(listed) == 150
