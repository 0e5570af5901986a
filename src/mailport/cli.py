"""The ``mailport`` command: serve, worker, migrate, tenants (and more as capabilities land).

Thin on purpose: every command builds the runtime from settings, calls one service, prints.
Each option names the ``MAILPORT_*`` variable it overrides, shown in ``--help``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
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

    async def main() -> None:
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
