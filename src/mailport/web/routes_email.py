"""Settings › E-mail: choose how to send; connect, test, edit and remove a mailbox.

The mailbox flow follows the seeds: type the address → discovery proposes the settings (and says
when an app password or sign-in with the provider is needed) → password → "send a test mail to
yourself", watched live stage by stage → save. "Advanced settings" holds host, port and security.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailport.core.diagnostics import CODES, Diagnosis
from mailport.core.diagnostics.providers import provider_variant
from mailport.core.discovery import DiscoveryResult
from mailport.core.domainstate import DomainState, sending_allowed
from mailport.core.secret import Secret
from mailport.core.transports import API_TRANSPORTS
from mailport.core.verification import Endpoint, Stage, planned_stages, same_server
from mailport.diagnosis_text import explain
from mailport.errors import AddressError, Conflict, HostNotAllowed, MailportError, NotFound, ValidationError
from mailport.services.accounts import AccountInput, AccountView
from mailport.services.ui_sessions import UiSession
from mailport.services.ui_test_runs import TestRun, TestRuns
from mailport.web import labels, routes_platform
from mailport.web.mailbox_form import HOST_NOT_ALLOWED, MailboxForm, read_form
from mailport.web.mailbox_state import explain_attention
from mailport.web.pages import page
from mailport.web.sections import available_sections
from mailport.web.session import SessionDep, WriteSessionDep, runtime_of

router = APIRouter(prefix="/ui/settings/email", include_in_schema=False)

METHOD_IDS = tuple(m.id for m in labels.METHODS)


def _runs(request: Request) -> TestRuns:
    return runtime_of(request).ui_test_runs


# -- the overview ----------------------------------------------------------------------------


@router.get("")
async def email_settings(request: Request, session: SessionDep, method: str = "",
                         saved: str = "", removed: str = "", removed_domain: str = "",
                         platform_saved: str = "", platform_error: str = "", oauth_error: str = "",
                         typed: str = "", default_saved: str = "", default_error: str = "") -> Response:
    runtime = runtime_of(request)
    accounts = await asyncio.to_thread(runtime.accounts.list_accounts, session.tenant_id)
    domains = (await asyncio.to_thread(runtime.domains.list_domains, session.tenant_id)
               if available_sections(runtime).domains else [])
    sections = available_sections(runtime)
    tenant = await asyncio.to_thread(runtime.tenants.get, session.tenant_id)
    platform_sender = (await asyncio.to_thread(runtime.platform.sender, session.tenant_id)
                       if sections.platform else None)
    default = _default_sender(tenant.default_method, tenant.default_account_id, accounts, platform_sender,
                              default_from=tenant.default_from)
    fallback = default["page"] if default else ("smtp" if accounts else ("domain" if domains else ""))
    chosen = method if method in METHOD_IDS else fallback
    platform = platform_sender if chosen == "platform" else None
    return page(request, session, "settings_email.html", accounts=accounts, domains=domains, method=chosen,
                 saved=saved if saved in ("1", "attention", "untested") else "", removed=removed == "1",
                 removed_domain=removed_domain == "1",
                 domain_error=None, domain_value="", platform=platform,
                 platform_message=routes_platform.SAVED.get(platform_saved),
                 platform_error=routes_platform.ERRORS.get(platform_error),
                 platform_typed=routes_platform.typed_back(platform_error, typed),
                 oauth_error=_oauth_problem(oauth_error, session.lang),
                 attention_of={a.id: explain_attention(a, session.lang) for a in accounts
                               if a.state == "needs_attention"},
                 default=default, default_saved=default_saved == "1",
                 default_error=DEFAULT_ERRORS.get(default_error),
                 sendable_domains={d.id for d in domains if sending_allowed(DomainState(d.state))})


# Why the own domain could not become the default (said on the page, in the user's language).
DEFAULT_ERRORS = {
    "address": labels.N_("Enter the part before the @, like invoices."),
    "not_verified": labels.N_("This domain has not passed its check yet: publish its records and choose "
                              "\"Check and activate\" first."),
    "unknown": labels.N_("Add this domain first."),
}


def _default_sender(method: str | None, account_id: str | None, accounts: list[AccountView],
                    platform: Any, *, default_from: str | None = None) -> dict[str, Any] | None:
    """What "Invoices are sent from" says: the business's choice, else its only mailbox (what
    the API does with a message that names no sender)."""
    if method == "platform" and platform is not None:
        return {"method": "platform", "page": "platform", "address": platform.address, "account_id": None}
    if method == "domain" and default_from:
        return {"method": "domain", "page": "domain", "address": default_from, "account_id": None,
                "domain": default_from.rpartition("@")[2], "local_part": default_from.rpartition("@")[0]}
    chosen = next((a for a in accounts if a.id == account_id), None) if method == "account" else None
    if chosen is None and method is None and len(accounts) == 1:
        chosen = accounts[0]
    if chosen is None:
        return None
    page_method = {"google": "gmail", "microsoft": "outlook"}.get(
        labels.OAUTH_PROVIDER_OF.get(chosen.provider_id or "", ""), "smtp") if chosen.auth_kind == "oauth2" else "smtp"
    return {"method": "account", "page": page_method if page_method in METHOD_IDS else "smtp",
            "address": chosen.email, "account_id": chosen.id, "explicit": method == "account"}


@router.post("/default")
async def choose_default(request: Request, session: WriteSessionDep) -> Response:
    """"Send from this": the business's default sending method (and mailbox)."""
    form = await request.form()
    method = str(form.get("method") or "")
    account_id = str(form.get("account_id") or "") or None
    changes: dict[str, Any] = {"default_method": method, "default_account": account_id}
    if method == "domain":  # the own domain: the part before the @ is typed, the domain chosen
        local_part = str(form.get("local_part") or "").strip()
        if not local_part or "@" in local_part:
            return RedirectResponse("/ui/settings/email?method=domain&default_error=address#chosen", status_code=303)
        changes["default_from"] = f"{local_part}@{form.get('domain') or ''!s}"
    if method == "platform":  # replies to invoices sent without a reply address are lost
        sender = await asyncio.to_thread(runtime_of(request).platform.sender, session.tenant_id)
        if not sender.reply_to:
            return RedirectResponse("/ui/settings/email?method=platform&platform_error=no_reply_to", status_code=303)
    try:
        await asyncio.to_thread(runtime_of(request).tenants.update_settings, session.tenant_id, changes)
    except (ValidationError, NotFound) as exc:
        if method != "domain":
            return RedirectResponse("/ui/settings/email", status_code=303)
        why = {"domain.not_verified": "not_verified", "domain.unknown": "unknown"}.get(exc.code, "address")
        return RedirectResponse(f"/ui/settings/email?method=domain&default_error={why}#chosen", status_code=303)
    page_method = {"platform": "platform", "domain": "domain"}.get(method, "smtp")
    return RedirectResponse(f"/ui/settings/email?method={page_method}&default_saved=1", status_code=303)


