"""``retry_after`` in a problem+json answer: our own limits' wait, and the wait a provider named
when it throttled us (whole seconds, rounded up: asking again on time is never too early)."""

from __future__ import annotations

from mailport import errors
from mailport.api.problems import PROBLEM_SCHEMA, problem_of


def test_a_provider_throttle_carries_its_wait_rounded_up() -> None:
    status, body = problem_of(errors.RemoteThrottled("Google asks to slow down", retry_after=2.2,
                                                     stage="gmail.get"), "en")
    assert status == 502 and body["code"] == "api.rate_limited" and body["retry_after"] == 3


def test_a_daily_limit_keeps_its_code_and_carries_the_wait() -> None:
    status, body = problem_of(errors.RemoteThrottled("limit", code="send.daily_limit_reached", retry_after=3600.0),
                              "nl")
    assert (status, body["code"], body["retry_after"]) == (502, "send.daily_limit_reached", 3600)


def test_no_wait_named_means_no_retry_after() -> None:
    _, body = problem_of(errors.RemoteThrottled("overloaded"), "en")
    assert "retry_after" not in body


def test_our_own_limit_still_says_its_wait() -> None:
    status, body = problem_of(errors.TryLater("checked a moment ago", code="domain.check_rate_limited",
                                              retry_after=30), "en")
    assert (status, body["retry_after"]) == (429, 30)


def test_the_schema_documents_both_sources() -> None:
    described = PROBLEM_SCHEMA["properties"]["retry_after"]["description"]
    assert "Retry-After" in described and "api.rate_limited" in described
