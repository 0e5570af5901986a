"""The ``mailport`` command: serve, worker, migrate, tenants (and more as capabilities land).

Thin on purpose: every command builds the runtime from settings, calls one service, prints.
Each option names the ``MAILPORT_*`` variable it overrides, shown in ``--help``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from contextlib import nullcontext
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mailport import __version__
from mailport.errors import MailportError
from mailport.logs import configure_logging
from mailport.runtime import Runtime

app = typer.Typer(no_args_is_help=True, add_completion=False, help="mailport — email for business software.")
tenant_app = typer.Typer(no_args_is_help=True, help="Manage tenants (operator).")
app.add_typer(tenant_app, name="tenant")
account_app = typer.Typer(no_args_is_help=True, help="Connect and manage a tenant's mailboxes.")
app.add_typer(account_app, name="account")
secrets_app = typer.Typer(no_args_is_help=True, help="Encrypted secrets (operator).")
app.add_typer(secrets_app, name="secrets")

out = Console()
err = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", envvar="MAILPORT_DATABASE_URL",
                             help="SQLAlchemy URL (default: SQLite in the data directory).", show_default=False)
]
DataDir = Annotated[
    str | None, typer.Option("--data-dir", envvar="MAILPORT_DATA_DIR", help="Data directory.", show_default=False)
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
TenantOpt = Annotated[str, typer.Option("--tenant", envvar="MAILPORT_TENANT", help="The tenant id (ten_…).")]
Lang = Annotated[str, typer.Option("--lang", envvar="MAILPORT_LANG", help="Language of explanations (en, nl, de, it, fr).")]


def _runtime(*, database_url: str | None = None, data_dir: str | None = None, **extra: Any) -> Runtime:
    overrides: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if database_url:
        overrides["database_url"] = database_url
    if data_dir:
        overrides["data_dir"] = data_dir
    runtime = Runtime.from_env(**overrides)
    s = runtime.settings
    json_logs = s.log_format == "json" or (s.log_format == "auto" and s.is_production)
    configure_logging(level=s.log_level, json_lines=json_logs)
    return runtime


def _fail(exc: MailportError) -> None:
    err.print(f"[red]error[/red] [{exc.code}] {exc.message}", highlight=False)
    raise typer.Exit(2)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


@app.command()
def migrate(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Bring the database schema up to date (safe to run repeatedly)."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
    except MailportError as exc:
        _fail(exc)
    out.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(envvar="MAILPORT_HOST", help="Listen address.", show_default=False)] = None,
    port: Annotated[int | None, typer.Option(envvar="MAILPORT_PORT", help="Listen port.", show_default=False)] = None,
    embedded_worker: Annotated[
        bool | None, typer.Option("--worker/--no-worker", envvar="MAILPORT_EMBEDDED_WORKER",
                                  help="Run the job worker inside this process.", show_default=False)
    ] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API, the web pages and (by default) the worker in one process."""
    import uvicorn

    from mailport.api.app import create_app

    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir, host=host, port=port,
                           embedded_worker=embedded_worker)
        runtime.db.migrate()
    except MailportError as exc:
        _fail(exc)
    s = runtime.settings
    if not s.is_production and not s.database_url:
        err.print(f"development mode: SQLite at {s.effective_database_url.removeprefix('sqlite:///')}, "
                  f"operator key in {s.data_dir / 'admin.key'}")
    api = create_app(runtime, embedded_worker=s.embedded_worker)
    uvicorn.run(api, host=s.host, port=s.port, log_config=None, proxy_headers=True, access_log=False)


