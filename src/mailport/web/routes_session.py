"""Entering the pages through the host's signed link, and switching language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from mailport.errors import Unauthenticated, ValidationError
from mailport.web.render import render
from mailport.web.session import (
    SessionRequired,
    WriteSessionDep,
    clear_cookie,
    runtime_of,
    set_cookie,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

HOME = "/ui/settings/email"


@router.get("/enter")
def enter(request: Request, token: str = "") -> Response:
    """Open the host's link: start the session cookie, then drop the token from the address bar."""
    try:
        session = runtime_of(request).ui_sessions.open_link(token)
    except Unauthenticated as exc:
        # A link opened before reads like an expired one: open the settings again from the program.
        raise SessionRequired("expired" if exc.code in ("ui.expired", "ui.used") else "missing") from None
    response = RedirectResponse(HOME, status_code=303)
    set_cookie(response, request, session)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: WriteSessionDep) -> Response:
    """End this session now (every process refuses its cookie from the next request on)."""
    runtime_of(request).ui_sessions.sign_out(session)
    response = session_problem_page(request, "signed_out", lang=session.lang)
    clear_cookie(response)
    return response


@router.post("/language")
async def change_language(request: Request, session: WriteSessionDep) -> Response:
    form = await request.form()
    lang, back = str(form.get("lang") or ""), str(form.get("next") or HOME)
    if not back.startswith("/ui/") or back.startswith("//"):
        back = HOME  # only our own pages: never an open redirect
    try:
        session = runtime_of(request).ui_sessions.with_language(session, lang)
    except ValidationError:
        pass
    response = RedirectResponse(back, status_code=303)
    set_cookie(response, request, session)
    return response


def session_problem_page(request: Request, reason: str, *, lang: str | None = None) -> Response:
    """What someone without a valid session sees: how to get back in, in their browser's language."""
    from mailport.i18n import negotiate

    lang = lang or negotiate(request.headers.get("accept-language"))
    status = 200 if reason == "signed_out" else 403 if reason == "csrf" else 401
    return render(request, "session_required.html", lang=lang, status_code=status, reason=reason,
                  session=None)


def error_page(request: Request, exc: Exception) -> Response:
    """An unexpected error or unknown address under ``/ui``: a page, never a trace or JSON."""
    import logging

    from starlette.exceptions import HTTPException as StarletteHTTPException

    from mailport.errors import NotFound
    from mailport.i18n import negotiate

    if isinstance(exc, StarletteHTTPException):
        status = exc.status_code
    elif isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, RequestValidationError):
        status = 404  # a malformed address is, to the user, a page that does not exist
    else:
        status = 500
        logging.getLogger(__name__).error("web page failed: %s %s", request.method, request.url.path,
                                          exc_info=exc)
    try:
        lang = runtime_of(request).ui_sessions.read_session(request.cookies.get("mailport_ui")).lang
    except Unauthenticated:
        lang = negotiate(request.headers.get("accept-language"))
    return render(request, "error.html", lang=lang, status_code=status, status=status, session=None)
