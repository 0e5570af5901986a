"""``/v1/messages``: send a document, follow it, cancel it.

``POST`` takes JSON (attachments as base64) or ``multipart/form-data`` (a ``message`` part with
the same JSON minus the attachments, and one file part ``attachments`` per file — no base64
inflation for large PDFs). ``Idempotency-Key``: the same key with the same body returns the same
message (``Idempotent-Replayed: true``); with a different body it is a 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile

from mailport.api.deps import LeanRoute, RuntimeDep, TenantDep
from mailport.api.fields import DateTimeText, Problem
from mailport.api.guard import max_body, message_body_limit
from mailport.api.problems import invalid_request, problem_of, request_language
from mailport.core.filenames import form_data_filename
from mailport.core.message import Attachment, megabytes
from mailport.errors import MailportError, ValidationError
from mailport.services.send import SendRequest
from mailport.services.send.message_json import (
    MessageIn,
    batch_item,
    decode_attachment,
    send_request,
)

# LeanRoute: the two accept POSTs (every request of a month-end run) are called without FastAPI's
# per-request dependency solving; the other routes are FastAPI's as usual.
router = APIRouter(prefix="/v1/messages", tags=["messages"], route_class=LeanRoute)

_JSON_OVERHEAD = 1024 * 1024  # headers, bodies and JSON syntax around the attachments


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
    created_at: DateTimeText
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
    send_at: DateTimeText | None
    next_attempt_at: DateTimeText | None
    attempts: int
    reason: str | None
    created_at: DateTimeText
    updated_at: DateTimeText
    sent_at: DateTimeText | None
    recipients: list[RecipientOut]
    events: list[EventOut] | None = None
    sent_copy: SentCopyOut | None = None


def _keys(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(field.alias or name for name, field in model.model_fields.items())


_MESSAGE_KEYS, _RECIPIENT_KEYS = _keys(MessageOut), _keys(RecipientOut)
_EVENT_KEYS, _COPY_KEYS = _keys(EventOut), _keys(SentCopyOut)


def message_out(data: Mapping[str, Any]) -> dict[str, Any]:
    """A service's message ``to_dict()`` shaped as :class:`MessageOut` says — its fields in the
    model's order, ``events``/``sent_copy`` null when absent — without pydantic validating it
    again. The accept routes answer with these bytes themselves (:func:`_json`): FastAPI's
    response-model pass cost as much as the rest of the answer, and for a batch of 100 more than
    a millisecond. ``tests/unit/test_api_fast_json.py`` holds the bytes to the model's."""
    out = {key: data.get(key) for key in _MESSAGE_KEYS}
    out["recipients"] = [{key: r.get(key) for key in _RECIPIENT_KEYS} for r in data.get("recipients") or []]
    if out["events"] is not None:
        out["events"] = [{key: e.get(key) for key in _EVENT_KEYS} for e in out["events"]]
    if out["sent_copy"] is not None:
        out["sent_copy"] = {key: out["sent_copy"].get(key) for key in _COPY_KEYS}
    return out


def _json(content: Any, *, status_code: int, headers: Mapping[str, str] | None = None) -> Response:
    """JSON as FastAPI writes a response model's (pydantic's serializer, compact, UTF-8)."""
    return Response(pydantic_core.to_json(content), status_code=status_code, media_type="application/json",
                    headers=headers)


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
            unknown = sorted(set(form.keys()) - {"message", "attachments"})
            if unknown:
                # A file in a part named otherwise ("attachment", "file") was dropped, and the
                # message sent without it.
                raise ValidationError(f"unknown part(s) {', '.join(map(repr, unknown))}: send the JSON as "
                                      "'message' and each file as a part named 'attachments'", field=unknown[0])
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
                    filename=_upload_name(upload),
                    content=content,
                    content_type=(upload.content_type or "").split(";")[0].strip()
                    if upload.content_type not in (None, "application/octet-stream") else "",
                ))
            return send_request(body, attachments)
        finally:
            await form.close()
    if content_type and not content_type.startswith("application/json"):
        raise ValidationError("send application/json or multipart/form-data",
                              code="request.unsupported_media_type", field="content-type")
    raw = await request.body()
    if len(raw) > ceiling:
        raise _too_large(len(raw), limit)
    body = _parse(raw)
    return send_request(body, [decode_attachment(a, i) for i, a in enumerate(body.attachments)])