@app.command()
def worker(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Run a job worker (any number of them, on any hosts, against PostgreSQL)."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
    except MailportError as exc:
        _fail(exc)

    async def _endpoint(host: str | None, port: int | None, security: str | None, username: str | None,
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


@account_app.command("add")
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
    """Connect a mailbox with its SMTP (and optionally IMAP) settings."""
    from mailport.services.accounts import AccountInput

    smtp = _endpoint(smtp_host, smtp_port, smtp_security, smtp_username, pin_sha256)
    imap = _endpoint(imap_host, imap_port, imap_security, imap_username, pin_sha256 if imap_host else None)
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        view = runtime.accounts.create(tenant, AccountInput(
            email=email, display_name=display_name, smtp=smtp or {}, imap=imap,
            password=_read_password(password, password_stdin),
        ))
    except MailportError as exc:
        _fail(exc)
    _print_account(view, as_json)


@account_app.command("list")
def account_list(tenant: TenantOpt, as_json: JsonOut = False, database_url: DatabaseUrl = None,
                 data_dir: DataDir = None) -> None:
    """List the tenant's mailboxes."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        views = runtime.accounts.list(tenant)
    except MailportError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps([v.to_dict() for v in views], indent=2))
        return
    table = Table("id", "email", "smtp", "imap", "status")
    for v in views:
        table.add_row(v.id, v.email, f"{v.smtp['host']}:{v.smtp['port']}",
                      f"{v.imap['host']}:{v.imap['port']}" if v.imap else "—", v.status)
    out.print(table)


@account_app.command("show")
def account_show(account_id: str, tenant: TenantOpt, as_json: JsonOut = False,
                 database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Show one mailbox (never its password)."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        view = runtime.accounts.get(tenant, account_id)
    except MailportError as exc:
        _fail(exc)
    _print_account(view, as_json)


@account_app.command("edit")
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
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        view = runtime.accounts.update(tenant, account_id, changes)
    except MailportError as exc:
        _fail(exc)
    _print_account(view, as_json)


@account_app.command("remove")
def account_remove(account_id: str, tenant: TenantOpt, database_url: DatabaseUrl = None,
                   data_dir: DataDir = None) -> None:
    """Remove a mailbox and erase its secrets."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.accounts.remove(tenant, account_id)
    except MailportError as exc:
        _fail(exc)
    out.print(f"removed {account_id}")


@account_app.command("verify")
def account_verify(account_id: str, tenant: TenantOpt, as_json: JsonOut = False, lang: Lang = "en",
                   database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Prove the mailbox works: connect, log in, and send a test mail to its own address."""
    from mailport.core.verification import StageResult

    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
    except MailportError as exc:
        _fail(exc)

    def progress(result: StageResult) -> None:
        if as_json:
            return
        mark = {"ok": "[green]✓[/green]", "failed": "[red]✗[/red]"}.get(result.status.value, "·")
        ms = f"{result.duration_ms} ms" if result.duration_ms is not None else ""
        code = f"  [{result.code}]" if result.code else ""
        err.print(f" {mark} {result.stage.value:<20} {ms:>8}{code}", highlight=False)

    async def run() -> dict[str, Any]:
        with err.status("verifying…") if not as_json else nullcontext():
            return await runtime.verification.verify_account(tenant, account_id, progress=progress)

    try:
        report = asyncio.run(run())
    except MailportError as exc:
        _fail(exc)
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
        out.print(f"failed at {failed['stage']}: [{failed['code']}] {failed.get('message') or ''}", highlight=False)
        if failed.get("server_text"):
            out.print(f"server said: {failed['server_text']}", highlight=False)


@secrets_app.command("rotate")
def secrets_rotate(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Re-encrypt every secret under the first key of MAILPORT_SECRET_KEY (no downtime).

    Put the new key first and keep the old one after it (`new:…,old:…`) until this has run on
    every database; then drop the old key.
    """
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        report = runtime.secrets.rotate()
    except MailportError as exc:
        _fail(exc)
    out.print(f"re-encrypted {report.rotated} secret(s); by key now: {report.by_key_after}", highlight=False)


def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await runtime.make_worker().run(stop)

    asyncio.run(main())


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="The tenant's name (the business).")],
    display_name: Annotated[str | None, typer.Option(help="Name shown to mail recipients.")] = None,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Create a tenant and print its API key (shown only this once)."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        created = runtime.tenants.create(name=name, display_name=display_name)
    except MailportError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps({**created.tenant.to_dict(), "api_key": created.api_key}))
        return
    out.print(f"tenant [bold]{created.tenant.name}[/bold] created: {created.tenant.id}", highlight=False)
    out.print("API key (shown once — store it now):", highlight=False)
    print(created.api_key)


