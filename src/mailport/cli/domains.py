"""``mailport domain``: own sending domains — add, the records to publish, check and activate, list."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from mailport.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonOut,
    Lang,
    TenantOpt,
    id_table,
    local_time,
    out,
    run_for_tenant,
)
from mailport.errors import NotFound
from mailport.runtime import Runtime

if TYPE_CHECKING:
    from mailport.services.domains import DomainView

app = typer.Typer(no_args_is_help=True, help="Send from the tenant's own domain (DKIM, return path, DMARC).")

DomainArg = Annotated[str, typer.Argument(help="The domain's id (dom_…) or its name.")]
Fallback = Annotated[str, typer.Option(
    "--fallback", help="While the domain is not sendable: refuse (default) or platform (send from the platform "
                       "address, replies to the own address).")]

_MARK = {"pass": "[green]✔[/green]", "fail": "[red]✘[/red]", "unknown": "[yellow]?[/yellow]"}


def _domain_id(runtime: Runtime, tenant: str, value: str) -> str:
    if value.startswith("dom_"):
        return value
    view = runtime.domains.find(tenant, value)
    if view is None:
        raise NotFound(f"{value} is not one of this tenant's domains", code="domain.not_found")
    return view.id


def _print_records(data: dict[str, Any]) -> None:
    out.print(f"Publish these records for [bold]{escape(data['unicode_name'])}[/bold] "
              f"(state: {data['state']}):", highlight=False)
    for record in data["records"]:
        optional = "" if record["required"] else "  (informational, optional)"
        out.print(f"\n[bold]{record['kind']}[/bold]{optional}  {record['type']}  {escape(record['name'])}",
                  highlight=False)
        out.print(escape(record["value"]), highlight=False, soft_wrap=True)
        if record["type"] == "TXT" and len(record["strings"]) > 1:
            out.print(f"as {len(record['strings'])} strings (zone file):", highlight=False)
        out.print(escape(record["zone_line"]), highlight=False, soft_wrap=True)


@app.command("add")
def domain_add(
    name: Annotated[str, typer.Argument(help="The domain to send from, e.g. bakkerij-jansen.nl.")],
    tenant: TenantOpt,
    fallback: Fallback = "refuse",
    as_json: JsonOut = False, lang: Lang = "en", database_url: DatabaseUrl = None, data_dir: DataDir = None,
) -> None:
    """Add a domain: generates its DKIM key and prints the records to publish."""
    def add(runtime: Runtime, tenant_id: str) -> DomainView:
        if fallback not in ("refuse", "platform"):
            raise typer.BadParameter("--fallback must be refuse or platform")
        return asyncio.run(runtime.domains.add(tenant_id, name, fallback=fallback))  # type: ignore[arg-type]

    view = run_for_tenant(add, tenant, database_url=database_url, data_dir=data_dir)
    data = view.to_dict(lang)
    if as_json:
        print(json.dumps(data, indent=2))
        return
    out.print(f"domain added: {data['id']}", highlight=False)
    _print_records(data)
    out.print("\nThen run: mailport domain check " + escape(data["name"]), highlight=False)


@app.command("records")
def domain_records(domain: DomainArg, tenant: TenantOpt, as_json: JsonOut = False,
                   database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Print the DNS records to publish (exact names and values)."""
    data = run_for_tenant(lambda runtime, tenant_id: runtime.domains.get(
        tenant_id, _domain_id(runtime, tenant_id, domain)).to_dict(),
        tenant, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps(data["records"], indent=2))
        return
    _print_records(data)


@app.command("check")
def domain_check(domain: DomainArg, tenant: TenantOpt, as_json: JsonOut = False, lang: Lang = "en",
                 database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Check and activate: look the records up now. Exit 0 when every required record passes."""
    report = run_for_tenant(lambda runtime, tenant_id: asyncio.run(runtime.domains.check(
        tenant_id, _domain_id(runtime, tenant_id, domain))), tenant, database_url=database_url, data_dir=data_dir)
    data = report.to_dict(lang)
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        for verdict in data["verdicts"]:
            # Some titles say "(optional)" themselves; never twice.
            optional = "" if verdict["required"] or "(optional)" in verdict["title"] else " (optional)"
            out.print(f"{_MARK[verdict['status']]} {escape(verdict['title'])}{optional}", highlight=False)
            if verdict["status"] != "pass":
                out.print(f"   {escape(verdict['fix'])}", highlight=False, soft_wrap=True)
        out.print(f"state: {data['previous_state']} → [bold]{data['state']}[/bold] "
                  f"(asked: {data['source']})", highlight=False)
    raise typer.Exit(0 if data["outcome"] == "passed" else 1)


@app.command("list")
def domain_list(tenant: TenantOpt, as_json: JsonOut = False, database_url: DatabaseUrl = None,
                data_dir: DataDir = None) -> None:
    """List the tenant's domains and their states."""
    views = run_for_tenant(lambda runtime, tenant_id: [v.to_dict() for v in runtime.domains.list_domains(tenant_id)],
                           tenant, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps(views, indent=2))
        return
    table = id_table("id", "domain", "state", "sending", "fallback", "last checked")
    for v in views:
        table.add_row(v["id"], v["unicode_name"], v["state"], "yes" if v["sending"] else "no", v["fallback"],
                      local_time(v["last_checked_at"], missing="—"))
    out.print(table)
