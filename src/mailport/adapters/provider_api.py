"""The HTTP layer the Gmail API and Microsoft Graph adapters share (httpx).

What every call to a provider's mail API needs, in one place:

* a bearer token from a :class:`TokenSource` (``OAuthService.token_source``), and when the API
  answers ``401`` — access tokens can die before their announced expiry — one refresh
  (``rejected_token=``) and one retry; a second ``401`` is the provider's verdict;
* ``429`` and ``503`` (and Google's ``403 rateLimitExceeded`` family, which the adapter's
  translator recognises) become :class:`~mailport.errors.RemoteThrottled` with the
  ``Retry-After`` wait — a deferral, never a failure;
* every other error answer goes through the adapter's ``translate`` function, which reads the
  provider's JSON error body (:class:`ApiFailure`) and returns the ``mailport.errors`` exception
  with a stable diagnosis code; network failures become ``NetworkError`` / ``RemoteTimeout``.

Nothing here knows Google or Microsoft: the adapters (``adapters/gmail.py``, ``adapters/graph.py``)
bring the base URL, the error parser and the translator. Tokens and bodies are never logged.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, Self

import httpx

from mailport.adapters.http import new_client
from mailport.errors import (
    NetworkError,
    RemoteAuthError,
    RemoteError,
    RemoteRejected,
    RemoteThrottled,
    RemoteTimeout,
    TLSError,
)

__all__ = ["ApiFailure", "ProviderApi", "TokenSource", "Translator", "parse_retry_after", "rejected"]

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 24 * 3600.0
"""A ``Retry-After`` further out than a day is taken as a day (the outbox gives up after days,
and a broken header must not park a message for a year)."""


class TokenSource(Protocol):
    """A usable access token; a fresh one when the API just refused ``rejected_token``."""

    def __call__(self, *, rejected_token: str | None = None) -> Awaitable[str]: ...


@dataclass(frozen=True, slots=True)
class ApiFailure:
    """An error answer as the adapters' translators see it.

    ``reason``: the provider's machine-readable reason (Google ``error.errors[0].reason`` or
    ``error.status``; Graph ``error.code``); ``message``: its human text; ``body``: the parsed JSON
    (``{}`` when the body was not JSON).
    """

    status: int
    reason: str
    message: str
    retry_after: float | None
    stage: str
    body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def server_text(self) -> str:
        return f"{self.status} {self.reason}: {self.message}".strip()[:2000]


Translator = Callable[[ApiFailure], RemoteError]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _failure(response: httpx.Response, stage: str) -> ApiFailure:
    body: Any = {}
    try:
        body = json.loads(response.content) if response.content else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error = body.get("error")
    reason, message = "", ""
    if isinstance(error, dict):
        errors = error.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        reason = str(first.get("reason") or error.get("code") or error.get("status") or "")
        message = str(error.get("message") or first.get("message") or "")
    elif isinstance(error, str):  # OAuth-style {"error": "invalid_token", "error_description": …}
        reason, message = error, str(body.get("error_description") or "")
    if not message:
        message = response.reason_phrase or ""
    return ApiFailure(status=response.status_code, reason=reason, message=message[:1000],
                      retry_after=parse_retry_after(response.headers.get("retry-after")),
                      stage=stage, body=body)


class ProviderApi:
    """Authorized requests to one provider API for one account.

    ``translate`` turns an error answer into the exception to raise; it may return a
    :class:`~mailport.errors.RemoteThrottled` itself (Google's 403 rate limits). ``client``: an
    ``httpx.AsyncClient`` to share (tests, connection reuse); by default one per instance,
    closed by :meth:`aclose`.
    """

    def __init__(self, *, base_url: str, tokens: TokenSource, translate: Translator, timeout: float = 60.0,
                 ca_file: str = "", client: httpx.AsyncClient | None = None,
                 user_agent: str = "mailport") -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._translate = translate
        self._own_client = client is None
        self._client = client or new_client(timeout=timeout, connect_timeout=15.0, ca_file=ca_file,
                                            headers={"User-Agent": user_agent})

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def url(self, path: str) -> str:
        return path if path.startswith(("https://", "http://")) else f"{self.base_url}{path}"

    async def request(self, method: str, path: str, *, stage: str, params: Any = None,
                      json_body: Any = None, content: bytes | None = None,
                      headers: Mapping[str, str] | None = None, authorized: bool = True) -> httpx.Response:
        """One API call; a 2xx/3xx response, or the translated error raised.

        ``path`` is relative to the base URL, or absolute (upload URLs, next-page links the API
        handed out). ``params``: a mapping, or a list of pairs for repeated names.
        ``authorized=False`` for pre-authorized URLs (Graph upload sessions), which
        must not carry the bearer token.
        """
        token = await self._tokens() if authorized else None
        refreshed = False
        while True:
            send_headers = dict(headers or {})
            if token is not None:
                send_headers["Authorization"] = f"Bearer {token}"
            try:
                response = await self._client.request(method, self.url(path), params=params, json=json_body,
                                                      content=content, headers=send_headers)
            except httpx.TimeoutException as exc:
                raise RemoteTimeout(f"the provider API did not answer in time ({stage})", stage=stage) from exc
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise TLSError("the provider API's certificate was not accepted", stage=stage) from exc
                raise NetworkError(f"the provider API could not be reached ({stage})", stage=stage) from exc
            except httpx.HTTPError as exc:
                raise NetworkError(f"the connection to the provider API failed ({stage})", stage=stage) from exc
            if response.status_code < 400:
                return response
            failure = _failure(response, stage)
            if response.status_code == 401 and token is not None and not refreshed:
                # Refresh once: a token revoked or expired early. The token source refreshes only
                # if the stored token is still the refused one, so parallel sends refresh once.
                refreshed = True
                log.info("provider API refused the access token at %s; refreshing once", stage)
                token = await self._tokens(rejected_token=token)
                continue
            if response.status_code in (429, 503):
                raise RemoteThrottled(
                    f"the provider asks to slow down ({failure.reason or response.status_code})",
                    retry_after=failure.retry_after, server_text=failure.server_text, stage=stage)
            error = self._translate(failure)
            if response.status_code == 401 and not isinstance(error, RemoteAuthError):
                error = RemoteAuthError(failure.message or "the provider refused the access token",
                                        code="auth.token_invalid", server_text=failure.server_text, stage=stage)
            raise error


def rejected(failure: ApiFailure, code: str, message: str) -> RemoteRejected:
    """Shorthand for translators: a permanent refusal with ``code``."""
    return RemoteRejected(message, code=code, server_text=failure.server_text, stage=failure.stage)
