"""``/v1/messages``: send a document, follow it, cancel it.

``POST`` takes JSON (attachments as base64) or ``multipart/form-data`` (a ``message`` part with
the same JSON minus the attachments, and one file part ``attachments`` per file — no base64
inflation for large PDFs). ``Idempotency-Key``: the same key with the same body returns the same
message (``Idempotent-Replayed: true``); with a different body it is a 409.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.core.message import Attachment, Mailbox, megabytes
from mailport.errors import ValidationError
from mailport.services.send import SendRequest

router = APIRouter(prefix="/v1/messages", tags=["messages"])

_JSON_OVERHEAD = 1024 * 1024  # headers, bodies and JSON syntax around the attachments


class MailboxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    name: str = Field("", max_length=300)


Address = Annotated[str | MailboxIn, Field(union_mode="left_to_right")]


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255, examples=["factuur-2026-0042.pdf"])
    content: str = Field(description="The file, base64-encoded.")
    content_type: str = Field("", max_length=255, description="Guessed from the name when empty.")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={"examples": [{
        "account": "acc_…", "to": [{"email": "debiteur@example.nl", "name": "Debiteur BV"}],
        "subject": "Factuur 2026-0042", "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.",
        "attachments": [{"filename": "factuur-2026-0042.pdf", "content": "JVBERi0xLjQK…"}],
        "metadata": {"invoice_id": "2026-0042"},
    }]})
    method: Literal["account", "platform", "domain"] | None = Field(
        None, description="`account`: a connected mailbox; `platform`: from the tenant's platform address "
                          "(Reply-To: its confirmed reply address); `domain`: `from` at one of the tenant's "
                          "own domains, DKIM-signed for it. Omitted: `account` when `account` or `from` is "
                          "given, else the tenant's default (`PATCH /v1/tenant`, or chosen on the settings "
                          "page), else its only mailbox.")
    account: str | None = Field(None, max_length=32, description="The sending account (default: the one of `from`).")
    from_: Address | None = Field(None, alias="from", description="Default: the account's address.")
    to: list[Address] = Field(default_factory=list, max_length=100,
                              description="Recipients: `\"a@b.nl\"` or `{\"email\", \"name\"}`; at least one of "
                                          "to, cc, bcc.")
    cc: list[Address] = Field(default_factory=list, max_length=100, description="Like `to`.")
    bcc: list[Address] = Field(default_factory=list, max_length=100,
                               description="Like `to`; not shown to the other recipients.")
    reply_to: list[Address] = Field(default_factory=list, max_length=10,
                                    description="Where replies go (not with `method` `platform`).")
    subject: str = Field("", max_length=2000)
    text: str | None = Field(None, description="The plain-text body.")
    html: str | None = Field(None, description="An HTML body (with `text`: both, as alternatives).")
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=100,
        description="`{filename, content (base64), content_type}`; or send them as multipart file parts. The "
                    "size limit (`MAILPORT_MAX_MESSAGE_BYTES`, 25 MB) counts the files and texts as they "
                    "are, not their base64.")
    headers: dict[str, str] = Field(default_factory=dict, description="X-* and a safe allow-list.")
    metadata: dict[str, str] = Field(default_factory=dict, description="Yours (e.g. the invoice id); echoed in events.")
    send_at: datetime | None = Field(None, description="Send later (RFC 3339 with time zone).")


class RecipientOut(BaseModel):
    address: str
    kind: str
    status: str
    smtp_code: int | None
    enhanced_code: str | None
    text: str | None
    diagnosis: str | None


class EventOut(BaseModel):
    id: str
    type: str
    created_at: str
    data: dict[str, Any]


class SentCopyOut(BaseModel):
    state: str
    folder: str | None
    uid: int | None
    attempts: int
    detail: str | None


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: str
    state: str
    account_id: str
    from_: str = Field(alias="from")
    subject: str
    message_id_header: str
    size: int
    attachment_count: int
    metadata: dict[str, Any]
    send_at: str | None
    next_attempt_at: str | None
    attempts: int
    reason: str | None
    created_at: str
    updated_at: str
    sent_at: str | None
    recipients: list[RecipientOut]
    events: list[EventOut] | None = None
    sent_copy: SentCopyOut | None = None


def _mailbox(value: str | MailboxIn, field: str) -> str | Mailbox:
    if isinstance(value, str):
        return value
    return Mailbox.parse(value.email, name=value.name, field=field)


def _decode(attachment: AttachmentIn, index: int) -> Attachment:
    try:
        content = base64.b64decode(attachment.content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(f"attachments[{index}].content is not valid base64",
                              field=f"attachments[{index}].content") from exc
    return Attachment(filename=attachment.filename, content=content, content_type=attachment.content_type)


def _request(body: MessageIn, attachments: list[Attachment]) -> SendRequest:
    sender = body.from_
    return SendRequest(
        method=body.method, account_id=body.account,
        from_email=sender if isinstance(sender, str) else (sender.email if sender else None),
        from_name=sender.name if isinstance(sender, MailboxIn) else None,
        to=[_mailbox(v, f"to[{i}]") for i, v in enumerate(body.to)],
        cc=[_mailbox(v, f"cc[{i}]") for i, v in enumerate(body.cc)],
        bcc=[_mailbox(v, f"bcc[{i}]") for i, v in enumerate(body.bcc)],
        reply_to=[_mailbox(v, f"reply_to[{i}]") for i, v in enumerate(body.reply_to)],
        subject=body.subject, text=body.text, html=body.html, attachments=attachments,
        headers=body.headers, metadata=body.metadata, send_at=body.send_at,
    )


def _too_large(size: int, limit: int) -> ValidationError:
    return ValidationError(
        f"the request is {megabytes(size)}; messages may be at most {megabytes(limit)} (attachments as files, "
        "before base64)",
        code="request.message_too_large", field="attachments", size=size, limit=limit,
    )


def _parse(raw: bytes | str) -> MessageIn:
    try:
        return MessageIn.model_validate_json(raw)
    except PydanticValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


async def _read(request: Request, limit: int) -> SendRequest:
    declared = request.headers.get("content-length")
    # base64 inflates by 4/3; anything beyond that cannot be a message within the limit.
    ceiling = limit * 4 // 3 + _JSON_OVERHEAD
    if declared and declared.isdigit() and int(declared) > ceiling:
        raise _too_large(int(declared), limit)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=100, max_fields=10, max_part_size=ceiling)
        try:
            part = form.get("message")
            if part is None:
                raise ValidationError("a multipart request needs a 'message' part with the JSON",
                                      field="message")
            text = await part.read() if isinstance(part, UploadFile) else part
            body = _parse(text)
            if body.attachments:
                raise ValidationError("send attachments as file parts, not inside the 'message' part",
                                      field="attachments")
            attachments: list[Attachment] = []
            total = 0
            for upload in form.getlist("attachments"):
                if not isinstance(upload, UploadFile):
                    raise ValidationError("'attachments' parts must be files", field="attachments")
                content = await upload.read()
                total += len(content)
                if total > limit:
                    raise _too_large(total, limit)
                attachments.append(Attachment(
                    filename=upload.filename or "attachment",
                    content=content,
                    content_type=(upload.content_type or "").split(";")[0].strip()
                    if upload.content_type not in (None, "application/octet-stream") else "",
                ))
            return _request(body, attachments)
        finally:
            await form.close()
    if content_type and not content_type.startswith("application/json"):
        raise ValidationError("send application/json or multipart/form-data",
                              code="request.unsupported_media_type", field="content-type")
    raw = await request.body()
    if len(raw) > ceiling:
        raise _too_large(len(raw), limit)
    body = _parse(raw)
    return _request(body, [_decode(a, i) for i, a in enumerate(body.attachments)])


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` inlined (the body is read by hand, so FastAPI
    does not put the model into the document's components)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline_schema(MessageIn)},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["message"],
                "properties": {
                    "message": {"type": "string", "description": "MessageIn as JSON, without attachments"},
                    "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
                },
            }},
        },
    }
}


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, response_model=MessageOut, response_model_by_alias=True,
    summary="Send a message (queued durably; 202 with its id)", openapi_extra=_REQUEST_BODY,
    responses={409: {"description": "Idempotency-Key reused with another body"},
               413: {"description": "Larger than the message size limit"}},
)
async def send_message(
    request: Request, response: Response, runtime: RuntimeDep, tenant_id: TenantDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    send = await _read(request, runtime.settings.max_message_bytes)
    submission = await runtime.outbox.submit_async(tenant_id, send, idempotency_key=idempotency_key)
    response.headers["Location"] = f"/v1/messages/{submission.message.id}"
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return submission.message.to_dict()


@router.get("", response_model=list[MessageOut], response_model_by_alias=True,
            summary="List messages, newest first")
def list_messages(
    runtime: RuntimeDep, tenant_id: TenantDep,
    status_: Annotated[list[str] | None, Query(alias="status", description="queued, sending, sent, deferred, failed, cancelled")] = None,
    account: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(max_length=32, description="A message id: the page after it.")] = None,
) -> list[dict[str, Any]]:
    states = [s for value in (status_ or []) for s in value.split(",") if s]
    return [m.to_dict() for m in runtime.outbox.list(tenant_id, states=states, account_id=account,
                                                      limit=limit, before=before)]


@router.get("/{message_id}", response_model=MessageOut, response_model_by_alias=True,
            summary="One message with its recipients and event history")
def get_message(message_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.outbox.get(tenant_id, message_id).to_dict()


@router.post("/{message_id}/cancel", response_model=MessageOut, response_model_by_alias=True,
             summary="Cancel a message that has not been sent yet")
async def cancel_message(message_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    view = await run_in_threadpool(runtime.outbox.cancel, tenant_id, message_id)
    return view.to_dict()


@router.post(
    "/{message_id}/retry", response_model=MessageOut, response_model_by_alias=True,
    summary="Send a failed or deferred message again now",
    description=(
        "For a message that failed (or waits for its next attempt) because of something the user has "
        "fixed since — a new password, a corrected server. Recipients that accepted it already are not "
        "sent to again. A new `message.queued` event follows. 409 `message.not_retryable` for any other state."
    ),
)
async def retry_message(message_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    view = await runtime.outbox.retry_async(tenant_id, message_id)
    return view.to_dict()
