"""The ``mailport`` command.

Thin on purpose: every command builds the runtime from settings, calls one service, prints.
Each option names the ``MAILPORT_*`` variable it overrides, shown in ``--help``. One module per
group of commands; this one assembles them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mailport import __version__
from mailport.cli import (
    accounts,
    diagnostics,
    discovery,
    domains,
    inbox,
    messages,
    processes,
    suppression,
    tenants,
)
from mailport.cli.common import out, set_time_zone

app = typer.Typer(no_args_is_help=True, add_completion=False, help="mailport — email for business software.")
processes.register(app)
discovery.register(app)
diagnostics.register(app)
messages.register(app)
app.add_typer(tenants.app, name="tenant")
app.add_typer(accounts.app, name="account")
app.add_typer(accounts.secrets_app, name="secrets")
app.add_typer(domains.app, name="domain")
inbox.register(app)
app.add_typer(inbox.app, name="inbox")
app.add_typer(suppression.app, name="suppression")


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
    tz: Annotated[str | None, typer.Option(
        "--tz", envvar="MAILPORT_TZ",
        help="Print times in this IANA time zone (e.g. Europe/Amsterdam); default: the local zone (TZ).")] = None,
) -> None:
    set_time_zone(tz)
    if version:
        out.print(__version__)
        raise typer.Exit()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
