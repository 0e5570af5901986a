from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.problems import request_language
from mailport.i18n import translations

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
    request: Request,
    runtime: RuntimeDep,
    _tenant: TenantDep,
    probe: bool = True,
) -> dict[str, Any]:
    result = await runtime.discovery.discover(email, probe=probe)
    data = result.to_dict()
    # Hints in the caller's language (``?lang=`` or Accept-Language), like diagnoses; ``code`` is stable.
    lang = request_language(request)
    data["hints"] = [{**hint.to_dict(), "text": hint.translated(translations(lang).gettext)} for hint in result.hints]
    return data
