"""``mailport account`` and ``mailport secrets``: connect, verify and manage mailboxes."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import nullcontext
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mailport.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonOut,
    Lang,
    TenantOpt,
    err,
    id_table,
    out,
    run,
    run_for_tenant,
)
from mailport.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Connect and manage a tenant's mailboxes.")
secrets_app = typer.Typer(no_args_is_help=True, help="Encrypted secrets (operator).")


def _endpoint(host: str | None, port: int | None, security: str | None, username: str | None,
              pin: str | None) -> dict[str, Any] | None:
    if host is None and port is None and security is None and username is None and pin is None:
        return None
    values = {"host": host, "port": port, "security": security, "username": username, "pin_sha256": pin}
    return {k: v for k, v in values.items() if v is not None}


def _read_password(password: str | None, password_stdin: bool) -> str | None:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return password


def _print_account(view: Any, as_json: bool) -> None:
    data = view.to_dict()
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = Table(show_header=False)
    for key in ("id", "email", "display_name", "status", "auth_kind"):
        table.add_row(key, str(data[key] or ""))
    for kind in ("smtp", "imap"):
        e = data[kind]
        table.add_row(kind, f"{e['host']}:{e['port']} ({e['security']}) as {e['username']}" if e else "—")
    table.add_row("aliases", ", ".join(f"{a['email']}{'' if a['verified'] else ' (unconfirmed)'}"
                                      for a in data["aliases"]) or "—")
    out.print(table)


SmtpHost = Annotated[str | None, typer.Option("--smtp-host", help="SMTP server host name.")]
SmtpPort = Annotated[int | None, typer.Option("--smtp-port", help="SMTP port (465 tls, 587 starttls).")]
SmtpSec = Annotated[str | None, typer.Option("--smtp-security", help="tls | starttls | none")]
SmtpUser = Annotated[str | None, typer.Option("--smtp-username", help="SMTP login (default: the address).")]
ImapHost = Annotated[str | None, typer.Option("--imap-host", help="IMAP server host name (optional).")]
ImapPort = Annotated[int | None, typer.Option("--imap-port", help="IMAP port (993 tls, 143 starttls).")]
ImapSec = Annotated[str | None, typer.Option("--imap-security", help="tls | starttls | none")]
ImapUser = Annotated[str | None, typer.Option("--imap-username", help="IMAP login (default: the address).")]
Pin = Annotated[str | None, typer.Option("--pin-sha256", help="Trust exactly this self-signed certificate (SHA-256).")]
Password = Annotated[str | None, typer.Option("--password", envvar="MAILPORT_ACCOUNT_PASSWORD",
                                              help="Password or app password (prefer --password-stdin).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


@app.command("add")
def account_add(
    email: Annotated[str, typer.Argument(help="The mailbox's address.")],
    tenant: TenantOpt,
    display_name: Annotated[str | None, typer.Option(help="Sender name shown to recipients.")] = None,
    smtp_host: SmtpHost = None, smtp_port: SmtpPort = None, smtp_security: SmtpSec = None,
    smtp_username: SmtpUser = None,
    imap_host: ImapHost = None, imap_port: ImapPort = None, imap_security: ImapSec = None,
    imap_username: ImapUser = None, pin_sha256: Pin = None,
    password: Password = None, password_stdin: PasswordStdin = False,
    as_json: JsonOut = False, database_url: DatabaseUrl = None, data_dir: DataDir = None,
) -> None:
    """Connect a mailbox. Without --smtp-host the settings are discovered from the address."""
    from mailport.services.accounts import AccountInput

    smtp = _endpoint(smtp_host, smtp_port, smtp_security, smtp_username, pin_sha256)
    imap = _endpoint(imap_host, imap_port, imap_security, imap_username, pin_sha256 if imap_host else None)
    view = run_for_tenant(lambda runtime, tenant_id: asyncio.run(runtime.verification.create(tenant_id, AccountInput(
        email=email, display_name=display_name, smtp=smtp or {}, imap=imap,
        password=_read_password(password, password_stdin),
    ))), tenant, database_url=database_url, data_dir=data_dir)
    _print_account(view, as_json)


@app.command("list")
def account_list(tenant: TenantOpt, as_json: JsonOut = False, database_url: DatabaseUrl = None,
                 data_dir: DataDir = None) -> None:
    """List the tenant's mailboxes."""
    views = run_for_tenant(lambda runtime, tenant_id: runtime.accounts.list_accounts(tenant_id), tenant,
                           database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps([v.to_dict() for v in views], indent=2))
        return
    table = id_table("id", "email", "smtp", "imap", "state")
    for v in views:
        state = v.state if not v.attention else f"{v.state} ({v.attention.get('code')})"
        table.add_row(v.id, v.email, f"{v.smtp['host']}:{v.smtp['port']}",
                      f"{v.imap['host']}:{v.imap['port']}" if v.imap else "—", state)
    out.print(table)


