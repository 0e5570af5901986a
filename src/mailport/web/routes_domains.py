"""Own domain: add it, publish the three records (copy buttons), "Check and activate" with a
verdict per record, remove. The rules and texts are the domain service's; this only shows them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailport.errors import ConfigurationError, Conflict, NotFound, TryLater, ValidationError
from mailport.web import labels
from mailport.web.pages import page
from mailport.web.session import SessionDep, WriteSessionDep, runtime_of

router = APIRouter(prefix="/ui/settings/email/domains", include_in_schema=False)


@router.post("")
async def add_domain(request: Request, session: WriteSessionDep) -> Response:
    name = str((await request.form()).get("domain") or "").strip()
    error = None
    try:
        view = await runtime_of(request).domains.add(session.tenant_id, name)
    except Conflict:
        error = labels.N_("This domain has been added already.")
    except ConfigurationError:
        error = labels.N_("Own domains are not set up on this installation.")
    except ValidationError:
        error = labels.N_("Enter a domain name such as yourcompany.com (without www or @).")
    if error is not None:
        accounts = await asyncio.to_thread(runtime_of(request).accounts.list_accounts, session.tenant_id)
        domains = await asyncio.to_thread(runtime_of(request).domains.list_domains, session.tenant_id)
        return page(request, session, "settings_email.html", status_code=200, accounts=accounts,
                     domains=domains, method="domain", saved=False, removed=False, removed_domain=False,
                     domain_error=error, domain_value=name, platform=None, platform_message=None,
                     platform_error=None, platform_typed={}, oauth_error=None)
    return RedirectResponse(f"/ui/settings/email/domains/{view.id}", status_code=303)


@router.get("/{domain_id}")
async def domain_page(request: Request, session: SessionDep, domain_id: str) -> Response:
    service = runtime_of(request).domains
    try:
        view = await asyncio.to_thread(service.get, session.tenant_id, domain_id)
    except NotFound:
        return page(request, session, "not_found.html", status_code=404)
    data = view.to_dict(session.lang)
    verdicts = data["last_check"]["verdicts"] if data["last_check"] else None
    return page(request, session, "domain.html", domain=data, verdicts=verdicts, message=None)


@router.post("/{domain_id}/check")
async def check(request: Request, session: WriteSessionDep, domain_id: str) -> Response:
    service = runtime_of(request).domains
    message = None
    try:
        report = await service.check(session.tenant_id, domain_id)
        data, verdicts = report.domain.to_dict(session.lang), report.to_dict(session.lang)["verdicts"]
    except NotFound:
        return page(request, session, "not_found.html", status_code=404)
    except Conflict as exc:  # checked a moment ago: say when it can be done again
        message = {"text": labels.N_("This domain was checked a moment ago. Try again in %(seconds)s seconds."),
                   "seconds": exc.retry_after if isinstance(exc, TryLater) else 30}
        view = await asyncio.to_thread(service.get, session.tenant_id, domain_id)
        data = view.to_dict(session.lang)
        verdicts = data["last_check"]["verdicts"] if data["last_check"] else None
    template = "_domain_check.html" if request.headers.get("HX-Request") == "true" else "domain.html"
    return page(request, session, template, domain=data, verdicts=verdicts, message=message)


@router.get("/{domain_id}/remove")
async def confirm_remove(request: Request, session: SessionDep, domain_id: str) -> Response:
    try:
        view = await asyncio.to_thread(runtime_of(request).domains.get, session.tenant_id, domain_id)
    except NotFound:
        return page(request, session, "not_found.html", status_code=404)
    return page(request, session, "domain_remove.html", domain=view.to_dict(session.lang))


@router.post("/{domain_id}/remove")
async def remove(request: Request, session: WriteSessionDep, domain_id: str) -> Response:
    try:
        await asyncio.to_thread(runtime_of(request).domains.remove, session.tenant_id, domain_id)
    except NotFound:
        pass
    return RedirectResponse("/ui/settings/email?method=domain&removed_domain=1", status_code=303)
