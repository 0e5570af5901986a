"""Connect a Gmail / Microsoft 365 mailbox by signing in: start (API) and callback (browser)."""

from __future__ import annotations

import html
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from mailport.api.deps import RuntimeDep, TenantDep
from mailport.api.problems import problem, request_language
from mailport.api.routers.accounts import EndpointIn
from mailport.diagnosis_text import explain_code
from mailport.errors import ConfigurationError
from mailport.services.oauth import CallbackResult, StartedAuthorization

router = APIRouter(tags=["oauth"])


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login_hint: str | None = Field(None, max_length=320, description="The address the user wants to connect; "
                                   "the provider pre-selects it and a different account is refused.",
                                   examples=["anna@example.com"])
    return_url: str | None = Field(None, max_length=2000, description="Where the browser goes after the "
                                   "sign-in, with `status=connected&account_id=…` or `status=error&code=…` "
                                   "added; without it a small result page is shown.")
    account_id: str | None = Field(None, max_length=32, description="Reconnect this existing account.")
    display_name: str | None = Field(None, max_length=200)
    smtp: EndpointIn | None = Field(None, description="Only for servers other than the provider's standard ones.")
    imap: EndpointIn | None = None


class StartOut(BaseModel):
    authorization_url: str
    expires_at: datetime
    provider: str


@router.post("/v1/accounts/oauth/{provider}/start", response_model=StartOut,
             summary="Start connecting a mailbox by signing in with Google or Microsoft")
async def start(provider: Literal["google", "microsoft"], body: StartIn, runtime: RuntimeDep,
                tenant_id: TenantDep) -> Any:
    return await sign_in_answer(runtime.oauth.start(
        tenant_id, provider, login_hint=body.login_hint, return_url=body.return_url,
        account_id=body.account_id, display_name=body.display_name,
        smtp=body.smtp.model_dump(exclude_none=True) if body.smtp else None,
        imap=body.imap.model_dump(exclude_none=True) if body.imap else None,
    ))


async def sign_in_answer(start: Awaitable[StartedAuthorization]) -> Any:
    """What a route that starts a sign-in answers: a :class:`StartOut`, or 501 where this
    installation has no OAuth client for the provider (the connect here, the switch-transport)."""
    try:
        started = await start
    except ConfigurationError as exc:
        if exc.code != "oauth.not_configured":
            raise
        return problem(501, code=exc.code, title="Sign-in with this provider is not set up", detail=str(exc))
    return {"authorization_url": started.authorization_url, "expires_at": started.expires_at,
            "provider": started.provider}


@router.get("/oauth/callback", include_in_schema=False)
async def callback(request: Request, runtime: RuntimeDep, state: str | None = None, code: str | None = None,
                   error: str | None = None, error_description: str | None = None) -> Response:
    result = await runtime.oauth.complete(state=state, code=code, error=error,
                                          error_description=error_description)
    # A wrong account always gets our page: the host product could not explain it better, and
    # the retry link must be one click away.
    if result.return_url and result.outcome != "wrong_account":
        return RedirectResponse(_with_query(result.return_url, _outcome_params(result)), status_code=303)
    return _page(result, lang=request_language(request))


def _outcome_params(result: CallbackResult) -> dict[str, str]:
    if result.ok and result.account is not None:
        return {"status": result.outcome, "account_id": result.account.id, "email": result.account.email}
    params = {"status": "error", "code": result.code or "unknown"}
    if result.signed_in:
        params["signed_in"] = result.signed_in
    return params


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


_TITLES = {
    "connected": "Mailbox connected",
    "reconnected": "Mailbox connected again",
    "wrong_account": "A different account was signed in",
    "denied": "Mailbox not connected",
    "failed": "Mailbox not connected",
    "expired": "This sign-in link has expired",
}


def _page(result: CallbackResult, *, lang: str) -> HTMLResponse:
    e = html.escape
    title = _TITLES[result.outcome]
    if result.ok and result.account is not None:
        body = f"<p id='message'>{e(result.account.email)} is connected. You can close this window.</p>"
    else:
        body = f"<p id='message'>{e(result.message or 'The sign-in did not succeed.')}</p>"
        if result.signed_in and result.outcome == "wrong_account":
            body += f"<p>Signed in as: <strong id='signed-in'>{e(result.signed_in)}</strong></p>"
        # Diagnoses the user can act on (admin consent, expired sign-in …) in their language.
        explanation = explain_code(result.code, lang, email=result.expected) if result.code else None
        if explanation is not None and explanation.code != "unknown":
            steps = "".join(f"<li>{e(step)}</li>" for step in explanation.steps)
            body += f"<h2 id='diagnosis'>{e(explanation.title)}</h2><ol>{steps}</ol>"
        if result.admin_consent_url:
            body += (f"<p><a id='admin-consent' href='{e(result.admin_consent_url)}'>Link for your administrator"
                     "</a> to approve this app for your organisation.</p>")
        if result.retry_url:
            body += f"<p><a id='retry' href='{e(result.retry_url)}'>Try again</a></p>"
        if result.return_url:
            back = _with_query(result.return_url, _outcome_params(result))
            body += f"<p><a id='back' href='{e(back)}'>Back</a></p>"
        if result.code:
            body += f"<p><small>Code: <code id='code'>{e(result.code)}</code></small></p>"
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            f"<body><h1>{e(title)}</h1>{body}</body></html>")
    status = 200 if result.ok else 400
    return HTMLResponse(page, status_code=status, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    })
