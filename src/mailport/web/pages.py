"""The one way route modules answer with a page: the template plus what every page needs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from mailport.services.ui_sessions import UiSession
from mailport.web import labels
from mailport.web.render import render
from mailport.web.sections import available_sections
from mailport.web.session import runtime_of

__all__ = ["page"]


def page(request: Request, session: UiSession, template: str, *, status_code: int = 200,
         headers: dict[str, str] | None = None, **context: Any) -> Response:
    """``template`` in the session's language, with its CSRF token and the available sections."""
    runtime = runtime_of(request)
    return render(request, template, lang=session.lang, status_code=status_code, headers=headers,
                  time_zone=session.time_zone,
                  session=session, csrf=runtime.ui_sessions.csrf_token(session),
                  sections=available_sections(runtime), labels=labels, **context)
