"""``/v1/contacts``: the host product's contacts (bulk upsert by its own ids) and their mail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.fields import DateTimeText
from mailport.api.routers.inbox import InboxMessageOut, parse_before
from mailport.services.contacts import MAX_BATCH, ContactInput

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"id": "customer-42", "name": "Debiteur BV", "addresses": ["debiteur@example.nl"]}]})
    id: str = Field(min_length=1, max_length=200, description="Your own id for the contact.")
    name: str | None = Field(None, max_length=300)
    addresses: list[str] = Field(default_factory=list, max_length=50)


class ContactOut(BaseModel):
    id: str
    name: str | None
    addresses: list[str] = Field(description="Lower-cased; mail is matched to them case-insensitively.")
    updated_at: DateTimeText


class UpsertOut(BaseModel):
    created: int
    updated: int
    contacts: list[ContactOut]


@router.put("", response_model=UpsertOut, summary="Create or replace contacts by your ids (bulk)")
async def upsert_contacts(
    body: Annotated[list[ContactIn], Field(max_length=MAX_BATCH)], runtime: RuntimeDep, tenant_id: TenantDep,
) -> dict[str, Any]:
    items = [ContactInput(id=c.id, name=c.name, addresses=c.addresses) for c in body]
    result = await run_in_threadpool(runtime.contacts.upsert, tenant_id, items)
    return {"created": result.created, "updated": result.updated,
            "contacts": [c.to_dict() for c in result.contacts]}


@router.get("", response_model=list[ContactOut], summary="Contacts, by id")
def list_contacts(runtime: RuntimeDep, tenant_id: TenantDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[dict[str, Any]]:
    return [c.to_dict() for c in runtime.contacts.list_contacts(tenant_id, limit=limit, offset=offset)]


@router.get("/{contact_id}", response_model=ContactOut, summary="One contact")
def get_contact(contact_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.contacts.get(tenant_id, contact_id).to_dict()


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Remove a contact (its mail stays)")
def delete_contact(contact_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    runtime.contacts.delete(tenant_id, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{contact_id}/messages", response_model=list[InboxMessageOut], response_model_by_alias=True,
            summary="The contact's mail, both directions, newest first")
def contact_messages(
    contact_id: str, runtime: RuntimeDep, tenant_id: TenantDep,
    before: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    views = runtime.inbox.list_messages(tenant_id, contact_id=contact_id, before=parse_before(before), limit=limit)
    return [v.to_dict() for v in views]