def _oauth_problem(code: str, lang: str) -> Any:
    """The diagnosis of a failed sign-in (any code the OAuth service reports)."""
    if not code:
        return None
    info = CODES.get(code, CODES["unknown"])
    return explain(Diagnosis(code=info.code, severity=info.severity, retryable=info.retryable, provider=None,
                             server_text=None), lang)


# -- the mailbox form ------------------------------------------------------------------------


def _empty_form() -> MailboxForm:
    return MailboxForm(values={"smtp_security": "tls", "imap_security": "tls", "smtp_port": "",
                               "imap_port": ""}, password="", use_imap=True)


def _form_from_account(view: AccountView) -> MailboxForm:
    values = {"email": view.email, "display_name": view.display_name or "", "provider_id": view.provider_id or ""}
    for kind, endpoint in (("smtp", view.smtp), ("imap", view.imap)):
        if endpoint:
            values |= {f"{kind}_host": endpoint["host"], f"{kind}_port": str(endpoint["port"]),
                       f"{kind}_security": endpoint["security"],
                       f"{kind}_username": endpoint.get("username") or ""}
    return MailboxForm(values=values, password="", use_imap=view.imap is not None)


@router.get("/mailbox/new")
def new_mailbox(request: Request, session: SessionDep) -> Response:
    return page(request, session, "mailbox.html", form=_empty_form(), account=None, proposal=None,
                 run=None, show_advanced=False)


