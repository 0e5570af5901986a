"""Google's error answers become mailport errors with stable diagnosis codes (adapters/gmail.py),
and the shared provider-API layer reads Retry-After and JSON error bodies (adapters/provider_api.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailport.adapters.gmail import NOT_FOUND, translate_gmail_error
from mailport.adapters.provider_api import MAX_RETRY_AFTER, ApiFailure, parse_retry_after
from mailport.core.diagnostics import CODES
from mailport.diagnosis_text import explain_code
from mailport.errors import RemoteAuthError, RemoteError, RemoteRejected, RemoteThrottled


def failure(status: int, reason: str, message: str = "", retry_after: float | None = None) -> ApiFailure:
    return ApiFailure(status=status, reason=reason, message=message, retry_after=retry_after, stage="gmail.send")


@pytest.mark.parametrize(("status", "reason", "message", "kind", "code"), [
    (403, "userRateLimitExceeded", "User-rate limit exceeded.", RemoteThrottled, "api.rate_limited"),
    (403, "rateLimitExceeded", "Rate Limit Exceeded", RemoteThrottled, "api.rate_limited"),
    (429, "rateLimitExceeded", "Too many concurrent requests for user", RemoteThrottled, "api.rate_limited"),
    (403, "dailyLimitExceeded", "Daily user sending limit exceeded.", RemoteThrottled, "send.daily_limit_reached"),
    (400, "failedPrecondition", "Daily sending quota exceeded", RemoteThrottled, "send.daily_limit_reached"),
    (403, "insufficientPermissions", "Request had insufficient authentication scopes.", RemoteAuthError,
     "auth.insufficient_permissions"),
    (401, "authError", "Invalid Credentials", RemoteAuthError, "auth.token_invalid"),
    (400, "failedPrecondition", "Mail service not enabled", RemoteRejected, "send.account_blocked"),
    (404, "notFound", "Requested entity was not found.", RemoteRejected, NOT_FOUND),
    (400, "invalidArgument", "Invalid To header", RemoteRejected, "send.recipient_unknown"),
    (500, "backendError", "Backend Error", RemoteError, "server.temporary_failure"),
    (502, "", "Bad Gateway", RemoteError, "server.temporary_failure"),
])
def test_gmail_errors_translate_to_stable_codes(status: int, reason: str, message: str, kind: type,
                                                 code: str) -> None:
    error = translate_gmail_error(failure(status, reason, message, retry_after=2.0))
    assert type(error) is kind and error.code == code
    assert error.stage == "gmail.send" and reason in (error.server_text or "")
    if isinstance(error, RemoteThrottled):
        assert error.retry_after == 2.0


@pytest.mark.parametrize("code", ["api.rate_limited", "auth.insufficient_permissions", "auth.token_invalid",
                                  "send.daily_limit_reached"])
@pytest.mark.parametrize("lang", ["en", "nl", "de", "it", "fr"])
def test_gmail_diagnoses_have_texts_and_steps_in_every_ui_language(code: str, lang: str) -> None:
    text = explain_code(code, lang, email="boekhouding@gmail.com")
    assert text is not None and text.title and text.steps
    if lang != "en":
        assert text.title != explain_code(code, "en", email="boekhouding@gmail.com").title  # type: ignore[union-attr]


def test_rate_limits_are_retryable_and_permissions_are_not() -> None:
    assert CODES["api.rate_limited"].retryable and CODES["api.rate_limited"].severity == "warning"
    assert not CODES["auth.insufficient_permissions"].retryable


def test_retry_after_seconds_dates_and_nonsense() -> None:
    now = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Sun, 06 Dec 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Sun, 06 Dec 2026 11:00:00 GMT", now=now) == 0.0  # in the past: now
    assert parse_retry_after("99999999") == MAX_RETRY_AFTER  # capped at a day
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("nan") is None
