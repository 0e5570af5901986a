"""The page's session cookie and CSRF check, as FastAPI dependencies.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (not sent on cross-site form
posts) and ``Secure`` whenever the page is served over https. Every state-changing request must
also carry the session's CSRF token: htmx sends it as the ``X-CSRF-Token`` header (set once on
``<body hx-headers>``), plain forms as the hidden ``csrf`` field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from mailport.errors import Unauthenticated
from mailport.runtime import Runtime
from mailport.services.ui_sessions import UiSession

__all__ = ["COOKIE", "CSRF_HEADER", "SessionDep", "SessionRequired", "WriteSessionDep", "clear_cookie",
           "set_cookie"]

COOKIE = "mailport_ui"
CSRF_HEADER = "X-CSRF-Token"
PATH = "/ui"


class SessionRequired(Exception):
    """No valid session: the page says how to get back in (handled in :mod:`mailport.web`)."""

    def __init__(self, reason: str, *, lang: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lang = lang  # the session's language where there is one (a refused form); else the browser's


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def is_https(request: Request) -> bool:
    # Behind a TLS-terminating proxy the public URL tells us what the browser sees.
    return request.url.scheme == "https" or runtime_of(request).settings.effective_public_url.startswith("https:")


def set_cookie(response: Response, request: Request, session: UiSession) -> None:
    token = runtime_of(request).ui_sessions.session_token(session)
    response.set_cookie(
        COOKIE, token, path=PATH, httponly=True, samesite="lax", secure=is_https(request),
        expires=session.expires_at,
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="lax")


def current_session(request: Request) -> UiSession:
    try:
        return runtime_of(request).ui_sessions.read_session(request.cookies.get(COOKIE))
    except Unauthenticated as exc:
        reason = "expired" if exc.code == "ui.expired" else "missing"
        raise SessionRequired(reason) from None


async def checked_session(request: Request) -> UiSession:
    """The session of a state-changing request whose CSRF token matches."""
    session = current_session(request)
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get("csrf")
        presented = value if isinstance(value, str) else None
    try:
        runtime_of(request).ui_sessions.check_csrf(session, presented)
    except Unauthenticated:
        raise SessionRequired("csrf", lang=session.lang) from None
    return session


SessionDep = Annotated[UiSession, Depends(current_session)]
WriteSessionDep = Annotated[UiSession, Depends(checked_session)]
