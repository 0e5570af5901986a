"""``/v1/ui-sessions``: the host product gets a short-lived, single-use signed link to the web
pages (``POST``), and ends its user's sessions (``DELETE ?user=…``, e.g. when the user signs out
of the host product or leaves the company)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep

router = APIRouter(prefix="/v1/ui-sessions", tags=["web pages"])


class UiSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "user_name": "Anna de Vries", "language": "nl",
        "return_url": "https://app.example-invoicing.nl/settings",
    }]})
    user_name: str = Field(min_length=1, max_length=200, description="The host product's user, shown in the page "
                                                                     "header.")
    language: str | None = Field(None, max_length=35, description="The user's language tag. The pages speak en, nl, "
                                                                  "de, it and fr (regional tags such as nl-BE work); "
                                                                  "any other language (da, nb, sv, es…) gets English "
                                                                  "pages. The answer's `language` says which.")
    return_url: str | None = Field(None, max_length=2000, description="Where \"Back\" goes: an absolute http(s) URL of "
                                                                      "the host product.")
    time_zone: str | None = Field(None, max_length=64, examples=["Europe/Amsterdam"],
                                  description="IANA time zone the pages show times in; default: the tenant's "
                                              "(`PATCH /v1/tenant`), else UTC.")


class UiSessionOut(BaseModel):
    url: str = Field(description="Send the user here (redirect, new tab or iframe) before `expires_at`.")
    expires_at: datetime
    language: str = Field(description="The language the pages will speak: en, nl, de, it or fr — English when the "
                                      "asked-for language is not one of them.", examples=["nl"])


LANGUAGES_DOC = (
    "The pages speak English (`en`), Dutch (`nl`), German (`de`), Italian (`it`) and French (`fr`). `language` "
    "takes the user's language tag as the host product has it (`nl-BE` → `nl`, `de_CH` → `de`); any other "
    "language — Danish, Norwegian and Swedish too, which `POST /v1/diagnostics/explain` speaks — opens the "
    "pages in English, page and diagnoses alike (never a mix), and the answer's `language` says so, e.g. to "
    "tell the user. A value that is not a language tag is 422."
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UiSessionOut,
             summary="A signed, short-lived link that opens Settings › E-mail for the host's user",
             description=LANGUAGES_DOC)
def create_ui_session(body: UiSessionIn, runtime: RuntimeDep, tenant_id: TenantDep) -> UiSessionOut:
    time_zone = body.time_zone or runtime.tenants.get(tenant_id).time_zone
    link = runtime.ui_sessions.issue_link(tenant_id=tenant_id, user_name=body.user_name,
                                          language=body.language, return_url=body.return_url,
                                          time_zone=time_zone)
    url = f"{runtime.settings.effective_public_url}/ui/enter?token={link.token}"
    return UiSessionOut(url=url, expires_at=link.expires_at, language=link.language)


class RevokedOut(BaseModel):
    revoked: int = Field(description="How many live sessions of the user were ended.")


@router.delete("", response_model=RevokedOut,
               summary="End every web-page session of one of the host's users (sign-out everywhere)")
def revoke_ui_sessions(runtime: RuntimeDep, tenant_id: TenantDep,
                       user: Annotated[str, Query(min_length=1, max_length=200,
                                                  description="The `user_name` the links were made for.")],
                       ) -> RevokedOut:
    return RevokedOut(revoked=runtime.ui_sessions.revoke_user(tenant_id=tenant_id, user_name=user))
