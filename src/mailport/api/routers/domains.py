"""``/v1/domains``: own sending domains — add (key + the three records), check and activate, list.

Texts of the per-record verdicts follow ``?lang=`` / ``Accept-Language``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.fields import DateTimeText
from mailport.api.problems import request_language

router = APIRouter(prefix="/v1/domains", tags=["domains"])


class DomainIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "bakkerij-jansen.nl"}]})
    name: str = Field(min_length=1, max_length=253, description="The domain to send from (Unicode or punycode).")
    fallback: Literal["refuse", "platform"] = Field(
        "refuse", description="While the domain is not sendable: refuse its mail, or send it from the platform "
                              "address with the own address as Reply-To.")


class DomainPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fallback: Literal["refuse", "platform"]


class RecordOut(BaseModel):
    kind: Literal["dkim", "return_path", "dmarc", "spf"]
    type: Literal["TXT", "CNAME"]
    name: str
    value: str
    strings: list[str] = Field(description="The TXT value cut into ≤255-character strings, as DNS stores it.")
    zone_line: str
    required: bool


class VerdictOut(BaseModel):
    kind: str
    name: str
    status: Literal["pass", "fail", "unknown"]
    code: str
    required: bool
    found: list[str]
    params: dict[str, str]
    title: str
    fix: str


class LastCheckOut(BaseModel):
    at: DateTimeText
    outcome: Literal["passed", "failed", "inconclusive"]
    source: str
    verdicts: list[VerdictOut]


class DomainOut(BaseModel):
    id: str
    name: str
    unicode_name: str
    selector: str
    state: Literal["pending", "active", "degraded", "suspended"]
    fallback: Literal["refuse", "platform"]
    sending: bool = Field(description="Whether mail from this domain is signed and sent now.")
    state_since: datetime
    degraded_since: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    records: list[RecordOut]
    last_check: LastCheckOut | None
    created_at: datetime


class CheckOut(BaseModel):
    domain: DomainOut
    outcome: Literal["passed", "failed", "inconclusive"]
    previous_state: str
    state: str
    source: Literal["authoritative", "resolver"]
    verdicts: list[VerdictOut]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DomainOut,
             summary="Add an own domain: returns its DKIM key's record and the other records to publish")
async def add_domain(body: DomainIn, request: Request, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    view = await runtime.domains.add(tenant_id, body.name, fallback=body.fallback)
    return view.to_dict(request_language(request))


@router.get("", response_model=list[DomainOut], summary="The tenant's own domains")
def list_domains(request: Request, runtime: RuntimeDep, tenant_id: TenantDep) -> list[dict[str, Any]]:
    lang = request_language(request)
    return [v.to_dict(lang) for v in runtime.domains.list_domains(tenant_id)]


@router.get("/{domain_id}", response_model=DomainOut, summary="One domain, with its last check")
def get_domain(domain_id: str, request: Request, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.domains.get(tenant_id, domain_id).to_dict(request_language(request))


@router.get("/{domain_id}/records", response_model=list[RecordOut], summary="The DNS records to publish")
def domain_records(domain_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> list[dict[str, Any]]:
    return [r.to_dict() for r in runtime.domains.get(tenant_id, domain_id).records]


@router.post("/{domain_id}/check", response_model=CheckOut,
             summary="Check and activate: look the records up now (rate-limited; 429 with Retry-After)")
async def check_domain(domain_id: str, request: Request, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    report = await runtime.domains.check(tenant_id, domain_id)
    return report.to_dict(request_language(request))


@router.patch("/{domain_id}", response_model=DomainOut, summary="Choose what happens while the domain is not sendable")
def update_domain(domain_id: str, body: DomainPatch, request: Request, runtime: RuntimeDep,
                  tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.domains.set_fallback(tenant_id, domain_id, body.fallback).to_dict(request_language(request))


@router.delete("/{domain_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a domain and its key")
async def delete_domain(domain_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    await run_in_threadpool(runtime.domains.remove, tenant_id, domain_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
