"""The web pages the host product opens for its user: Settings › E-mail (and, as they land, the
outbox, the inbox and the own-domain setup), server-rendered with Jinja2 and htmx.

:func:`install` mounts them on the FastAPI app under ``/ui``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from mailport.runtime import Runtime

__all__ = ["install"]


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the pages, their static files and their security headers to ``app``."""
    from mailport.web import (
        routes_domains,
        routes_email,
        routes_inbox,
        routes_oauth,
        routes_outbox,
        routes_platform,
        routes_session,
    )
    from mailport.web.security import SecurityHeaders
    from mailport.web.session import SessionRequired

    app.include_router(routes_session.router)
    app.include_router(routes_email.router)
    app.include_router(routes_outbox.router)
    app.include_router(routes_domains.router)
    app.include_router(routes_inbox.router)
    app.include_router(routes_platform.router)
    app.include_router(routes_oauth.router)
    static = resources.files("mailport.web").joinpath("static")
    app.mount("/ui/static", StaticFiles(directory=str(static)), name="ui-static")
    app.add_middleware(SecurityHeaders, frame_ancestors=runtime.settings.ui_frame_ancestors,
                       form_targets=tuple(routes_oauth.authorization_origins(runtime)))

    @app.exception_handler(SessionRequired)
    async def _session_required(request: Request, exc: SessionRequired) -> Response:
        return routes_session.session_problem_page(request, exc.reason, lang=exc.lang)

    _pages_get_html_errors(app)


def _pages_get_html_errors(app: FastAPI) -> None:
    """Errors under ``/ui`` become a calm page in the user's language; the API keeps its
    problem+json handlers (wrapped, not replaced)."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from mailport.errors import MailportError
    from mailport.web.routes_session import error_page

    for kind in (MailportError, RequestValidationError, StarletteHTTPException, Exception):
        original = app.exception_handlers.get(kind)
        if original is None:
            continue

        def make(original: Any) -> Any:
            async def handler(request: Request, exc: Exception) -> Response:
                path = request.url.path
                if path.startswith("/ui/") and not path.startswith("/ui/static/"):
                    return error_page(request, exc)
                response: Response = await original(request, exc)
                return response

            return handler

        app.add_exception_handler(kind, make(original))
