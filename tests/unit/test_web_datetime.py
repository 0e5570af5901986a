"""The pages' times: the user's language and time zone, to the minute."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailport.web.render import Texts

WHEN = datetime(2027, 1, 10, 9, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("lang", "expected"), [
    ("nl", "10 jan 2027, 10:00 CET"),
    ("de", "10.01.2027, 10:00 CET"),
    ("en", "Jan 10, 2027, 10:00\u202fAM CET"),
    ("fr", "10 janv. 2027, 10:00 CET"),
    ("it", "10 gen 2027, 10:00 CET"),
])
def test_a_time_in_the_users_language_and_zone_without_seconds(lang: str, expected: str) -> None:
    assert Texts(lang, "Europe/Amsterdam").datetime(WHEN) == expected


def test_stored_naive_and_text_times_are_utc() -> None:
    texts = Texts("nl", "Europe/Amsterdam")
    assert texts.datetime(WHEN.replace(tzinfo=None)) == texts.datetime(WHEN.isoformat()) == "10 jan 2027, 10:00 CET"
    assert texts.datetime(None) == texts.datetime("") == ""


def test_an_unknown_zone_falls_back_to_utc() -> None:
    assert Texts("nl", "Mars/Olympus").datetime(WHEN) == "10 jan 2027, 09:00 UTC"
