"""``mailport bounce-parse`` and ``mailport inbox``: read a bounce, sync an account's inbox."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mailport.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonOut,
    TenantOpt,
    err,
    local_time,
    out,
    run_for_tenant,
)
from mailport.core.bounces import parse_bounce

app = typer.Typer(no_args_is_help=True, help="Inbox sync of connected mailboxes.")

_MAX_BOUNCE_BYTES = 50 * 1024 * 1024

AccountArg = Annotated[str, typer.Argument(help="The account (acc_…).")]


def register(root: typer.Typer) -> None:
    root.command("bounce-parse")(bounce_parse)


def bounce_parse(
    file: Annotated[str, typer.Argument(help="A received message (RFC 5322 / .eml); '-' reads standard input.")],
    as_json: Annotated[bool, typer.Option("--json",
                                          help="Print {is_bounce, recipients, original_message_id}.")] = False,
) -> None:
    """Say whether a message is a bounce, and which recipients failed how (exit 0 either way)."""
    try:
        raw = sys.stdin.buffer.read(_MAX_BOUNCE_BYTES + 1) if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        err.print(f"[red]error[/red] cannot read {escape(file)}: {escape(exc.strerror or str(exc))}")
        raise typer.Exit(2) from exc
    if len(raw) > _MAX_BOUNCE_BYTES:
        err.print("[red]error[/red] the message is larger than 50 MB")
        raise typer.Exit(2)
    report = parse_bounce(raw)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return
    if not report.is_bounce:
        out.print(f"not a bounce ({report.kind.replace('_', ' ')})", highlight=False)
        return
    out.print(f"bounce of {escape(report.original_message_id or 'an unknown message')}", highlight=False)
    for r in report.recipients:
        kind = "[red]hard[/red]" if r.hard else "[yellow]soft[/yellow]"
        out.print(f"  {escape(r.recipient)}  {escape(r.status or '?')}  {kind}  {escape(r.reason)}", highlight=False)
        if r.diagnostic:
            out.print(f"    [dim]{escape(r.diagnostic)}[/dim]", highlight=False)


@app.command("sync")
def inbox_sync(
    account_id: AccountArg,
    tenant: TenantOpt,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Sync the account's INBOX and Sent folder once, now (the worker keeps them synced)."""
    report = run_for_tenant(lambda runtime, tenant_id: asyncio.run(runtime.inbox.sync_account(tenant_id, account_id)),
                            tenant, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps({"account_id": report.account_id, "folders": [
            {"folder": f.folder, "role": f.role, "reset": f.reset, "added": f.added, "revived": f.revived,
             "removed": f.removed, "flags_changed": f.flags_changed, "bounces": f.bounces}
            for f in report.folders]}))
        return
    for f in report.folders:
        out.print(f"{escape(f.folder)}: +{f.added} new, -{f.removed} removed, {f.flags_changed} flag changes,"
                  f" {f.bounces} bounces" + (" (full resync)" if f.reset else ""), highlight=False)


@app.command("status")
def inbox_status(
    account_id: AccountArg,
    tenant: TenantOpt,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Show the account's sync state: last sync and the last error with its diagnosis code."""
    state = run_for_tenant(lambda runtime, tenant_id: runtime.inbox.sync_state(tenant_id, account_id),
                           tenant, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps(state.to_dict()))
        return
    last = local_time(state.last_sync_at, seconds=True, missing="never")
    out.print(f"{escape(state.state)} (last sync: {last})", highlight=False)
    if state.error_code:
        out.print(f"[red]{escape(state.error_code)}[/red] {escape(state.error or '')}", highlight=False)
