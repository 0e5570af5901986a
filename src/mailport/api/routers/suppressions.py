"""``/v1/suppressions``: the tenant's suppression list — read it, add to it, remove from it.

An address goes on the list when mail to it bounced hard (or soft, N times in a row); a send to it
is then refused with ``send.recipient_suppressed`` until it is removed here (the customer fixed
their address) or the send says ``"ignore_suppression": true``. ``diagnosis`` explains in the
caller's language why the address was suppressed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.fields import DateTimeText, Explanation
from mailport.api.problems import request_language
from mailport.diagnosis_text import explain_code
from mailport.services.suppression import MAX_LIMIT, SuppressionView

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=3, max_length=320, description="The address to stop mailing.")


class SuppressionOut(BaseModel):
    address: str
    reason: str = Field(description="`hard_bounce`, `soft_bounces` (N in a row) or `manual`.")
    status: str | None = Field(None, description="RFC 3463 status of the bounce, e.g. `5.1.1`.")
    diagnosis: Explanation = Field(
        None, description="Why, in the caller's language: the diagnosis of the bounce (code, title, steps).")
    server_text: str | None = Field(None, description="What the receiving server said.")
    message_id: str | None = Field(None, description="The message whose bounce suppressed the address.")
    created_at: DateTimeText


def _out(view: SuppressionView, lang: str) -> dict[str, Any]:
    data = view.to_dict()
    explanation = explain_code(view.diagnosis, lang, server_text=view.server_text) if view.diagnosis else None
    data["diagnosis"] = explanation.to_dict() if explanation is not None else None
    return data


@router.get("", response_model=list[SuppressionOut], summary="The suppression list, by address")
def list_suppressions(
    request: Request, runtime: RuntimeDep, tenant_id: TenantDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    after: Annotated[str | None, Query(max_length=320, description="Addresses after this one.")] = None,
) -> list[dict[str, Any]]:
    lang = request_language(request)
    return [_out(v, lang) for v in runtime.suppression.list_suppressions(tenant_id, limit=limit, after=after)]


@router.get("/{address}", response_model=SuppressionOut, summary="One suppressed address")
def get_suppression(address: str, request: Request, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return _out(runtime.suppression.get(tenant_id, address), request_language(request))


@router.post("", response_model=SuppressionOut, status_code=status.HTTP_201_CREATED,
             summary="Put an address on the list by hand (fires recipient.suppressed)")
def add_suppression(body: SuppressionIn, request: Request, runtime: RuntimeDep,
                    tenant_id: TenantDep) -> dict[str, Any]:
    return _out(runtime.suppression.add(tenant_id, body.address), request_language(request))


@router.delete("/{address}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Remove an address from the list (mail to it is accepted again)")
def remove_suppression(address: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    runtime.suppression.remove(tenant_id, address)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