@router.get("/mailbox/{account_id}")
async def edit_mailbox(request: Request, session: SessionDep, account_id: str) -> Response:
    account = await _account_or_none(request, session, account_id)
    if account is None:
        return page(request, session, "not_found.html", status_code=404)
    return page(request, session, "mailbox.html", form=_form_from_account(account), account=account,
                 proposal=None, run=None, show_advanced=True)


async def _account_or_none(request: Request, session: UiSession, account_id: str) -> AccountView | None:
    try:
        return await asyncio.to_thread(runtime_of(request).accounts.get, session.tenant_id, account_id)
    except NotFound:
        return None


# -- discovery -------------------------------------------------------------------------------


def _proposal(result: DiscoveryResult) -> dict[str, Any]:
    auth = set(result.auth)
    return {
        "found": result.found,
        "provider": result.provider.name if result.provider else None,
        "provider_id": result.provider.id if result.provider else "",
        "smtp": result.smtp, "imap": result.imap,
        # The page says these in its own words; the other hints (Proton, Tuta…) stay.
        "hints": [h.text for h in result.hints
                  if h.code not in ("discovery.not_found", "discovery.did_you_mean", "discovery.domain_unknown")],
        "suggestion": result.suggestion,
        "suggested_email": f"{result.email.rpartition('@')[0]}@{result.suggestion}" if result.suggestion else "",
        "domain": result.email.rpartition("@")[2],
        "domain_unknown": result.domain_exists is False,
        "notes": [labels.AUTH_NOTES[a] for a in ("oauth2:google", "oauth2:microsoft", "app_password") if a in auth],
        "password_ok": bool(auth & {"password", "app_password"}) or not auth,
    }


def _apply_proposal(form: MailboxForm, result: DiscoveryResult) -> None:
    # The previous lookup's servers go first, found or not (what the user typed stays).
    form.forget_lookup()
    if not result.found:
        return
    filled: list[str] = []
    for kind, server in (("smtp", result.smtp), ("imap", result.imap)):
        if server is None:
            continue
        form.values |= {f"{kind}_host": server.host, f"{kind}_port": str(server.port),
                        f"{kind}_security": server.security,
                        f"{kind}_username": "" if server.username == form.email else server.username}
        filled += [f"{kind}_host", f"{kind}_port", f"{kind}_security", f"{kind}_username"]
    form.use_imap = result.imap is not None
    form.values["provider_id"] = result.provider.id if result.provider else ""
    form.remember_lookup(filled)


@router.post("/mailbox/discover")
async def discover(request: Request, session: WriteSessionDep) -> Response:
    raw: Any = await request.form()
    if raw.get("use_email"):  # "Did you mean …?": look up the corrected address instead
        raw = _with(raw, email=str(raw.get("use_email")))
    form = read_form(raw, need_servers=False)
    account = await _account_or_none(request, session, str(raw.get("account_id") or ""))
    proposal = None
    if "email" not in form.errors:
        try:
            result = await runtime_of(request).discovery.discover(form.email)
        except AddressError:
            form.errors["email"] = labels.N_("Enter a valid e-mail address, like name@example.com.")
        else:
            proposal = _proposal(result)
            _apply_proposal(form, result)
    if form.errors:
        # Said once, at the address field and in the summary like every other error (the whole
        # form is swapped in): a copy under the button repeated it a second time.
        return _form_errors(request, session, form, account, show_advanced=False)
    template = "_proposal.html" if request.headers.get("HX-Request") == "true" else "mailbox.html"
    return page(request, session, template, form=form, account=account, proposal=proposal, run=None,
                 show_advanced=proposal is not None and not proposal["found"])


