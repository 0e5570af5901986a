from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, status
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
    default_method: Literal["account", "platform", "domain"] | None = Field(
        None, description="How a message that names neither `account` nor `method` is sent; "
                          "empty: the only mailbox, if there is one.")
    default_account: str | None = Field(None, description="The mailbox of `default_method` `account`.")
    default_from: str | None = Field(None, description="The From address of `default_method` `domain`, at one "
                                                       "of the tenant's own domains.")
    time_zone: str | None = Field(None, description="IANA name; the pages' default (`POST /v1/ui-sessions`).")


class TenantSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"default_method": "account", "default_account": "acc_…", "time_zone": "Europe/Amsterdam"},
        {"default_method": "domain", "default_from": "invoices@bakkerij-jansen.nl"}]})
    default_method: Literal["account", "platform", "domain"] | None = None
    default_account: str | None = Field(None, max_length=32)
    default_from: str | None = Field(None, max_length=320, description=(
        "With `default_method` `domain`: the From address, at one of the tenant's domains whose DNS "
        "records passed (else 422 `domain.not_verified` or `domain.unknown`)."))
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
    return [TenantOut(**t.to_dict()) for t in runtime.tenants.list_tenants()]  # type: ignore[arg-type]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(None, max_length=200, description="What the key is for, e.g. `production 2026`.")


class KeyOut(BaseModel):
    id: str = Field(description="The key's id: the part after `mpk_` (not secret).")
    tenant_id: str
    label: str | None
    prefix: str = Field(description="How the key starts (`mpk_<id>_`), to recognise it in the host's settings.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Last request with this key (to the minute).")
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    api_key: str = Field(description="The new API key. Shown once; store it now.")


TenantId = Annotated[str, Path(max_length=32)]
KeyId = Annotated[str, Path(max_length=32)]


@router.post("/tenants/{tenant_id}/keys", status_code=status.HTTP_201_CREATED, response_model=KeyCreated,
             summary="Add an API key to a tenant (operator key); rotate by adding, switching, revoking")
def create_key(tenant_id: TenantId, body: KeyIn, runtime: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    created = runtime.tenants.add_key(tenant_id=tenant_id, label=body.label)
    return {**created.key.to_dict(), "api_key": created.api_key}


@router.get("/tenants/{tenant_id}/keys", response_model=list[KeyOut],
            summary="A tenant's API keys with their last use (operator key; never the keys themselves)")
def list_keys(tenant_id: TenantId, runtime: RuntimeDep, _: AdminDep) -> list[dict[str, Any]]:
    return [k.to_dict() for k in runtime.tenants.list_keys(tenant_id)]


@router.delete("/tenants/{tenant_id}/keys/{key_id}", response_model=KeyOut,
               summary="Revoke an API key (operator key): 401 on every process from the next request on")
def revoke_key(tenant_id: TenantId, key_id: KeyId, runtime: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    return runtime.tenants.revoke_key(tenant_id=tenant_id, key_id=key_id).to_dict()


@router.get("/tenant", response_model=TenantOut, summary="The tenant the API key belongs to")
def me(runtime: RuntimeDep, tenant_id: TenantDep) -> TenantOut:
    return TenantOut(**runtime.tenants.get(tenant_id).to_dict())  # type: ignore[arg-type]


@router.patch("/tenant", response_model=TenantOut,
              summary="Change the tenant's default sending method (mailbox, platform or own domain) and its time zone")
def update_me(body: TenantSettingsIn, runtime: RuntimeDep, tenant_id: TenantDep) -> TenantOut:
    view = runtime.tenants.update_settings(tenant_id, body.model_dump(exclude_unset=True))
    return TenantOut(**view.to_dict())  # type: ignore[arg-type]
