"""What every ``mailport`` command shares: consoles, common options, building the runtime."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url

from mailport.errors import MailportError
from mailport.logs import configure_logging
from mailport.runtime import Runtime
from mailport.settings import DEFAULT_DATA_DIR

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
Lang = Annotated[str, typer.Option("--lang", envvar="MAILPORT_LANG",
                                   help="Language of explanations (en, nl, de, it, fr).")]


def build_runtime(*, database_url: str | None = None, data_dir: str | None = None, migrate: bool = True,
                  **extra: Any) -> Runtime:
    """The runtime from settings (+ the command's overrides), logging configured, schema current."""
    overrides: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if database_url:
        overrides["database_url"] = database_url
    if data_dir:
        overrides["data_dir"] = data_dir
    runtime = Runtime.from_env(**overrides)
    s = runtime.settings
    json_logs = s.log_format == "json" or (s.log_format == "auto" and s.is_production)
    configure_logging(level=s.log_level, json_lines=json_logs)
    if s.data_dir.resolve() != DEFAULT_DATA_DIR.resolve() or s.database_url:
        # Say which database this is whenever it is not the installation's own.
        shown = make_url(s.effective_database_url).render_as_string(hide_password=True)
        err.print(f"database: {escape(shown)}", highlight=False, soft_wrap=True)
    if migrate:
        runtime.db.migrate()
    return runtime


def fail(exc: MailportError) -> NoReturn:
    err.print(f"[red]error[/red] {escape(f'[{exc.code}] {exc.message}')}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)
