"""problem+json answers and transport failures -> the package's own error classes.

A caller of :mod:`mailport.client` catches the same :mod:`mailport.errors` classes the library
raises in-process. The class follows the answer's ``status`` and ``code``; the exception is also
an :class:`Answered`, carrying the HTTP ``status``, the parsed :class:`~mailport.client.models.Problem`
(``problem``), its localized ``diagnosis`` and ``retry_after``.
"""

from __future__ import annotations

import json
from typing import cast

import httpx
from pydantic import ValidationError as PydanticValidationError

from mailport import errors
from mailport.client.models import Diagnosis, Problem

__all__ = ["Answered", "RateLimited", "diagnosis_of", "error_from_response", "problem_of", "transport_error"]


class Answered:
    """What an error raised for an error answer carries besides its :mod:`mailport.errors` class."""

    status: int
    problem: Problem
    retry_after: int | None = None

    @property
    def diagnosis(self) -> Diagnosis | None:
        """The failure explained in the caller's language (title and steps), if the server gave one."""
        return self.problem.diagnosis


class RateLimited(errors.MailportError):
    """Too many requests of this kind; ``retry_after`` says how many seconds to wait."""

    code = "rate_limited"
    retry_after: int | None = None


_ANSWERED: dict[type[errors.MailportError], type[errors.MailportError]] = {}


def _answered(cls: type[errors.MailportError]) -> type[errors.MailportError]:
    """``cls`` with :class:`Answered` mixed in (one class per error class), so ``except cls`` holds."""
    if cls not in _ANSWERED:
        _ANSWERED[cls] = type(cls.__name__, (cls, Answered), {"__module__": __name__, "__qualname__": cls.__qualname__})
    return _ANSWERED[cls]


_BY_CODE: dict[str, type[errors.MailportError]] = {
    "request.invalid_address": errors.AddressError,
    "request.header_injection": errors.HeaderInjectionError,
    "net.host_not_allowed": errors.HostNotAllowed,
    "webhook.host_not_allowed": errors.HostNotAllowed,
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
    cls = _answered(_class_for(response.status_code, problem.code))
    retry_after = problem.retry_after
    if retry_after is None and response.headers.get("retry-after", "").isdigit():
        retry_after = int(response.headers["retry-after"])
    message = problem.title or problem.detail or problem.code
    error = (cls(message, code=problem.code, server_text=problem.server_text, stage=problem.stage)
             if issubclass(cls, errors.RemoteError) else cls(message, code=problem.code))
    error.field = problem.field
    answered = cast(Answered, error)
    answered.status, answered.problem, answered.retry_after = response.status_code, problem, retry_after
    return error


def transport_error(exc: httpx.TransportError, *, base_url: str) -> errors.RemoteError:
    """mailport itself could not be reached (or did not answer in time)."""
    if isinstance(exc, httpx.TimeoutException):
        return errors.RemoteTimeout(f"mailport at {base_url} did not answer in time",
                                    code="net.timeout", stage="api")
    return errors.NetworkError(f"mailport at {base_url} could not be reached: {type(exc).__name__}",
                               code="net.connection_refused", stage="api")


def problem_of(exc: BaseException) -> Problem | None:
    """The problem+json answer behind an error raised by the client, if there was one."""
    return exc.problem if isinstance(exc, Answered) else None


def diagnosis_of(exc: BaseException) -> Diagnosis | None:
    """The localized explanation (title and steps) of a failure, if the server gave one."""
    problem = problem_of(exc)
    return problem.diagnosis if problem else None
