"""problem+json (RFC 9457) for every error, with a stable ``code`` — never a stack trace."""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mailport import errors
from mailport.api.problem_titles import title_msgid
from mailport.diagnosis_text import explain_code
from mailport.i18n import DEFAULT, negotiate, translations

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

# Most specific first: the first class the error is an instance of decides the status.
_STATUS: list[tuple[type[errors.MailportError], int]] = [
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.AuthError, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.ValidationError, 422),
    (errors.HostNotAllowed, 422),
    (errors.RemoteError, 502),
    (errors.StorageError, 503),
    (errors.SecretError, 500),
    (errors.ConfigurationError, 500),
]

_HTTP_CODES = {
    400: "request.bad",
    401: "auth.missing_key",
    403: "auth.forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "rate_limited",
}


def localize(body: dict[str, Any], language: str) -> dict[str, Any]:
    """``body`` with its title in ``language``: the diagnosis's title when it has one, else the
    code's (or the status's) title from the catalog; the English title moves to ``detail``.
    English keeps its specific message as the title, as before."""
    if language == DEFAULT:
        return body
    diagnosis = body.get("diagnosis")
    if isinstance(diagnosis, dict) and diagnosis.get("title"):
        title = str(diagnosis["title"])
    else:
        msgid = title_msgid(str(body.get("code", "")), int(body.get("status", 0)))
        title = translations(language).gettext(msgid) if msgid else ""
        if not title or title == msgid:  # no translation in this language: the English stays
            return body
    english = body.get("title")
    body = {**body, "title": title}
    if english and "detail" not in body:
        body["detail"] = english
    return body


def problem(status: int, *, code: str, title: str, detail: str | None = None,
            language: str = DEFAULT, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    body = localize(body, language)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def request_language(request: Request) -> str:
    """The caller's language: ``?lang=``, else Accept-Language, else English."""
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


# Codes whose status differs from their class's (checked before the class table).
_CODE_STATUS = {"request.message_too_large": 413, "request.unsupported_media_type": 415,
                "domain.check_rate_limited": 429, "oauth.not_configured": 501,
                "platform.reply_to_rate_limited": 429,
                # A feature this installation has not set up: the operator's choice, not a fault.
                "config.platform_missing": 501}


def status_for(exc: errors.MailportError) -> int:
    if exc.code in _CODE_STATUS:
        return _CODE_STATUS[exc.code]
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An error (RFC 9457). `code` is stable; `diagnosis` explains a mail server's failure "
                   "in the caller's language.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "examples": ["request.invalid_address"]},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "stage": {"type": "string"},
        "server_text": {"type": "string"},
        "retry_after": {"type": "integer", "minimum": 0,
                        "description": "Seconds to wait before asking again, also sent as the `Retry-After` "
                                       "header: our own rate limits (429), or the wait a mail provider named "
                                       "when it throttled us (502, codes `api.rate_limited`, "
                                       "`send.daily_limit_reached`)."},
        "diagnosis": {"$ref": "#/components/schemas/ExplainOut"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "discovery": {"type": "object"},
        "suppressed": {"type": "array", "items": {"type": "object"},
                       "description": "send.recipient_suppressed: the listed addresses and why."},
    },
}


def _document_problems(spec: dict[str, Any]) -> None:
    """Every error answer is problem+json (the handlers below), so say so in the document: each
    operation's ``default`` response and the 4xx it names (FastAPI's generated 422 describes its
    own error shape, which this app never sends)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = copy.deepcopy(PROBLEM_SCHEMA)
    if "ExplainOut" not in schemas:
        problem_schema["properties"]["diagnosis"] = {"type": "object"}
    schemas["Problem"] = problem_schema
    content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    # problem+json, plus any other media type the route names itself (the HTML
                    # page a browser's form post is answered with)
                    own = {k: v for k, v in response.get("content", {}).items() if k != "application/json"}
                    response["content"] = {**content, **own}
                    if status == "422":
                        response["description"] = "The request is not valid"
            responses.setdefault("default", {"description": "An error", "content": content})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def problem_of(exc: errors.MailportError, language: str) -> tuple[int, dict[str, Any]]:
    """The status and problem+json body of a mailport error (also one item of a batch)."""
    status = status_for(exc)
    extra: dict[str, Any] = {}
    server_text: str | None = None
    diagnosis_code = exc.code
    if isinstance(exc, errors.RemoteError):
        extra = {"stage": exc.stage, "server_text": exc.server_text}
        server_text = exc.server_text
    elif isinstance(exc, errors.SuppressedRecipientError):
        # Explained by the diagnosis of the bounce (or refusal) that put the recipient there.
        extra = {"suppressed": exc.suppressed}
        server_text, diagnosis_code = exc.server_text, exc.diagnosis_code or exc.code
    explanation = explain_code(diagnosis_code, language, server_text=server_text)
    if explanation is not None:
        extra["diagnosis"] = explanation.to_dict()
    if status >= 500 and status != 501 and not isinstance(exc, errors.RemoteError):
        log.error("request failed: %s (%s)", exc.code, exc)
    if isinstance(exc, errors.ValidationError) and exc.discovery is not None:
        extra["discovery"] = exc.discovery
    body: dict[str, Any] = {"type": "about:blank", "title": exc.message, "status": status, "code": exc.code}
    extra.update(field=exc.field, retry_after=retry_after(exc))
    body.update({k: v for k, v in extra.items() if v is not None})
    return status, localize(body, language)


def retry_after(exc: errors.MailportError) -> int | None:
    """Whole seconds the caller should wait: our own limit's, or the wait a provider named when it
    throttled us (Google's or Microsoft's ``Retry-After``), rounded up so that asking again on
    time is never too early."""
    if isinstance(exc, errors.TryLater):
        return exc.retry_after
    if isinstance(exc, errors.RemoteThrottled) and exc.retry_after is not None:
        return math.ceil(exc.retry_after)
    return None


def invalid_request(exc: RequestValidationError, language: str = DEFAULT) -> tuple[int, dict[str, Any]]:
    """The status and problem+json body of a request that does not fit its schema."""
    issues = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    json_broken = any(i["type"] == "json_invalid" for i in issues)
    status = 422 if not json_broken else 400
    body: dict[str, Any] = {
        "type": "about:blank", "status": status,
        "code": "request.invalid_json" if json_broken else "request.invalid",
        "title": "The request body is not valid JSON" if json_broken else "The request is not valid",
        "errors": issues,
    }
    fields = {_field_of(e.get("loc", ())) for e in exc.errors()}
    if len(fields) == 1 and None not in fields:
        # One field at fault: named as our own validation names it, so a form can mark it.
        body["field"] = fields.pop()
    return status, localize(body, language)


def _field_of(loc: Any) -> str | None:
    """``("body", "to", 0)`` → ``to[0]``; ``None`` for the body as a whole."""
    parts = list(loc)[1:] if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field or None


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document_problems(generate())  # FastAPI caches the document in app.openapi_schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(errors.MailportError)
    async def _mailport(request: Request, exc: errors.MailportError) -> JSONResponse:
        status, body = problem_of(exc, request_language(request))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        if isinstance(body.get("retry_after"), int):
            headers["Retry-After"] = str(body["retry_after"])
        return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, body = invalid_request(exc, request_language(request))
        return JSONResponse(body, status_code=status, media_type=PROBLEM)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(exc.status_code, code=code, title=detail or code, language=request_language(request))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error while handling a request")
        return problem(500, code="internal", title="Internal error; the operator's log has the details",
                       language=request_language(request))
