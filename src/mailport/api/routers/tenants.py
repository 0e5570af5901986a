from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from mailport.api.deps import AdminDep, RuntimeDep, TenantDep

router = APIRouter(prefix="/v1", tags=["tenants"])


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Acme Bookkeeping BV"])
    display_name: str | None = Field(None, max_length=200, description="Name shown to mail recipients.")


class TenantOut(BaseModel):
    id: str
    name: str
    display_name: str | None
    created_at: datetime


class TenantCreated(TenantOut):
    api_key: str = Field(description="The tenant's API key. Shown once; store it now.")


@router.post("/tenants", status_code=status.HTTP_201_CREATED, response_model=TenantCreated,
             summary="Create a tenant (operator key)")
def create_tenant(body: TenantIn, runtime: RuntimeDep, _: AdminDep) -> TenantCreated:
    created = runtime.tenants.create(name=body.name, display_name=body.display_name)
    return TenantCreated(**created.tenant.to_dict(), api_key=created.api_key)  # type: ignore[arg-type]


@router.get("/tenants", response_model=list[TenantOut], summary="List tenants (operator key)")
def list_tenants(runtime: RuntimeDep, _: AdminDep) -> list[TenantOut]:
    return [TenantOut(**t.to_dict()) for t in runtime.tenants.list()]  # type: ignore[arg-type]


@router.get("/tenant", response_model=TenantOut, summary="The tenant the API key belongs to")
def me(runtime: RuntimeDep, tenant_id: TenantDep) -> TenantOut:
    return TenantOut(**runtime.tenants.get(tenant_id).to_dict())  # type: ignore[arg-type]
