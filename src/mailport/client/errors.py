"""problem+json answers and transport failures -> the package's own error classes.

A caller of :mod:`mailport.client` catches the same :mod:`mailport.errors` classes the library
raises in-process. The class follows the answer's ``status`` and ``code``; the exception keeps
the ``code`` and, in ``fields``, the parsed :class:`~mailport.client.models.Problem`
(``fields["problem"]``), the localized ``fields["diagnosis"]`` and the HTTP ``fields["status"]``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import ValidationError as PydanticValidationError

from mailport import errors
from mailport.client.models import Diagnosis, Problem

__all__ = ["RateLimited", "diagnosis_of", "error_from_response", "problem_of", "transport_error"]


class RateLimited(errors.MailportError):
    """Too many requests of this kind; ``retry_after`` says how many seconds to wait."""

    code = "rate_limited"

    @property
    def retry_after(self) -> int | None:
        value = self.fields.get("retry_after")
        return value if isinstance(value, int) else None


_BY_CODE: dict[str, type[errors.MailportError]] = {
    "request.invalid_address": errors.AddressError,
    "request.header_injection": errors.HeaderInjectionError,
    "net.host_not_allowed": errors.HostNotAllowed,
    "net.timeout": errors.RemoteTimeout,
}

_BY_STATUS: dict[int, type[errors.MailportError]] = {
    400: errors.ValidationError,
    401: errors.Unauthenticated,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.ValidationError,
    409: errors.Conflict,
    413: errors.ValidationError,
    415: errors.ValidationError,
    422: errors.ValidationError,
    429: RateLimited,
    503: errors.StorageError,
}

# A 502 is a remote mail server's failure: the diagnosis code's family picks the class.
_REMOTE_FAMILIES: dict[str, type[errors.RemoteError]] = {
    "net": errors.NetworkError,
    "dns": errors.NetworkError,
    "tls": errors.TLSError,
    "auth": errors.RemoteAuthError,
    "oauth": errors.RemoteAuthError,
}


def _class_for(status: int, code: str) -> type[errors.MailportError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status == 502:
        return _REMOTE_FAMILIES.get(code.partition(".")[0], errors.RemoteError)
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if code.startswith("secret."):
        return errors.SecretError
    if code.startswith("config."):
        return errors.ConfigurationError
    return errors.MailportError


def _problem(response: httpx.Response) -> Problem:
    try:
        body = json.loads(response.content)
        if isinstance(body, dict):
            body.setdefault("status", response.status_code)
            body.setdefault("code", f"http.{response.status_code}")
            return Problem.model_validate(body)
    except (ValueError, PydanticValidationError):
        pass
    # Not a problem document (a proxy's error page, say): keep the status, not the page.
    return Problem(status=response.status_code, code=f"http.{response.status_code}",
                   title=response.reason_phrase or f"HTTP {response.status_code}")


def error_from_response(response: httpx.Response) -> errors.MailportError:
    """The exception for an error answer (status ≥ 400)."""
    problem = _problem(response)
    cls = _class_for(response.status_code, problem.code)
    fields: dict[str, Any] = {
        "status": response.status_code,
        "problem": problem,
        "diagnosis": problem.diagnosis,
        "field": problem.field,
    }
    retry_after = problem.retry_after
    if retry_after is None and response.headers.get("retry-after", "").isdigit():
        retry_after = int(response.headers["retry-after"])
    if retry_after is not None:
        fields["retry_after"] = retry_after
    message = problem.title or problem.detail or problem.code
    if issubclass(cls, errors.RemoteError):
        return cls(message, code=problem.code, server_text=problem.server_text, stage=problem.stage, **fields)
    return cls(message, code=problem.code, **fields)


def transport_error(exc: httpx.TransportError, *, base_url: str) -> errors.RemoteError:
    """mailport itself could not be reached (or did not answer in time)."""
    if isinstance(exc, httpx.TimeoutException):
        return errors.RemoteTimeout(f"mailport at {base_url} did not answer in time",
                                    code="net.timeout", stage="api")
    return errors.NetworkError(f"mailport at {base_url} could not be reached: {type(exc).__name__}",
                               code="net.connection_refused", stage="api")


def problem_of(exc: BaseException) -> Problem | None:
    """The problem+json answer behind an error raised by the client, if there was one."""
    fields = getattr(exc, "fields", None)
    value = fields.get("problem") if isinstance(fields, dict) else None
    return value if isinstance(value, Problem) else None


def diagnosis_of(exc: BaseException) -> Diagnosis | None:
    """The localized explanation (title and steps) of a failure, if the server gave one."""
    problem = problem_of(exc)
    return problem.diagnosis if problem else None