def _with(form: Any, **values: str) -> dict[str, Any]:
    return {**{key: form.get(key) for key in form}, **values}


# -- the live test ---------------------------------------------------------------------------


def _refuse_unencrypted(form: MailboxForm, allowed: bool) -> None:
    """A password over an unencrypted connection, where the installation forbids it: said beside
    the field before anything is tried (not "something went wrong" after the test)."""
    if allowed:
        return
    for kind in ("smtp", "imap") if form.use_imap else ("smtp",):
        if form.values.get(f"{kind}_security") == "none":
            form.errors[f"{kind}_security"] = labels.N_("A password may only be sent over an encrypted connection.")


def _fingerprint_key(request: Request) -> bytes:
    # The same in every process: "Save" may reach another process than the test did.
    return _runs(request).fingerprint_key


@router.post("/mailbox/test")
async def start_test(request: Request, session: WriteSessionDep) -> Response:
    runtime = runtime_of(request)
    raw = await request.form()
    form = read_form(raw, allow_private=runtime.settings.private_hosts)
    account = await _account_or_none(request, session, str(raw.get("account_id") or ""))
    if account is not None and account.auth_kind == "oauth2":
        return await _test_saved_oauth_account(request, session, account)
    password = form.password
    if not password and account is not None and account.has_password:
        stored = await _stored_password_for(request, session, account, form)
        if stored is None:
            form.errors["password"] = labels.N_("You changed the server: enter the password again.")
        else:
            password = stored.reveal()
    elif not password:
        form.errors["password"] = labels.N_("Enter the password (or app password) of this mailbox.")
    _refuse_unencrypted(form, runtime.settings.allow_insecure_auth)
    if account is None and "email" not in form.errors and await asyncio.to_thread(
            runtime.accounts.find_by_email, session.tenant_id, form.email) is not None:
        # Said before the test, not after a test mail went out and Save refused.
        form.errors["email"] = labels.N_("This address is connected already; edit it in the list instead.")
    if form.errors:
        return _form_errors(request, session, form, account)
    config = form.config()
    secret = Secret(password)
    verifier = runtime.verification.verifier

    async def work(progress: Any) -> dict[str, Any]:
        report = await verifier.verify(config, password=secret, progress=progress, lang=session.lang)
        return report.to_dict()

    run = await _runs(request).start(
        tenant_id=session.tenant_id, session_id=session.session_id, stages=[s.value for s in planned_stages(config)],
        fingerprint=form.fingerprint(_fingerprint_key(request), password),
        account_id=account.id if account else None, work=work,
    )
    await asyncio.sleep(0)  # let the run begin, so the first view already shows progress
    return _run_view(request, session, run, form=form, account=account)


async def _test_saved_oauth_account(request: Request, session: UiSession, account: AccountView) -> Response:
    """A mailbox connected by signing in is tested as saved, with its tokens (refreshed as
    needed); the result is recorded as its verification at once — there is no password to save."""
    runtime = runtime_of(request)
    config, _password = await asyncio.to_thread(runtime.accounts.connection, session.tenant_id, account.id)

    async def work(progress: Any) -> dict[str, Any]:
        return await runtime.verification.verify_account(session.tenant_id, account.id, progress=progress,
                                                         lang=session.lang)

    # A provider-API mailbox (Graph, Gmail API) has no SMTP/IMAP stages: only the round trip.
    stages = ([Stage.SEND.value, Stage.ARRIVAL.value] if account.transport in API_TRANSPORTS
              else [s.value for s in planned_stages(config)])
    run = await _runs(request).start(tenant_id=session.tenant_id, session_id=session.session_id, stages=stages,
                                     fingerprint="", account_id=account.id, work=work)
    await asyncio.sleep(0)
    return _run_view(request, session, run, form=_form_from_account(account), account=account)


