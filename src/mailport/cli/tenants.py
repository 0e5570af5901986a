"""``mailport tenant``: tenant management for the operator."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mailport.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonOut,
    err,
    id_table,
    local_time,
    out,
    run,
    run_for_tenant,
)

app = typer.Typer(no_args_is_help=True, help="Manage tenants (operator).")

TenantId = Annotated[str, typer.Argument(help="The tenant: its id (`ten_…`) or its name, when no other tenant has "
                                                "that name.", metavar="TENANT")]


@app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="The tenant's name (the business).")],
    display_name: Annotated[str | None, typer.Option(help="Name shown to mail recipients.")] = None,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Create a tenant and print its API key (shown only this once)."""
    created = run(lambda runtime: runtime.tenants.create(name=name, display_name=display_name),
                  database_url=database_url, data_dir=data_dir)
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
    tenants = run(lambda runtime: runtime.tenants.list_tenants(), database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps([t.to_dict() for t in tenants]))
        return
    table = id_table("id", "name", "display name", "created")
    for t in tenants:
        table.add_row(t.id, t.name, t.display_name or "", local_time(t.created_at, seconds=True))
    out.print(table)


@app.command("key-create")
def key_create(
    tenant_id: TenantId,
    label: Annotated[str | None, typer.Option(help="What the key is for, e.g. `production 2026`.")] = None,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Add an API key to a tenant and print it (shown only this once). Rotation: add a key,
    switch the host product to it, then revoke the old one with `key-revoke`."""
    created, resolved = run_for_tenant(
        lambda runtime, tenant: (runtime.tenants.add_key(tenant_id=tenant, label=label), tenant),
        tenant_id, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps({**created.key.to_dict(), "api_key": created.api_key}))
        return
    out.print(f"key [bold]{created.key.id}[/bold] added to {resolved}", highlight=False)
    out.print("API key (shown once — store it now):", highlight=False)
    print(created.api_key)


@app.command("keys")
def key_list(
    tenant_id: TenantId,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """List a tenant's API keys: id, label, created, last used, revoked (never the keys)."""
    keys = run_for_tenant(lambda runtime, tenant: runtime.tenants.list_keys(tenant), tenant_id,
                          database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps([k.to_dict() for k in keys]))
        return
    table = id_table("id", "label", "created", "last used", "revoked")
    for k in keys:
        table.add_row(k.id, k.label or "", local_time(k.created_at, seconds=True),
                      local_time(k.last_used_at, seconds=True, missing="never"),
                      local_time(k.revoked_at, seconds=True))
    out.print(table)


@app.command("key-revoke")
def key_revoke(
    tenant_id: TenantId,
    key_id: Annotated[str, typer.Argument(help="The key's id (from `mailport tenant keys`).")],
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Revoke an API key: every API process refuses it (401) from the next request on."""
    key = run_for_tenant(lambda runtime, tenant: runtime.tenants.revoke_key(tenant_id=tenant, key_id=key_id),
                         tenant_id, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps(key.to_dict()))
        return
    out.print(f"key {key.id} revoked", highlight=False)