@tenant_app.command("list")
def tenant_list(as_json: JsonOut = False, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """List tenants."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        tenants = runtime.tenants.list()
    except MailportError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps([t.to_dict() for t in tenants]))
        return
    table = Table("id", "name", "display name", "created")
    for t in tenants:
        table.add_row(t.id, t.name, t.display_name or "", t.created_at.isoformat(timespec="seconds"))
    out.print(table)


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


@account_app.command("add")
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
    """Connect a mailbox with its SMTP (and optionally IMAP) settings."""
    from mailport.services.accounts import AccountInput

    smtp = _endpoint(smtp_host, smtp_port, smtp_security, smtp_username, pin_sha256)
    imap = _endpoint(imap_host, imap_port, imap_security, imap_username, pin_sha256 if imap_host else None)
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        view = runtime.accounts.create(tenant, AccountInput(
            email=email, display_name=display_name, smtp=smtp or {}, imap=imap,
            password=_read_password(password, password_stdin),
        ))
    except MailportError as exc:
        _fail(exc)
    _print_account(view, as_json)


@account_app.command("list")
def account_list(tenant: TenantOpt, as_json: JsonOut = False, database_url: DatabaseUrl = None,
                 data_dir: DataDir = None) -> None:
    """List the tenant's mailboxes."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        views = runtime.accounts.list(tenant)
    except MailportError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps([v.to_dict() for v in views], indent=2))
        return
    table = Table("id", "email", "smtp", "imap", "status")
    for v in views:
        table.add_row(v.id, v.email, f"{v.smtp['host']}:{v.smtp['port']}",
                      f"{v.imap['host']}:{v.imap['port']}" if v.imap else "—", v.status)
    out.print(table)


@account_app.command("show")
def account_show(account_id: str, tenant: TenantOpt, as_json: JsonOut = False,
                 database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Show one mailbox (never its password)."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        view = runtime.accounts.get(tenant, account_id)
    except MailportError as exc:
        _fail(exc)
    _print_account(view, as_json)


@account_app.command("edit")
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
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        view = runtime.accounts.update(tenant, account_id, changes)
    except MailportError as exc:
        _fail(exc)
    _print_account(view, as_json)


@account_app.command("remove")
def account_remove(account_id: str, tenant: TenantOpt, database_url: DatabaseUrl = None,
                   data_dir: DataDir = None) -> None:
    """Remove a mailbox and erase its secrets."""
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.accounts.remove(tenant, account_id)
    except MailportError as exc:
        _fail(exc)
    out.print(f"removed {account_id}")


@account_app.command("verify")
def account_verify(account_id: str, tenant: TenantOpt, as_json: JsonOut = False, lang: Lang = "en",
                   database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Prove the mailbox works: connect, log in, and send a test mail to its own address."""
    from mailport.core.verification import StageResult

    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
    except MailportError as exc:
        _fail(exc)

    def progress(result: StageResult) -> None:
        if as_json:
            return
        mark = {"ok": "[green]✓[/green]", "failed": "[red]✗[/red]"}.get(result.status.value, "·")
        ms = f"{result.duration_ms} ms" if result.duration_ms is not None else ""
        code = f"  [{result.code}]" if result.code else ""
        err.print(f" {mark} {result.stage.value:<20} {ms:>8}{code}", highlight=False)

    async def run() -> dict[str, Any]:
        with err.status("verifying…") if not as_json else nullcontext():
            return await runtime.verification.verify_account(tenant, account_id, progress=progress)

    try:
        report = asyncio.run(run())
    except MailportError as exc:
        _fail(exc)
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
        out.print(f"failed at {failed['stage']}: [{failed['code']}] {failed.get('message') or ''}", highlight=False)
        if failed.get("server_text"):
            out.print(f"server said: {failed['server_text']}", highlight=False)


@secrets_app.command("rotate")
def secrets_rotate(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Re-encrypt every secret under the first key of MAILPORT_SECRET_KEY (no downtime).

    Put the new key first and keep the old one after it (`new:…,old:…`) until this has run on
    every database; then drop the old key.
    """
    try:
        runtime = _runtime(database_url=database_url, data_dir=data_dir)
        runtime.db.migrate()
        report = runtime.secrets.rotate()
    except MailportError as exc:
        _fail(exc)
    out.print(f"re-encrypted {report.rotated} secret(s); by key now: {report.by_key_after}", highlight=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
