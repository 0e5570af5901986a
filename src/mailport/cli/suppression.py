"""``mailport suppression``: the tenant's suppression list — list, add, remove."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from mailport.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonOut,
    Lang,
    TenantOpt,
    local_time,
    out,
    run_for_tenant,
)
from mailport.diagnosis_text import explain_code
from mailport.i18n import negotiate

app = typer.Typer(no_args_is_help=True,
                  help="Addresses mail is not sent to (hard bounces, repeated soft bounces, added by hand).")

Address = Annotated[str, typer.Argument(help="The email address.")]


@app.command("list")
def suppression_list(
    tenant: TenantOpt,
    as_json: JsonOut = False,
    lang: Lang = "en",
    limit: Annotated[int, typer.Option(help="At most this many (1–500).")] = 100,
    after: Annotated[str | None, typer.Option(help="Addresses after this one (the next page).")] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Show the suppressed addresses, why, since when, and the message that bounced."""
    views = run_for_tenant(lambda runtime, tenant_id: runtime.suppression.list_suppressions(
        tenant_id, limit=limit, after=after), tenant, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps([v.to_dict() for v in views], ensure_ascii=False))
        return
    language = negotiate(None, lang)
    if not views:
        out.print("the suppression list is empty", highlight=False)
    for v in views:
        explanation = explain_code(v.diagnosis, language) if v.diagnosis else None
        out.print(f"{escape(v.address)}  {v.reason.replace('_', ' ')}  {v.status or '—'}  "
                  f"{local_time(v.created_at)}  {v.message_id or '—'}", highlight=False, soft_wrap=True)
        if explanation is not None:
            out.print(f"    {escape(explanation.title)}", highlight=False, soft_wrap=True)


@app.command("add")
def suppression_add(address: Address, tenant: TenantOpt, database_url: DatabaseUrl = None,
                    data_dir: DataDir = None) -> None:
    """Stop mailing ADDRESS (a send to it is refused until it is removed)."""
    view = run_for_tenant(lambda runtime, tenant_id: runtime.suppression.add(tenant_id, address), tenant,
                          database_url=database_url, data_dir=data_dir)
    out.print(f"{escape(view.address)} is on the suppression list", highlight=False)


@app.command("remove")
def suppression_remove(address: Address, tenant: TenantOpt, database_url: DatabaseUrl = None,
                       data_dir: DataDir = None) -> None:
    """Take ADDRESS off the list (the customer fixed it): mail to it is accepted again."""
    run_for_tenant(lambda runtime, tenant_id: runtime.suppression.remove(tenant_id, address), tenant,
                   database_url=database_url, data_dir=data_dir)
    out.print(f"{escape(address)} removed from the suppression list", highlight=False)
