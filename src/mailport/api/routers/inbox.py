"""``/v1/inbox``: synced mail (headers, flags, snippet, thread, links), bodies and attachments on
demand, and each account's sync state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.fields import DateTimeText
from mailport.core.filenames import content_disposition
from mailport.errors import ValidationError

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])



class AddressOut(BaseModel):
    name: str | None = None
    email: str | None = None


class BounceRecipientOut(BaseModel):
    recipient: str
    status: str | None
    hard: bool
    reason: str


class BounceOut(BaseModel):
    is_bounce: bool
    recipients: list[BounceRecipientOut]
    original_message_id: str | None


class AttachmentOut(BaseModel):
    filename: str | None
    content_type: str
    size: int = Field(description="Encoded size in bytes, as the server reports it.")


class InboxMessageOut(BaseModel):
    id: str
    account_id: str
    folder: str
    direction: str = Field(description="`in` (INBOX) or `out` (the Sent folder).")
    message_id_header: str | None
    in_reply_to: str | None
    references: list[str]
    thread_id: str
    subject: str
    from_: AddressOut = Field(alias="from")
    to: list[AddressOut]
    cc: list[AddressOut]
    date: DateTimeText | None
    received_at: DateTimeText | None
    flags: list[str]
    seen: bool
    size: int
    snippet: str
    sent_message_id: str | None = Field(description="The mailport message this one answers or bounces.")
    bounce: BounceOut | None
    contacts: list[str] = Field(description="Your contact ids among the participants.")
    attachments: list[AttachmentOut] = Field(
        default_factory=list, description="Attachments as the server described them at sync time; "
        "the bytes: `/v1/inbox/messages/{id}/attachments/{n}` (fetched on demand).")
    has_attachments: bool = False


class SyncStateOut(BaseModel):
    account_id: str
    enabled: bool
    state: str = Field(description="pending, syncing, idle, error, disabled, no_imap")
    last_sync_at: DateTimeText | None
    error: dict[str, str | None] | None = Field(description="`code` (a diagnosis code) and `message`.")


def parse_before(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("before must be an ISO 8601 time with a zone", field="before") from exc
    if moment.tzinfo is None:
        raise ValidationError("before must carry a time zone", field="before")
    return moment


@router.get("/messages", response_model=list[InboxMessageOut], response_model_by_alias=True,
            summary="Synced messages, newest first")
def list_messages(
    runtime: RuntimeDep, tenant_id: TenantDep,
    account: Annotated[str | None, Query(max_length=32)] = None,
    contact: Annotated[str | None, Query(max_length=200, description="Your contact id: its mail both ways.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in subject, snippet or sender.")] = None,
    before: Annotated[str | None, Query(max_length=40, description="ISO time: only older messages (paging).")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    views = runtime.inbox.list_messages(tenant_id, account_id=account, contact_id=contact, q=q or None,
                                        before=parse_before(before), limit=limit)
    return [v.to_dict() for v in views]


@router.get("/messages/{message_id}", response_model=InboxMessageOut, response_model_by_alias=True,
            summary="One synced message")
def get_message(message_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.inbox.get_message(tenant_id, message_id).to_dict()


@router.get("/messages/{message_id}/raw", response_class=Response, summary="The message as RFC 5322 bytes",
            responses={200: {"content": {"message/rfc822": {}}}})
async def get_raw(message_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    raw = await runtime.inbox.raw(tenant_id, message_id)
    return Response(raw, media_type="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="{message_id}.eml"'})


@router.get("/messages/{message_id}/attachments/{n}", response_class=Response,
            summary="Attachment number n (0-based, in MIME order)")
async def get_attachment(message_id: str, n: Annotated[int, Path(ge=0, le=1000)], runtime: RuntimeDep,
                         tenant_id: TenantDep) -> Response:
    part = await runtime.inbox.attachment(tenant_id, message_id, n)
    # Served as a download, never rendered: an attached HTML file must not run in our origin (and
    # if a browser rendered it anyway, the sandbox gives it no origin and no script).
    return Response(part.data, media_type=part.content_type,
                    headers={"Content-Disposition": content_disposition(part.filename, fallback=f"attachment-{n}"),
                             "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


@router.get("/accounts/{account_id}/sync", response_model=SyncStateOut,
            summary="The account's sync state (last sync, error with diagnosis)")
def sync_state(account_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.inbox.sync_state(tenant_id, account_id).to_dict()


@router.post("/accounts/{account_id}/sync", response_model=SyncStateOut, summary="Sync the account now")
async def sync_now(account_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    await run_in_threadpool(runtime.accounts.get, tenant_id, account_id)
    await runtime.inbox.sync_account(tenant_id, account_id)
    return runtime.inbox.sync_state(tenant_id, account_id).to_dict()
