"""``mailport send`` and ``mailport message …``: queue a document, follow it, cancel it.

``send`` commits the message to the outbox exactly like ``POST /v1/messages``; a running
``mailport serve`` (embedded worker) or ``mailport worker`` sends it. ``--wait`` instead runs a
worker in this process until the message is sent or failed — handy for scripts and cron jobs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError as PydanticValidationError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from mailport.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonOut,
    TenantOpt,
    err,
    fail,
    id_table,
    local_time,
    out,
    run_for_tenant,
)
from mailport.core.message import Attachment
from mailport.errors import MailportError, ValidationError
from mailport.runtime import Runtime
from mailport.services.send import MessageView, OutboxService, SendRequest
from mailport.services.send.message_json import batch_item

app = typer.Typer(no_args_is_help=True, help="Follow, cancel and send again queued messages.")

_SETTLED = {"sent", "failed", "cancelled", "bounced"}


def register(root: typer.Typer) -> None:
    root.command("send")(send)
    root.add_typer(app, name="message")


def _key_values(items: list[str], *, option: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"{option} takes key=value, not {item!r}", field=option)
        values[key.strip()] = value
    return values


def _read_text(path: Path | None, *, option: str) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {option} {path}: {exc}", field=option) from exc


def _attachments(paths: list[Path]) -> list[Attachment]:
    files = []
    for path in paths:
        try:
            files.append(Attachment(filename=path.name, content=path.read_bytes()))
        except OSError as exc:
            raise ValidationError(f"cannot read attachment {path}: {exc.strerror}", field="attach") from exc
    return files


def _print(view: MessageView, as_json: bool) -> None:
    data = view.to_dict()
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    table = Table(show_header=False)
    for key in ("id", "state", "reason", "from", "subject", "message_id_header", "attempts",
                "next_attempt_at", "sent_at"):
        if data.get(key) not in (None, ""):
            value = local_time(data[key], seconds=True) if key.endswith("_at") else str(data[key])
            table.add_row(key, escape(value))
    for r in data["recipients"]:
        detail = " ".join(str(x) for x in (r["smtp_code"], r["diagnosis"]) if x)
        table.add_row(r["kind"], escape(f"{r['address']}  {r['status']}  {detail}".rstrip()))
    for event in data.get("events") or []:
        table.add_row("event", escape(f"{local_time(event['created_at'], seconds=True)}  {event['type']}"))
    if data.get("sent_copy"):
        copy = data["sent_copy"]
        table.add_row("sent copy", escape(f"{copy['state']} {copy['folder'] or ''} {copy['detail'] or ''}".strip()))
    out.print(table)


async def _wait(runtime: Runtime, tenant: str, message_id: str, timeout: float) -> None:
    worker = runtime.make_worker()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not task.done():
            view = await asyncio.to_thread(runtime.outbox.get, tenant, message_id)
            if view.state in _SETTLED:
                return
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await task
        await runtime.outbox.pool.aclose()


def send(
    tenant: TenantOpt,
    to: Annotated[list[str] | None, typer.Option("--to", help="Recipient (repeatable).")] = None,
    subject: Annotated[str, typer.Option("--subject", help="Subject line.")] = "",
    text: Annotated[str | None, typer.Option("--text", help="Plain-text body.")] = None,
    text_file: Annotated[Path | None, typer.Option("--text-file", help="Plain-text body from a UTF-8 file.")] = None,
    html_file: Annotated[Path | None, typer.Option("--html-file", help="HTML body from a UTF-8 file.")] = None,
    attach: Annotated[list[Path] | None, typer.Option("--attach", help="A file to attach (repeatable).")] = None,
    account: Annotated[str | None, typer.Option("--account", envvar="MAILPORT_ACCOUNT",
                                                help="Sending account id (default: the account of --from).")] = None,
    from_email: Annotated[str | None, typer.Option("--from",
                                                   help="Sender address (the account's or a confirmed alias).")] = None,
    from_name: Annotated[str | None, typer.Option("--from-name", help="Sender display name.")] = None,
    cc: Annotated[list[str] | None, typer.Option("--cc", help="Cc recipient (repeatable).")] = None,
    bcc: Annotated[list[str] | None, typer.Option("--bcc", help="Bcc recipient (repeatable).")] = None,
    reply_to: Annotated[list[str] | None, typer.Option("--reply-to", help="Reply-To address (repeatable).")] = None,
    header: Annotated[list[str] | None, typer.Option("--header",
                                                     help="Custom header Name=value (X-* or allow-listed).")] = None,
    metadata: Annotated[list[str] | None, typer.Option("--metadata",
                                                       help="key=value echoed in events (repeatable).")] = None,
    send_at: Annotated[datetime | None, typer.Option("--send-at", help="Send later (ISO 8601 with time zone).",
                                                     formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"])] = None,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key", help="Resubmitting with this key never "
                                                                                  "sends twice.")] = None,
    batch: Annotated[Path | None, typer.Option(
        "--batch", help="Queue many messages: a JSON Lines file, one message per line in the shape of "
                        "POST /v1/messages (attachments base64) with its own idempotency_key.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Send from this process and wait for the outcome.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds --wait waits.")] = 120.0,
    ignore_suppression: Annotated[bool, typer.Option(
        "--ignore-suppression", help="Send even to addresses on the suppression list.")] = False,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Queue a message (with attachments) for sending from a connected mailbox — or, with
    --batch, every message of a JSON Lines file."""
    if batch is not None:
        if to or wait:
            fail(ValidationError("--batch takes the messages from the file; drop --to and --wait",
                                 field="batch"))
        _send_batch(tenant, batch, as_json=as_json, database_url=database_url, data_dir=data_dir)
        return
    if not to:
        fail(ValidationError("name at least one recipient with --to", field="to"))

    def submit(runtime: Runtime, tenant_id: str) -> MessageView:
        if text is not None and text_file is not None:
            raise ValidationError("give --text or --text-file, not both", field="text")
        request = SendRequest(
            account_id=account, from_email=from_email, from_name=from_name, to=to, cc=cc or [],
            bcc=bcc or [], reply_to=reply_to or [], subject=subject,
            text=text if text is not None else _read_text(text_file, option="--text-file"),
            html=_read_text(html_file, option="--html-file"), attachments=_attachments(attach or []),
            headers=_key_values(header or [], option="--header"),
            metadata=_key_values(metadata or [], option="--metadata"), send_at=send_at,
            ignore_suppression=ignore_suppression,
        )
        submission = runtime.outbox.submit(tenant_id, request, idempotency_key=idempotency_key)
        message_id = submission.message.id
        if wait:
            asyncio.run(_wait(runtime, tenant_id, message_id, timeout))
        return runtime.outbox.get(tenant_id, message_id)

    view = run_for_tenant(submit, tenant, database_url=database_url, data_dir=data_dir)
    _print(view, as_json)
    if wait and view.state not in ("sent",):
        raise typer.Exit(1)


