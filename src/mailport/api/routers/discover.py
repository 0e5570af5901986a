from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from mailport.api.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/v1", tags=["discovery"])


@router.get(
    "/discover",
    summary="Find the server settings for an email address",
    description=(
        "Runs mailport's own provider catalog, the domain's autoconfig, Thunderbird's ISPDB, MX and SRV "
        "records, and (unless `probe=false`) probes the usual host names — bounded by a hard deadline. "
        "`imap`/`smtp` are null when nothing was found; settings are never invented."
    ),
)
async def discover(
    email: Annotated[str, Query(max_length=320, examples=["bestellung@bäckerei-müller.de"])],
    runtime: RuntimeDep,
    _tenant: TenantDep,
    probe: bool = True,
) -> dict[str, Any]:
    result = await runtime.discovery.discover(email, probe=probe)
    return result.to_dict()