@app.command("show")
def account_show(account_id: str, tenant: TenantOpt, as_json: JsonOut = False,
                 database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Show one mailbox (never its password)."""
    view = run_for_tenant(lambda runtime, tenant_id: runtime.accounts.get(tenant_id, account_id), tenant,
                          database_url=database_url, data_dir=data_dir)
    _print_account(view, as_json)


@app.command("edit")
def account_edit(
    account_id: str, tenant: TenantOpt,
    display_name: Annotated[str | None, typer.Option(help="Sender name shown to recipients.")] = None,
    smtp_host: SmtpHost = None, smtp_port: SmtpPort = None, smtp_security: SmtpSec = None,
    smtp_username: SmtpUser = None,
    imap_host: ImapHost = None, imap_port: ImapPort = None, imap_security: ImapSec = None,
    imap_username: ImapUser = None,
    password: Password = None, password_stdin: PasswordStdin = False,
    as_json: JsonOut = False, database_url: DatabaseUrl = None, data_dir: DataDir = None,
) -> None:
    """Change a mailbox's settings or password (only what you pass changes)."""
    changes: dict[str, Any] = {}
    if display_name is not None:
        changes["display_name"] = display_name
    smtp = _endpoint(smtp_host, smtp_port, smtp_security, smtp_username, None)
    imap = _endpoint(imap_host, imap_port, imap_security, imap_username, None)
    if smtp:
        changes["smtp"] = smtp
    if imap:
        changes["imap"] = imap
    new_password = _read_password(password, password_stdin)
    if new_password is not None:
        changes["password"] = new_password
    view = run_for_tenant(lambda runtime, tenant_id: runtime.accounts.update(tenant_id, account_id, changes), tenant,
                          database_url=database_url, data_dir=data_dir)
    _print_account(view, as_json)


@app.command("remove")
def account_remove(account_id: str, tenant: TenantOpt, database_url: DatabaseUrl = None,
                   data_dir: DataDir = None) -> None:
    """Remove a mailbox and erase its secrets."""
    run_for_tenant(lambda runtime, tenant_id: runtime.accounts.remove(tenant_id, account_id), tenant,
                   database_url=database_url, data_dir=data_dir)
    out.print(f"removed {account_id}")


@app.command("verify")
def account_verify(account_id: str, tenant: TenantOpt, as_json: JsonOut = False, lang: Lang = "en",
                   database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Prove the mailbox works: connect, log in, and send a test mail to its own address."""
    from mailport.core.verification import StageResult

    def progress(result: StageResult) -> None:
        if as_json:
            return
        mark = {"ok": "[green]✓[/green]", "failed": "[red]✗[/red]"}.get(result.status.value, "·")
        ms = f"{result.duration_ms} ms" if result.duration_ms is not None else ""
        code = escape(f"  [{result.code}]") if result.code else ""
        err.print(f" {mark} {result.stage.value:<20} {ms:>8}{code}", highlight=False)

    async def verify(runtime: Runtime, tenant_id: str) -> dict[str, Any]:
        with err.status("verifying…") if not as_json else nullcontext():
            return await runtime.verification.verify_account(tenant_id, account_id, progress=progress)

    report = run_for_tenant(lambda runtime, tenant_id: asyncio.run(verify(runtime, tenant_id)), tenant,
                            database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report, lang)
    raise typer.Exit(0 if report["ok"] else 1)


def _print_report(report: dict[str, Any], lang: str) -> None:
    trip = report.get("roundtrip") or {}
    out.print(f"result: [bold]{report['outcome']}[/bold] in {report['duration_ms']} ms", highlight=False)
    if trip.get("sent"):
        where = trip.get("folder") or ("not confirmed (no IMAP)" if trip.get("arrived") is None else "not found")
        out.print(f"test mail {trip['message_id']}: {where}", highlight=False)
    failed = next((s for s in report["stages"] if s["status"] == "failed"), None)
    if failed:
        out.print(escape(f"failed at {failed['stage']}: [{failed['code']}] {failed.get('message') or ''}"),
                  highlight=False)
        if failed.get("server_text"):
            out.print(escape(f"server said: {failed['server_text']}"), highlight=False)


@secrets_app.command("rotate")
def secrets_rotate(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Re-encrypt every secret under the first key of MAILPORT_SECRET_KEY (no downtime).

    Put the new key first and keep the old one after it (`new:…,old:…`) until this has run on
    every database; then drop the old key.
    """
    report = run(lambda runtime: runtime.secrets.rotate(), database_url=database_url, data_dir=data_dir)
    out.print(f"re-encrypted {report.rotated} secret(s); by key now: {report.by_key_after}", highlight=False)


