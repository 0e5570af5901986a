from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import TenantDep
from mailport.diagnosis_text import explain_text
from mailport.i18n import negotiate

router = APIRouter(prefix="/v1/diagnostics", tags=["diagnostics"])


class ExplainIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "text": "534-5.7.9 Application-specific password required. Learn more at\n"
                "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
        "email": "facturen@gmail.com",
    }]})
    text: str = Field(min_length=1, max_length=20_000, description="The server's reply or the error text, any number "
                                                                   "of lines.")
    email: str | None = Field(None, max_length=320, description="The account's address: refines provider-specific "
                                                                "advice.")
    provider: str | None = Field(None, max_length=64, description="A provider id from discovery, if known.")
    host: str | None = Field(None, max_length=253, description="The account's SMTP or IMAP server, if known: names "
                                                               "the provider where the address does not.")


class ExplainOut(BaseModel):
    code: str
    title: str
    steps: list[str]
    provider: str | None
    retryable: bool
    server_text: str | None


@router.post("/explain", response_model=ExplainOut, summary="Explain a server reply in the user's language")
def explain(
    body: ExplainIn, request: Request, _tenant: TenantDep,
    lang: Annotated[str | None, Query(max_length=35, description="Language; else Accept-Language; default en.")] = None,
) -> dict[str, Any]:
    language = negotiate(request.headers.get("accept-language"), lang)
    return explain_text(body.text, lang=language, email=body.email, provider=body.provider,
                        host=body.host).to_dict()
