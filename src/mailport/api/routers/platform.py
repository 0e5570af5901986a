"""``/v1/platform``: sending from the platform address — the tenant's sender name and alias, the
reply address (confirmed by a link mailed to it), and in development the captured mail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.problems import request_language

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
            summary="The link in the confirmation mail (no API key: the token is the proof)")
def confirm_reply_to(runtime: RuntimeDep,
                     token: Annotated[str, Query(min_length=10, max_length=200)]) -> dict[str, Any]:
    return runtime.platform.confirm_reply_to(token).to_dict()


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
