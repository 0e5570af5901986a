from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.problems import request_language
from mailport.diagnosis_text import explain_code
from mailport.services.accounts import AccountInput

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, max_length=253, examples=["smtp.example.com"])
    port: int = Field(ge=1, le=65535, examples=[465])
    security: Literal["tls", "starttls", "none"] = Field(examples=["tls"])
    username: str | None = Field(None, max_length=320, description="Defaults to the email address.")
    pin_sha256: str | None = Field(
        None, max_length=100,
        description="SHA-256 fingerprint of a self-signed certificate the user explicitly trusts.",
    )


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str | None = Field(None, min_length=1, max_length=253)
    port: int | None = Field(None, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] | None = None
    username: str | None = Field(None, max_length=320)
    pin_sha256: str | None = Field(None, max_length=100)


class EndpointOut(BaseModel):
    host: str
    port: int
    security: str
    username: str | None
    pin_sha256: str | None = None


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "email": "info@bakkerij-jansen.nl", "display_name": "Bakkerij Jansen",
        "smtp": {"host": "smtp.example.nl", "port": 465, "security": "tls"},
        "imap": {"host": "imap.example.nl", "port": 993, "security": "tls"},
        "password": "app-password-here",
    }]})
    email: str = Field(max_length=320)
    display_name: str | None = Field(None, max_length=200)
    smtp: EndpointIn | None = Field(
        None, description="Omit to discover the settings from the address (then `imap` is discovered too)."
    )
    imap: EndpointIn | None = None
    password: str | None = Field(None, max_length=1024, description="Password or app password; never returned.")
    auth_kind: Literal["password", "oauth2"] = "password"
    provider_id: str | None = Field(None, max_length=64)
    daily_limit: int | None = Field(None, ge=1, le=1_000_000,
                                    description="The provider's daily sending cap for this mailbox.")


class AccountPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(None, max_length=200)
    smtp: EndpointPatch | None = None
    imap: EndpointPatch | None = None
    password: str | None = Field(None, max_length=1024)
    daily_limit: int | None = Field(None, ge=1, le=1_000_000)


class AliasOut(BaseModel):
    email: str
    verified: bool


class AttentionOut(BaseModel):
    code: str = Field(description="Diagnosis code; `POST /v1/diagnostics/explain` or the pages explain it.",
                      examples=["auth.invalid_credentials"])
    source: Literal["verification", "send", "sync", "oauth"]
    at: datetime
    server_text: str | None = None


class AccountOut(BaseModel):
    id: str
    email: str
    display_name: str | None
    provider_id: str | None
    auth_kind: str
    smtp: EndpointOut
    imap: EndpointOut | None
    aliases: list[AliasOut]
    daily_limit: int | None
    status: str = Field(description="Stored detail of `state` (`verified`, `sent_unconfirmed`, `failed`, "
                                    "`needs_reconnect`, `unverified`).")
    state: Literal["working", "needs_attention", "not_tested"] = Field(
        description="The one state of the mailbox, from the last verification, send or sync that reached "
                    "its server; the same on every page.")
    attention: AttentionOut | None = Field(None, description="Why it needs attention (only then).")
    has_password: bool
    last_verification: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)


class AliasConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    code: str = Field(min_length=1, max_length=20)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountOut, summary="Connect a mailbox")
async def create_account(body: AccountIn, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    spec = AccountInput(
        email=body.email, display_name=body.display_name, smtp=body.smtp.model_dump() if body.smtp else {},
        imap=body.imap.model_dump() if body.imap else None, password=body.password,
        auth_kind=body.auth_kind, provider_id=body.provider_id, daily_limit=body.daily_limit,
    )
    return (await runtime.verification.create(tenant_id, spec)).to_dict()


@router.get("", response_model=list[AccountOut], summary="List the tenant's mailboxes")
def list_accounts(runtime: RuntimeDep, tenant_id: TenantDep) -> list[dict[str, Any]]:
    return [a.to_dict() for a in runtime.accounts.list_accounts(tenant_id)]


@router.get("/{account_id}", response_model=AccountOut, summary="One mailbox")
def get_account(account_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.accounts.get(tenant_id, account_id).to_dict()


@router.patch("/{account_id}", response_model=AccountOut, summary="Change a mailbox's settings or password")
def update_account(account_id: str, body: AccountPatch, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for name in ("smtp", "imap"):
        if isinstance(changes.get(name), dict):
            changes[name] = {k: v for k, v in changes[name].items() if v is not None}
    return runtime.accounts.update(tenant_id, account_id, changes).to_dict()


@router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a mailbox and its secrets")
async def delete_account(account_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    # Through the OAuth service so a signed-in mailbox's grant is revoked at the provider too.
    await runtime.oauth.remove_account(tenant_id, account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{account_id}/verify",
    summary="Verify the mailbox with a round-trip test mail",
    description=(
        "Runs DNS → TCP → TLS → SMTP AUTH → IMAP LOGIN → a test mail to the account's own address, searched "
        "for in INBOX and Junk. Each stage reports ok/failed/skipped with its time and a stable diagnosis "
        "code; `diagnosis` explains the first failure in the caller's language (`?lang=` or Accept-Language)."
    ),
)
async def verify_account(account_id: str, request: Request, runtime: RuntimeDep,
                         tenant_id: TenantDep) -> dict[str, Any]:
    report = await runtime.verification.verify_account(tenant_id, account_id, lang=request_language(request))
    failed = next((s for s in report["stages"] if s["status"] == "failed"), None)
    explanation = None
    if failed and failed.get("code"):
        explanation = explain_code(failed["code"], request_language(request), server_text=failed.get("server_text"),
                                   email=report.get("email"))
    return {**report, "diagnosis": explanation.to_dict() if explanation else None}


@router.post("/{account_id}/aliases", status_code=status.HTTP_202_ACCEPTED, response_model=AccountOut,
             summary="Add a sender alias; a confirmation code is mailed to it")
async def add_alias(account_id: str, body: AliasIn, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    await runtime.verification.send_alias_code(tenant_id, account_id, body.email)
    view = await run_in_threadpool(runtime.accounts.get, tenant_id, account_id)
    return view.to_dict()


@router.post("/{account_id}/aliases/confirm", response_model=AccountOut, summary="Confirm an alias with its code")
def confirm_alias(account_id: str, body: AliasConfirm, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.accounts.confirm_alias(tenant_id, account_id, body.email, body.code).to_dict()


@router.delete("/{account_id}/aliases/{email}", response_model=AccountOut, summary="Remove an alias")
def remove_alias(account_id: str, email: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.accounts.remove_alias(tenant_id, account_id, email).to_dict()