def _upload_name(upload: UploadFile) -> str:
    """The file name the client sent, read from the part's own header: the multipart parser cuts
    a Windows path to its last part (where JSON refuses it) and leaves the HTML standard's
    ``%22`` for a quote (where JSON has the quote), so the same name would be two messages."""
    try:  # header values arrive as Latin-1; a form sends its names in UTF-8
        disposition = upload.headers.get("content-disposition", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        disposition = ""
    return form_data_filename(disposition) or upload.filename or "attachment"


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
@max_body(message_body_limit)
async def send_message(
    request: Request, runtime: RuntimeDep, tenant_id: TenantDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    send = await _read(request, runtime.settings.max_message_bytes)
    submission = await runtime.outbox.submit_async(tenant_id, send, idempotency_key=idempotency_key)
    headers = {"Location": f"/v1/messages/{submission.message.id}"}
    if submission.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _json(message_out(submission.message.to_dict()), status_code=status.HTTP_202_ACCEPTED, headers=headers)


BATCH_MAX = 500


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[Any] = Field(min_length=1, max_length=BATCH_MAX, description=(
        "Up to 500 messages, each as the body of `POST /v1/messages` (attachments base64) plus "
        "its own `idempotency_key`."))


class BatchResultOut(BaseModel):
    index: int
    status: int = Field(description="202 accepted, 200 replayed (same idempotency key and body), "
                                    "else the status the single call would have answered.")
    message: MessageOut | None = None
    error: Problem = Field(None, description="problem+json of this item, as the single call.")


class BatchOut(BaseModel):
    accepted: int
    replayed: int
    failed: int
    results: list[BatchResultOut]


@router.post(
    "/batch", response_model=BatchOut, response_model_by_alias=True,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _inline_schema(BatchIn)}}}},  # noqa: E501
    summary="Send up to 500 messages in one request (one result per item, in order)",
    description=(
        "Each item is validated and accepted exactly like `POST /v1/messages`; the valid ones are "
        "committed together before the answer. Items fail alone: a bad address in one invoice does "
        "not stop the others. The answer is 200 with one result per item in the order sent."),
    responses={413: {"description": "Larger than the message size limit"}},
)
@max_body(message_body_limit)  # a batch carries at most one maximal message's bytes in total
async def send_batch(request: Request, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    limit = runtime.settings.max_message_bytes
    ceiling = limit * 4 // 3 + _JSON_OVERHEAD
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > ceiling:
        raise _too_large(int(declared), limit)
    content_type = request.headers.get("content-type", "").lower()
    if content_type and not content_type.startswith("application/json"):
        raise ValidationError("send the batch as application/json",
                              code="request.unsupported_media_type", field="content-type")
    raw = await request.body()
    if len(raw) > ceiling:
        raise _too_large(len(raw), limit)
    try:
        batch = BatchIn.model_validate_json(raw)
    except PydanticValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    language = request_language(request)
    parsed: list[tuple[int, tuple[SendRequest, str | None]]] = []
    results: list[dict[str, Any] | None] = [None] * len(batch.messages)
    for i, item in enumerate(batch.messages):
        try:
            if not isinstance(item, dict):
                raise RequestValidationError([{"loc": ("body", "messages", i), "msg": "must be an object",
                                               "type": "dict_type"}])
            try:
                parsed.append((i, batch_item(item, i)))
            except PydanticValidationError as exc:
                raise RequestValidationError(exc.errors(include_url=False)) from exc
        except RequestValidationError as exc:
            status_code, problem_body = invalid_request(exc, language)
            results[i] = {"index": i, "status": status_code, "message": None, "error": problem_body}
        except MailportError as exc:
            status_code, problem_body = problem_of(exc, language)
            results[i] = {"index": i, "status": status_code, "message": None, "error": problem_body}
    outcomes = await runtime.outbox.submit_many_async(tenant_id, [p for _, p in parsed])
    for (i, _), outcome in zip(parsed, outcomes, strict=True):
        if isinstance(outcome, MailportError):
            status_code, problem_body = problem_of(outcome, language)
            results[i] = {"index": i, "status": status_code, "message": None, "error": problem_body}
        else:
            results[i] = {"index": i, "status": 200 if outcome.replayed else 202,
                          "message": message_out(outcome.message.to_dict()), "error": None}
    done = [r for r in results if r is not None]
    return _json({"accepted": sum(r["status"] == 202 for r in done),
                  "replayed": sum(r["status"] == 200 for r in done),
                  "failed": sum(r["status"] >= 300 for r in done), "results": done}, status_code=200)


@router.get("", response_model=list[MessageOut], response_model_by_alias=True,
            summary="List messages, newest first")
def list_messages(
    runtime: RuntimeDep, tenant_id: TenantDep,
    status_: Annotated[list[str] | None, Query(alias="status", description="queued, sending, sent, deferred, failed, "
                                                                           "cancelled")] = None,
    account: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(max_length=32, description="A message id: the page after it.")] = None,
) -> list[dict[str, Any]]:
    states = [s for value in (status_ or []) for s in value.split(",") if s]
    return [m.to_dict() for m in runtime.outbox.list_messages(tenant_id, states=states, account_id=account,
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
