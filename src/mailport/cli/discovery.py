"""``mailport discover``: server settings from an email address alone."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from mailport.cli.common import Lang, build_runtime, fail, out
from mailport.errors import MailportError
from mailport.i18n import negotiate, translations


def register(app: typer.Typer) -> None:
    app.command()(discover)


def discover(
    email: Annotated[str, typer.Argument(help="The email address to find settings for.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON result.")] = False,
    no_probe: Annotated[bool, typer.Option("--no-probe", envvar="MAILPORT_NO_PROBE",
                                           help="Do not probe host names and ports (lookups only).")] = False,
    lang: Lang = "en",
) -> None:
    """Find IMAP/SMTP settings for EMAIL; exit status 0 when found, 1 when not."""
    try:
        runtime = build_runtime(migrate=False)
        result = asyncio.run(runtime.discovery.discover(email, probe=not no_probe))
    except MailportError as exc:
        fail(exc)
    data: dict[str, Any] = result.to_dict()
    say = translations(negotiate(None, lang)).gettext
    data["hints"] = [{**hint.to_dict(), "text": hint.translated(say)} for hint in result.hints]
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        provider = data["provider"]["name"] if data["provider"] else "unknown provider"
        out.print(f"{escape(data['email'])}: {escape(provider)} (source: {data['source'] or '—'})", highlight=False)
        table = Table("", "host", "port", "security", "username")
        for kind in ("imap", "smtp"):
            s = data[kind]
            table.add_row(kind, *((s["host"], str(s["port"]), s["security"], s["username"]) if s else ("—",) * 4))
        out.print(table)
        if data["auth"]:
            out.print("sign-in: " + ", ".join(data["auth"]), highlight=False)
        for hint in data["hints"]:
            out.print(f"• {escape(hint['text'])}", highlight=False)
        out.print("tried: " + ", ".join(f"{t['source']} {t['outcome']} ({t['ms']} ms)" for t in data["trace"]),
                  highlight=False, style="dim")
    raise typer.Exit(0 if result.found else 1)
