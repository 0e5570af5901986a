"""Move a signed-in mailbox to its provider's API (Microsoft Graph, Gmail API): the API half of
the one-click switch (the web page's button is the other)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.routers.oauth import StartOut, sign_in_answer
from mailport.services.transport_switch import TransportSwitch

router = APIRouter(tags=["oauth"])


class SwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transport: Literal["graph", "gmail_api"] | None = Field(
        None, description="The API to move to; by default the one of the account's provider "
        "(`graph` for Microsoft, `gmail_api` for Google).")
    return_url: str | None = Field(None, max_length=2000, description="Where the browser goes after the "
                                   "sign-in, with `status=reconnected&account_id=…` or `status=error&code=…`.")


@router.post("/v1/accounts/{account_id}/switch-transport", response_model=StartOut,
             summary="Move a signed-in mailbox from SMTP/IMAP to its provider's API (one new consent)")
async def switch_transport(account_id: str, body: SwitchIn, runtime: RuntimeDep, tenant_id: TenantDep) -> Any:
    """For a Microsoft 365 mailbox whose tenant switched SMTP AUTH off (diagnosis
    `auth.use_graph`): send the user to `authorization_url`; after the consent the same account
    (same id, history kept) sends through Microsoft Graph."""
    return await sign_in_answer(TransportSwitch(oauth=runtime.oauth, accounts=runtime.accounts).start(
        tenant_id, account_id, to=body.transport, return_url=body.return_url))
