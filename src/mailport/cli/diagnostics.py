"""``mailport explain``: what a server's reply means and what to do about it."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from mailport.cli.common import Lang, out
from mailport.diagnosis_text import explain_text
from mailport.i18n import negotiate


def register(app: typer.Typer) -> None:
    app.command()(explain)


def explain(
    text: Annotated[list[str] | None, typer.Argument(help="The server's reply (may span lines); '-' or nothing reads "
                                                          "standard input.")] = None,
    email: Annotated[str | None, typer.Option("--email", "--address",
                                              help="The account's address: its provider's documented meaning of "
                                                   "the reply first, and provider-specific steps.")] = None,
    host: Annotated[str | None, typer.Option("--host", help="The account's mail server (e.g. smtp.office365.com), "
                                                            "when the address does not name the provider.")] = None,
    lang: Lang = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (code, title, steps, provider, retryable, "
                                                         "server_text).")] = False,
) -> None:
    """Explain a mail server's error message in the user's language, with the steps that fix it."""
    words = text or ["-"]
    reply = sys.stdin.read() if words == ["-"] else " ".join(words)
    if not reply.strip():
        out.print("nothing to explain: give the server's reply as an argument or on standard input")
        raise typer.Exit(2)
    explanation = explain_text(reply, lang=negotiate(None, lang), email=email, host=host)
    if as_json:
        print(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{escape(explanation.title)}[/bold]  [dim]({escape(explanation.code)})[/dim]")
    for n, step in enumerate(explanation.steps, 1):
        out.print(f"  {n}. {escape(step)}", highlight=False)
    if explanation.server_text:
        out.print(f"[dim]{escape(explanation.server_text)}[/dim]", highlight=False)
