"""Gmail and Outlook/Microsoft 365: connect a mailbox by signing in with the provider.

The page posts the address (so the provider pre-selects that account and refuses another), the
OAuth service stores the pending sign-in and gives the provider's URL; the browser goes there
and comes back through ``/oauth/callback``, which sends it on to :func:`done` here.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailport.errors import ConfigurationError, MailportError, ValidationError
from mailport.runtime import Runtime
from mailport.services.transport_switch import TransportSwitch
from mailport.web.session import SessionDep, WriteSessionDep, runtime_of

router = APIRouter(prefix="/ui/settings/email/oauth", include_in_schema=False)

METHOD = {"google": "gmail", "microsoft": "outlook"}


def authorization_origins(runtime: Runtime) -> list[str]:
    """Origins of the configured providers' sign-in pages: the CSP's ``form-action`` must allow
    them, because the form's redirect goes there."""
    origins = []
    for name in ("google", "microsoft"):
        if not getattr(runtime.settings, f"oauth_{name}_client_id", ""):
            continue
        try:
            url = urlsplit(runtime.oauth.provider(name).authorization_url)
        except (ConfigurationError, ValidationError):
            continue
        if url.scheme in ("https", "http") and url.netloc:
            origins.append(f"{url.scheme}://{url.netloc}")
    return origins


@router.post("/{provider}")
async def start(request: Request, session: WriteSessionDep, provider: Literal["google", "microsoft"]) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip()
    name = str(form.get("display_name") or "").strip() or None
    runtime = runtime_of(request)
    back = f"/ui/settings/email?method={METHOD[provider]}"
    try:
        started = await runtime.oauth.start(
            session.tenant_id, provider, login_hint=email or None, display_name=name,
            return_url=f"{runtime.settings.effective_public_url}/ui/settings/email/oauth/{provider}/done",
        )
    except ValidationError:
        return RedirectResponse(f"{back}&oauth_error=request.invalid_address#chosen", status_code=303)
    except MailportError as exc:
        return RedirectResponse(f"{back}&oauth_error={exc.code}#chosen", status_code=303)
    return RedirectResponse(started.authorization_url, status_code=303)


@router.post("/{provider}/reconnect/{account_id}")
async def reconnect(request: Request, session: WriteSessionDep, provider: Literal["google", "microsoft"],
                    account_id: str) -> Response:
    """Sign in again for a mailbox whose access was withdrawn or expired (same account only)."""
    runtime = runtime_of(request)
    try:
        started = await runtime.oauth.start(
            session.tenant_id, provider, account_id=account_id,
            return_url=f"{runtime.settings.effective_public_url}/ui/settings/email/oauth/{provider}/done",
        )
    except MailportError as exc:
        return RedirectResponse(f"/ui/settings/email?method={METHOD[provider]}&oauth_error={exc.code}#chosen",
                                status_code=303)
    return RedirectResponse(started.authorization_url, status_code=303)


@router.post("/microsoft/switch/{account_id}")
async def switch_to_graph(request: Request, session: WriteSessionDep, account_id: str) -> Response:
    """The one-click move of a Microsoft XOAUTH2 mailbox to Graph (SMTP AUTH off in the tenant):
    a new consent for the same account; everything else stays."""
    runtime = runtime_of(request)
    try:
        started = await TransportSwitch(oauth=runtime.oauth, accounts=runtime.accounts).start(
            session.tenant_id, account_id, to="graph",
            return_url=f"{runtime.settings.effective_public_url}/ui/settings/email/oauth/microsoft/done",
        )
    except MailportError as exc:
        return RedirectResponse(f"/ui/settings/email?method=smtp&oauth_error={exc.code}#chosen", status_code=303)
    return RedirectResponse(started.authorization_url, status_code=303)


@router.get("/{provider}/done")
def done(session: SessionDep, provider: Literal["google", "microsoft"], status: str = "",
         code: str = "", signed_in: str = "") -> Response:
    """Where the callback sends the browser: the list on success, else the diagnosis."""
    if status in ("connected", "reconnected"):
        return RedirectResponse("/ui/settings/email?method=smtp&saved=1", status_code=303)
    safe_code = code if code.replace(".", "").replace("_", "").isalnum() else "unknown"
    return RedirectResponse(f"/ui/settings/email?method={METHOD[provider]}&oauth_error={safe_code}#chosen",
                            status_code=303)