_CHUNK = 100  # messages per transaction: the batch endpoint's sweet spot


def _batch_lines(path: Path) -> list[tuple[int, Any]]:
    try:
        with path.open(encoding="utf-8") as f:
            return [(n, line) for n, line in enumerate(f, start=1) if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read --batch {path}: {exc}", field="batch") from exc


def _batch_request(line: str, n: int) -> tuple[SendRequest, str | None]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"line {n}: not JSON ({exc.msg})", code="request.invalid_json",
                              field=f"line {n}") from exc
    if not isinstance(raw, dict):
        raise ValidationError(f"line {n}: a message is a JSON object", code="request.invalid", field=f"line {n}")
    try:
        return batch_item(raw, n)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ValidationError(f"line {n}: {where}: {first.get('msg')}", code="request.invalid",
                              field=where or f"line {n}") from exc


def _send_batch(tenant: str, path: Path, *, as_json: bool, database_url: str | None,
                data_dir: str | None) -> None:
    """Queue every line of ``path`` (chunks of 100, one transaction each), with a progress bar;
    bad lines are reported by number and the others still go out. Exit 1 if any line failed."""
    runtime, tenant, lines = run_for_tenant(lambda runtime, tenant_id: (runtime, tenant_id, _batch_lines(path)),
                                            tenant, database_url=database_url, data_dir=data_dir)
    results: list[dict[str, Any]] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err, disable=as_json) as progress:
        bar = progress.add_task("queueing", total=len(lines))
        for start in range(0, len(lines), _CHUNK):
            chunk = lines[start:start + _CHUNK]
            parsed: list[tuple[int, tuple[SendRequest, str | None]]] = []
            for n, line in chunk:
                try:
                    parsed.append((n, _batch_request(line, n)))
                except MailportError as exc:
                    results.append({"line": n, "status": "failed", "code": exc.code, "error": exc.message})
            try:
                outcomes = runtime.outbox.submit_many(tenant, [p for _, p in parsed])
            except MailportError as exc:
                fail(exc)
            for (n, _), outcome in zip(parsed, outcomes, strict=True):
                if isinstance(outcome, MailportError):
                    results.append({"line": n, "status": "failed", "code": outcome.code,
                                    "error": outcome.message})
                else:
                    results.append({"line": n, "status": "replayed" if outcome.replayed else "queued",
                                    "id": outcome.message.id})
            progress.advance(bar, len(chunk))
    results.sort(key=lambda r: r["line"])
    failed = [r for r in results if r["status"] == "failed"]
    if as_json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        queued = sum(r["status"] == "queued" for r in results)
        replayed = sum(r["status"] == "replayed" for r in results)
        out.print(f"{queued} queued, {replayed} already queued earlier (same idempotency key), "
                  f"{len(failed)} failed")
        if failed:
            table = Table("line", "code", "error")
            for r in failed:
                table.add_row(str(r["line"]), r["code"], escape(r["error"]))
            out.print(table)
    if failed:
        raise typer.Exit(1)


