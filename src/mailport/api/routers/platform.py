"""``/v1/platform``: sending from the platform address — the tenant's sender name and alias, the
reply address (confirmed by a link mailed to it), and in development the captured mail."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

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


@router.get("/reply-to/confirm", response_model=SenderOut,
            responses={200: {"content": {"text/html": {}}}},
            summary="The link in the confirmation mail (no API key: the token is the proof)",
            description="JSON for programs; a small page in the reader's language for a browser "
                        "(`Accept: text/html`), since people open this link from their mail.")
def confirm_reply_to(request: Request, runtime: RuntimeDep,
                     token: Annotated[str, Query(min_length=10, max_length=200)]) -> Any:
    if not _wants_html(request):
        return runtime.platform.confirm_reply_to(token).to_dict()
    lang = request_language(request)
    try:
        view = runtime.platform.confirm_reply_to(token)
    except MailportError:
        return _page(lang, CONFIRM_FAILED_TITLE, CONFIRM_FAILED_TEXT, status.HTTP_400_BAD_REQUEST)
    return _page(lang, CONFIRMED_TITLE, CONFIRMED_TEXT, status.HTTP_200_OK,
                 name=view.display_name, address=view.reply_to or "")


def _(msgid: str) -> str:  # marks texts for extraction (``mailport`` domain); translated per request
    return msgid


CONFIRMED_TITLE = _("Reply address confirmed")
CONFIRMED_TEXT = _("Replies to mail from {name} now go to {address}. You can close this page.")
CONFIRM_FAILED_TITLE = _("This confirmation link does not work")
CONFIRM_FAILED_TEXT = _(
    "It was used already or has expired. Ask for a new confirmation mail in the program you send your mail from."
)
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _page(lang: str, title: str, text: str, status_code: int, **params: str) -> HTMLResponse:
    heading = html.escape(gettext(lang, title))
    body = html.escape(gettext(lang, text).format(**params))
    document = (f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{heading}</title>'
                f"</head><body><h1>{heading}</h1><p>{body}</p></body></html>")
    return HTMLResponse(document, status_code=status_code, headers=_PAGE_HEADERS)


@router.get("/captured", response_model=list[CapturedOut],
            summary="Development (MAILPORT_PLATFORM_SMTP_URL=capture): mail that would have been sent")
def list_captured(runtime: RuntimeDep, tenant_id: TenantDep,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[dict[str, Any]]:
    return [c.to_dict() for c in runtime.platform.capture().list(tenant_id, limit=limit)]


@router.get("/captured/{capture_id}", response_class=Response,
            responses={200: {"content": {"message/rfc822": {}}}},
            summary="One captured message, exactly as it would have left (signed)")
async def get_captured(capture_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    raw = await run_in_threadpool(runtime.platform.capture().raw, tenant_id, capture_id)
    return Response(raw, media_type="message/rfc822")
