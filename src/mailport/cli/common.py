"""What every ``mailport`` command shares: consoles, common options, building the runtime."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table
from sqlalchemy.engine import make_url

from mailport.errors import MailportError, NotFound, ValidationError
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
TenantOpt = Annotated[str, typer.Option("--tenant", envvar="MAILPORT_TENANT",
                                        help="The tenant: its id (ten_…) or its name.")]
Lang = Annotated[str, typer.Option("--lang", envvar="MAILPORT_LANG",
                                   help="Language of explanations (en, nl, de, it, fr).")]


def build_runtime(*, database_url: str | None = None, data_dir: str | None = None, migrate: bool = True,
                  wait_for_database: bool = False, **extra: Any) -> Runtime:
    """The runtime from settings (+ the command's overrides), logging configured, schema current.

    ``wait_for_database``: the long-running processes (serve, worker) wait for a database that is
    restarting rather than exit; one-shot commands fail at once.
    """
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
    if migrate and wait_for_database:
        runtime.db.migrate_when_reachable()
    elif migrate:
        runtime.db.migrate()
    return runtime


def tenant_of(runtime: Runtime, value: str) -> str:
    """The tenant id ``--tenant`` means: an id that exists, or the one tenant with that name.
    Anything else is an error — never an empty answer for a tenant that is not there."""
    tenants = runtime.tenants.list_tenants()
    if any(t.id == value for t in tenants):
        return value
    named = [t for t in tenants if t.name == value] or [t for t in tenants if t.name.lower() == value.lower()]
    if len(named) == 1:
        return named[0].id
    if len(named) > 1:
        raise ValidationError(f"{len(named)} tenants are named {value!r}: pass the id (mailport tenant list)",
                              field="tenant")
    raise NotFound(f"no tenant {value!r} (mailport tenant list shows them)", code="tenant.not_found")


T = TypeVar("T")


def run(call: Callable[[Runtime], T], *, database_url: str | None, data_dir: str | None) -> T:
    """What a one-shot command does: build the runtime, ``call`` it; a :class:`MailportError`
    ends the command with its code and message (:func:`fail`)."""
    try:
        return call(build_runtime(database_url=database_url, data_dir=data_dir))
    except MailportError as exc:
        fail(exc)


def run_for_tenant(call: Callable[[Runtime, str], T], tenant: str, *, database_url: str | None,
                      data_dir: str | None) -> T:
    """:func:`run` for a command on one tenant's data: ``call(runtime, tenant_id)``, the tenant
    being ``--tenant`` (an id or a name, :func:`tenant_of`)."""
    return run(lambda runtime: call(runtime, tenant_of(runtime, tenant)),
               database_url=database_url, data_dir=data_dir)


def id_table(*headers: str) -> Table:
    """A table whose id columns are never cut ("acc_jyjwyfck…" cannot be copied): they keep their
    full width and the other columns wrap instead."""
    return Table(*(Column(h, no_wrap=True, min_width=24) if h == "id" else Column(h) for h in headers))


def fail(exc: MailportError) -> NoReturn:
    err.print(f"[red]error[/red] {escape(f'[{exc.code}] {exc.message}')}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


# The zone times are printed in: ``mailport --tz NAME``, else the machine's (``TZ``).
_zone: tzinfo | None = None


def set_time_zone(name: str | None) -> None:
    """Print times in the IANA zone ``name`` (``None``: the local zone, which ``TZ`` sets)."""
    global _zone
    if not name:
        _zone = None
        return
    try:
        _zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise typer.BadParameter(f"unknown time zone {name!r}; use an IANA name such as "
                                 "Europe/Amsterdam", param_hint="--tz") from exc


def local_time(value: datetime | str | None, *, seconds: bool = False, missing: str = "") -> str:
    """``value`` (a datetime or an ISO 8601 string; naive ones are UTC) in the chosen zone, with
    the zone's name — what the person at the terminal reads on their clock."""
    if value in (None, ""):
        return missing
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert moment is not None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    shown = moment.astimezone(_zone) if _zone is not None else moment.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
