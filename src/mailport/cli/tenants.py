"""``mailport tenant``: tenant management for the operator."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mailport.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonOut,
    build_runtime,
    err,
    fail,
    id_table,
    out,
)
from mailport.errors import MailportError

app = typer.Typer(no_args_is_help=True, help="Manage tenants (operator).")


@app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="The tenant's name (the business).")],
    display_name: Annotated[str | None, typer.Option(help="Name shown to mail recipients.")] = None,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Create a tenant and print its API key (shown only this once)."""
    try:
        runtime = build_runtime(database_url=database_url, data_dir=data_dir)
        created = runtime.tenants.create(name=name, display_name=display_name)
    except MailportError as exc:
        fail(exc)
    if as_json:
        print(json.dumps({**created.tenant.to_dict(), "api_key": created.api_key}))
        return
    # Only the key goes to stdout, so `KEY=$(mailport tenant create acme)` captures it; the words
    # around it go to stderr, still in front of the person at the terminal.
    err.print(f"tenant [bold]{created.tenant.name}[/bold] created: {created.tenant.id}", highlight=False)
    err.print("API key (shown once — store it now):", highlight=False)
    print(created.api_key)


@app.command("list")
def tenant_list(as_json: JsonOut = False, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """List tenants."""
    try:
        runtime = build_runtime(database_url=database_url, data_dir=data_dir)
        tenants = runtime.tenants.list()
    except MailportError as exc:
        fail(exc)
    if as_json:
        print(json.dumps([t.to_dict() for t in tenants]))
        return
    table = id_table("id", "name", "display name", "created")
    for t in tenants:
        table.add_row(t.id, t.name, t.display_name or "", t.created_at.isoformat(timespec="seconds"))
    out.print(table)


