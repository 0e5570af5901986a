from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

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
    default_method: Literal["account", "platform"] | None = Field(
        None, description="How a message that names neither `account` nor `method` is sent; "
                          "empty: the only mailbox, if there is one.")
    default_account: str | None = Field(None, description="The mailbox of `default_method` `account`.")
    time_zone: str | None = Field(None, description="IANA name; the pages' default (`POST /v1/ui-sessions`).")


class TenantSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"default_method": "account", "default_account": "acc_…", "time_zone": "Europe/Amsterdam"}]})
    default_method: Literal["account", "platform"] | None = None
    default_account: str | None = Field(None, max_length=32)
    time_zone: str | None = Field(None, max_length=64, examples=["Europe/Amsterdam"])


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


@router.patch("/tenant", response_model=TenantOut,
              summary="Change the tenant's default sending method (and mailbox) and its time zone")
def update_me(body: TenantSettingsIn, runtime: RuntimeDep, tenant_id: TenantDep) -> TenantOut:
    view = runtime.tenants.update_settings(tenant_id, body.model_dump(exclude_unset=True))
    return TenantOut(**view.to_dict())  # type: ignore[arg-type]