async def _stored_password_for(request: Request, session: UiSession, account: AccountView,
                               form: MailboxForm) -> Secret | None:
    """The saved password, but only towards the saved servers: a changed host must not receive it."""
    # Every field that decides where the login goes counts (a new port on the same host too);
    # the form has no pin field, and saving keeps the saved pin, so the saved one applies.
    def unchanged(kind: str, saved: dict[str, Any] | None) -> bool:
        if saved is None:
            return False
        try:
            wanted = Endpoint(**{**form.endpoint(kind), "pin_sha256": saved.get("pin_sha256"),
                                 "username": form.endpoint(kind)["username"] or account.email})
        except ValidationError:
            return False
        return same_server(wanted, Endpoint(**saved))

    same = unchanged("smtp", account.smtp) and (not form.use_imap or unchanged("imap", account.imap))
    if not same:
        return None
    _config, password = await asyncio.to_thread(runtime_of(request).accounts.connection,
                                                session.tenant_id, account.id)
    return password


@router.get("/runs/{run_id}")
async def poll_test(request: Request, session: SessionDep, run_id: str) -> Response:
    # Any process answers: the run's progress is in the database, whichever process runs it.
    run = await _runs(request).get(run_id, tenant_id=session.tenant_id, session_id=session.session_id)
    return _run_view(request, session, run, form=None, account=None)


def _diagnosis_for(report: dict[str, Any], provider_id: str | None) -> dict[str, Any] | None:
    failed = next((s for s in report["stages"] if s["status"] == "failed"), None)
    if failed is None or not failed.get("code"):
        return None
    info = CODES.get(failed["code"], CODES["unknown"])
    diagnosis = Diagnosis(
        code=info.code, severity=info.severity, retryable=info.retryable,
        provider=provider_variant(email=report.get("email"), provider=provider_id or None),
        server_text=failed.get("server_text"),
    )
    return {"stage": failed["stage"], "diagnosis": diagnosis}


def _run_view(request: Request, session: UiSession, run: TestRun | None, *, form: MailboxForm | None,
              account: AccountView | None) -> Response:
    explanation = None
    if run is not None and run.report is not None:
        found = _diagnosis_for(run.report, form.values.get("provider_id") if form else None)
        if found is not None:
            explanation = {"stage": found["stage"], "text": explain(found["diagnosis"], session.lang)}
    template = "_run.html" if request.headers.get("HX-Request") == "true" else "mailbox.html"
    return page(request, session, template, run=run, explanation=explanation,
                 form=form or _empty_form(), account=account, proposal=None, show_advanced=True)


def _form_errors(request: Request, session: UiSession, form: MailboxForm, account: AccountView | None,
                 *, show_advanced: bool = True) -> Response:
    # htmx swaps only the result area by default; form errors re-render the whole form instead.
    headers = {"HX-Retarget": "#mailbox-form", "HX-Reswap": "outerHTML", "HX-Reselect": "#mailbox-form"}
    return page(request, session, "mailbox.html", status_code=200, headers=headers, form=form,
                 account=account, proposal=None, run=None, show_advanced=show_advanced)


# -- save and remove -------------------------------------------------------------------------


