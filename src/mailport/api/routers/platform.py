"""``/v1/platform``: sending from the platform address — the tenant's sender name and alias, the
reply address (confirmed by a link mailed to it), and in development the captured mail."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.problems import request_language
from mailport.errors import MailportError
from mailport.i18n import gettext

router = APIRouter(prefix="/v1/platform", tags=["platform"])


class SenderOut(BaseModel):
    alias: str
    address: str = Field(description="The From address of platform mail: `<alias>@<platform domain>`.")
    display_name: str
    reply_to: str | None = Field(description="The confirmed reply address (the Reply-To of platform mail).")
    reply_to_pending: str | None = Field(description="Waiting for its confirmation link to be opened.")


class SenderPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alias: str | None = Field(None, min_length=1, max_length=64)
    display_name: str | None = Field(None, max_length=200)


class ReplyToIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)


class CapturedOut(BaseModel):
    id: str
    mail_from: str
    rcpt_to: list[str]
    size: int
    created_at: datetime


@router.get("/sender", response_model=SenderOut, summary="How platform mail of this tenant is sent")
def get_sender(runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.platform.sender(tenant_id).to_dict()


@router.patch("/sender", response_model=SenderOut, summary="Set the alias and the From display name")
def update_sender(body: SenderPatch, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.platform.configure(tenant_id, alias=body.alias, display_name=body.display_name).to_dict()


@router.post("/reply-to", status_code=status.HTTP_202_ACCEPTED, response_model=SenderOut,
             summary="Set the reply address: a confirmation link is mailed to it")
async def request_reply_to(body: ReplyToIn, request: Request, runtime: RuntimeDep,
                           tenant_id: TenantDep) -> dict[str, Any]:
    view = await runtime.platform.request_reply_to(tenant_id, body.email, lang=request_language(request))
    return view.to_dict()


@router.get("/reply-to/confirm", response_class=HTMLResponse, include_in_schema=False)
def confirm_reply_to_page(request: Request, runtime: RuntimeDep,
                          token: Annotated[str, Query(min_length=10, max_length=200)]) -> HTMLResponse:
    """The link in the confirmation mail, for people: mail scanners open links, so opening it
    confirms nothing — the page shows what would be confirmed and its button POSTs."""
    lang = request_language(request)
    try:
        view = runtime.platform.pending_reply_to(token)
    except MailportError:
        return _page(lang, CONFIRM_FAILED_TITLE, CONFIRM_FAILED_TEXT, status.HTTP_400_BAD_REQUEST)
    return _page(lang, CONFIRM_ASK_TITLE, CONFIRM_ASK_TEXT, status.HTTP_200_OK, form_token=token,
                 name=view.display_name, address=view.reply_to_pending or "")


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200, description="The token of the confirmation link.")


# The body is read by hand (JSON from programs, a form from the confirmation page), so the
# document would otherwise show no body at all.
_CONFIRM_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ConfirmIn.model_json_schema()},
    "application/x-www-form-urlencoded": {"schema": ConfirmIn.model_json_schema()},
}}}


@router.post("/reply-to/confirm", response_model=SenderOut, openapi_extra=_CONFIRM_BODY,
             responses={200: {"content": {"text/html": {}}},
                        400: {"description": "A used or expired token (the form's page says so)",
                              "content": {"text/html": {}}}},
             summary="Confirm the reply address (no API key: the token is the proof)",
             description="The link in the confirmation mail (`GET …/confirm?token=`) opens a page that "
                         "changes nothing — mail scanners follow links; its button posts here (`token` form "
                         "field; answers a page). Programs post JSON `{\"token\": …}` (answers the sender).")
async def confirm_reply_to(request: Request, runtime: RuntimeDep) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        token = str((await request.form()).get("token") or "")
        lang = request_language(request)
        try:
            view = await run_in_threadpool(runtime.platform.confirm_reply_to, token)
        except MailportError:
            return _page(lang, CONFIRM_FAILED_TITLE, CONFIRM_FAILED_TEXT, status.HTTP_400_BAD_REQUEST)
        return _page(lang, CONFIRMED_TITLE, CONFIRMED_TEXT, status.HTTP_200_OK,
                     name=view.display_name, address=view.reply_to or "")
    try:
        body = ConfirmIn.model_validate_json(await request.body())
    except PydanticValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    view = await run_in_threadpool(runtime.platform.confirm_reply_to, body.token)
    return view.to_dict()


def _(msgid: str) -> str:  # marks texts for extraction (``mailport`` domain); translated per request
    return msgid


CONFIRM_ASK_TITLE = _("Confirm the reply address")
CONFIRM_ASK_TEXT = _("Replies to mail from {name} will go to {address}. Is that right?")
CONFIRM_BUTTON = _("Confirm")
PRODUCT = _("E-mail settings")
CONFIRMED_TITLE = _("Reply address confirmed")
CONFIRMED_TEXT = _("Replies to mail from {name} now go to {address}. You can close this page.")
CONFIRM_FAILED_TITLE = _("This confirmation link does not work")
CONFIRM_FAILED_TEXT = _(
    "It was used already or has expired. Ask for a new confirmation mail in the program you send your mail from."
)
_PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}


def _page(lang: str, title: str, text: str, status_code: int, *, form_token: str | None = None,
          **params: str) -> HTMLResponse:
    heading = html.escape(gettext(lang, title))
    body = html.escape(gettext(lang, text).format(**params))
    form = ""
    if form_token is not None:
        form = (f'<form method="post" action="/v1/platform/reply-to/confirm?lang={html.escape(lang)}">'
                f'<input type="hidden" name="token" value="{html.escape(form_token)}">'
                f'<button type="submit" class="button primary">{html.escape(gettext(lang, CONFIRM_BUTTON))}'
                "</button></form>")
    # The look of the other pages (their stylesheet, header and panel), without their session.
    product = html.escape(gettext(lang, PRODUCT))
    document = (f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
                f'<title>{heading} · {product}</title><link rel="stylesheet" href="/ui/static/mailport.css">'
                f'</head><body><header class="site-header"><div class="bar"><p class="product">{product}</p>'
                f'</div></header><main id="main"><section class="panel narrow"><h1>{heading}</h1>'
                f"<p>{body}</p>{form}</section></main></body></html>")
    return HTMLResponse(document, status_code=status_code, headers=_PAGE_HEADERS)


@router.get("/captured", response_model=list[CapturedOut],
            summary="Development (MAILPORT_PLATFORM_SMTP_URL=capture): mail that would have been sent")
def list_captured(runtime: RuntimeDep, tenant_id: TenantDep,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[dict[str, Any]]:
    return [c.to_dict() for c in runtime.platform.capture().list_captured(tenant_id, limit=limit)]


@router.get("/captured/{capture_id}", response_class=Response,
            responses={200: {"content": {"message/rfc822": {}}}},
            summary="One captured message, exactly as it would have left (signed)")
async def get_captured(capture_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    raw = await run_in_threadpool(runtime.platform.capture().raw, tenant_id, capture_id)
    return Response(raw, media_type="message/rfc822")