@app.command("list")
def message_list(
    tenant: TenantOpt,
    status: Annotated[list[str] | None, typer.Option("--status", help="Only these states (repeatable).")] = None,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: JsonOut = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """The tenant's messages, newest first."""
    views = run_for_tenant(lambda runtime, tenant_id: runtime.outbox.list_messages(
        tenant_id, states=status or [], account_id=account, limit=limit),
        tenant, database_url=database_url, data_dir=data_dir)
    if as_json:
        print(json.dumps([v.to_dict() for v in views], indent=2, ensure_ascii=False))
        return
    table = id_table("id", "state", "created", "to", "subject")
    for v in views:
        rows: list[Any] = [v.id, v.state, local_time(v.created_at),
                           ", ".join(r["address"] for r in v.recipients), v.subject]
        table.add_row(*(escape(str(x)) for x in rows))
    out.print(table)


MessageId = Annotated[str, typer.Argument(help="The message id (msg_…).")]


def _on_message(act: Callable[[OutboxService, str, str], MessageView], message_id: str, tenant: str, *,
                as_json: bool, database_url: str | None, data_dir: str | None) -> None:
    """``act(outbox, tenant_id, message_id)`` and print the message it returns."""
    view = run_for_tenant(lambda runtime, tenant_id: act(runtime.outbox, tenant_id, message_id), tenant,
                          database_url=database_url, data_dir=data_dir)
    _print(view, as_json)


@app.command("show")
def message_show(message_id: MessageId, tenant: TenantOpt, as_json: JsonOut = False,
                 database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """One message: recipients, diagnosis, event history, Sent copy."""
    _on_message(OutboxService.get, message_id, tenant, as_json=as_json, database_url=database_url,
                data_dir=data_dir)


@app.command("cancel")
def message_cancel(message_id: MessageId, tenant: TenantOpt, as_json: JsonOut = False,
                   database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Cancel a message that has not been sent yet."""
    _on_message(OutboxService.cancel, message_id, tenant, as_json=as_json, database_url=database_url,
                data_dir=data_dir)


@app.command("retry")
def message_retry(message_id: MessageId, tenant: TenantOpt, as_json: JsonOut = False,
                  database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Send a failed or deferred message again now (after fixing the password, the server…)."""
    _on_message(OutboxService.retry, message_id, tenant, as_json=as_json, database_url=database_url,
                data_dir=data_dir)