@router.post("/mailbox/save")
async def save_mailbox(request: Request, session: WriteSessionDep) -> Response:
    runtime = runtime_of(request)
    raw = await request.form()
    form = read_form(raw, allow_private=runtime.settings.private_hosts)
    account = await _account_or_none(request, session, str(raw.get("account_id") or ""))
    if account is None and not form.password:
        form.errors["password"] = labels.N_("Enter the password (or app password) of this mailbox.")
    _refuse_unencrypted(form, runtime.settings.allow_insecure_auth)
    if (account is not None and account.auth_kind == "password" and not form.password
            and await _stored_password_for(request, session, account, form) is None):
        form.errors["password"] = labels.N_("You changed the server: enter the password again.")
    if form.errors:
        return _form_errors(request, session, form, account)
    smtp = {**form.endpoint("smtp")}
    imap = form.endpoint("imap") if form.use_imap else None
    try:
        if account is None:
            spec = AccountInput(email=form.email, display_name=form.values["display_name"] or None, smtp=smtp,
                                imap=imap, password=form.password,
                                provider_id=form.values["provider_id"] or None)
            saved = await asyncio.to_thread(runtime.accounts.create, session.tenant_id, spec)
        else:
            changes: dict[str, Any] = {"display_name": form.values["display_name"] or None, "smtp": smtp,
                                       "imap": imap}
            if form.password:
                changes["password"] = form.password
            saved = await asyncio.to_thread(runtime.accounts.update, session.tenant_id, account.id, changes)
    except Conflict:
        form.errors["email"] = labels.N_("This address is connected already; edit it in the list instead.")
        return _form_errors(request, session, form, account)
    except HostNotAllowed as exc:  # read_form checks this first; a second opinion never leaks a 500
        form.errors[_field_of(exc)] = HOST_NOT_ALLOWED
        return _form_errors(request, session, form, account)
    except ValidationError as exc:
        form.errors[_field_of(exc)] = labels.N_("This value was not accepted: check it and try again.")
        if exc.code == "request.insecure_auth":
            form.errors["smtp_security"] = labels.N_("A password may only be sent over an encrypted connection.")
        return _form_errors(request, session, form, account)
    await _record_test(request, session, form, saved, raw.get("run_id"))
    state = (await asyncio.to_thread(runtime.accounts.get, session.tenant_id, saved.id)).state
    # Saved is not the same as working: the message says which of the three it is.
    flag = {"working": "1", "needs_attention": "attention"}.get(state, "untested")
    return RedirectResponse(f"/ui/settings/email?method=smtp&saved={flag}", status_code=303)


def _field_of(exc: MailportError) -> str:
    name = str(exc.field or "email").replace(".", "_")
    return name if name in ("email", "display_name", "password", "smtp_host", "imap_host") else "smtp_host"


async def _record_test(request: Request, session: UiSession, form: MailboxForm, saved: AccountView,
                       run_id: object) -> None:
    """A finished test of exactly the saved settings becomes the account's verification."""
    run = await _runs(request).get(str(run_id or ""), tenant_id=session.tenant_id, session_id=session.session_id)
    if run is None or run.report is None:
        return
    password = form.password
    if not password:
        stored = await asyncio.to_thread(runtime_of(request).accounts.connection, session.tenant_id, saved.id)
        password = stored[1].reveal() if stored[1] is not None else ""
    if run.fingerprint != form.fingerprint(_fingerprint_key(request), password):
        return
    status = "verified" if run.report["ok"] else "failed"
    await asyncio.to_thread(runtime_of(request).accounts.record_verification, session.tenant_id, saved.id,
                            report=run.report, status=status)


@router.get("/mailbox/{account_id}/remove")
async def confirm_remove(request: Request, session: SessionDep, account_id: str) -> Response:
    account = await _account_or_none(request, session, account_id)
    if account is None:
        return page(request, session, "not_found.html", status_code=404)
    return page(request, session, "mailbox_remove.html", account=account)


@router.post("/mailbox/{account_id}/remove")
async def remove(request: Request, session: WriteSessionDep, account_id: str) -> Response:
    try:
        await asyncio.to_thread(runtime_of(request).accounts.remove, session.tenant_id, account_id)
    except NotFound:
        pass  # removed already (a second tab): the outcome the user wanted
    return RedirectResponse("/ui/settings/email?method=smtp&removed=1", status_code=303)

