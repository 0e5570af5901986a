"""``/v1/webhooks``: endpoints that receive every event, signed; their delivery log; a test."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.fields import DateTimeText

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


_URL_RULE = ("https:// URL that receives POSTed events: a public host, port 443 (or 80, or 1024-65535 except "
             "the Fetch standard's bad ports), no user name or password; checked again before every delivery "
             "(docs/security.md).")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "url": "https://erp.example.nl/hooks/mailport", "event_types": ["message.sent", "message.failed"],
    }]})
    url: str = Field(max_length=2000, description=_URL_RULE)
    event_types: list[str] = Field(default_factory=list, description="Empty: every event type.")
    description: str | None = Field(None, max_length=200)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, max_length=2000, description=_URL_RULE)
    event_types: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: DateTimeText
    updated_at: DateTimeText


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (Standard Webhooks `whsec_…`, for the "
                                    "`webhook-signature` header); shown only now.")


class SecretOut(BaseModel):
    secret: str


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    next_attempt_at: DateTimeText | None
    delivered_at: DateTimeText | None
    created_at: DateTimeText


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated,
             summary="Add a webhook endpoint (the signing secret is in this answer only)")
def create_webhook(body: WebhookIn, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    view, secret = runtime.webhooks.create(tenant_id, url=body.url, event_types=body.event_types,
                                           description=body.description)
    return {**view.to_dict(), "secret": secret}


@router.get("", response_model=list[WebhookOut], summary="The tenant's webhook endpoints")
def list_webhooks(runtime: RuntimeDep, tenant_id: TenantDep) -> list[dict[str, Any]]:
    return [w.to_dict() for w in runtime.webhooks.list_webhooks(tenant_id)]


@router.get("/{webhook_id}", response_model=WebhookOut, summary="One webhook endpoint")
def get_webhook(webhook_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.webhooks.get(tenant_id, webhook_id).to_dict()


@router.patch("/{webhook_id}", response_model=WebhookOut, summary="Change, enable or disable an endpoint")
def update_webhook(webhook_id: str, body: WebhookPatch, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.webhooks.update(tenant_id, webhook_id, url=body.url, event_types=body.event_types,
                                   enabled=body.enabled, description=body.description).to_dict()


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an endpoint")
def delete_webhook(webhook_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
    runtime.webhooks.delete(tenant_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", response_model=SecretOut,
             summary="Replace the signing secret (the old one stops working at once)")
def rotate_secret(webhook_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, str]:
    return {"secret": runtime.webhooks.rotate_secret(tenant_id, webhook_id)}


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut],
            summary="The delivery log, newest first")
def list_deliveries(webhook_id: str, runtime: RuntimeDep, tenant_id: TenantDep,
                    limit: int = Query(50, ge=1, le=200)) -> list[dict[str, Any]]:
    return [d.to_dict() for d in runtime.webhooks.deliveries(tenant_id, webhook_id, limit=limit)]


@router.post("/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryOut,
             summary="Send a webhook.test event to this endpoint")
def test_webhook(webhook_id: str, runtime: RuntimeDep, tenant_id: TenantDep) -> dict[str, Any]:
    return runtime.webhooks.test(tenant_id, webhook_id).to_dict()
