"""Language negotiation (RFC 9110 Accept-Language) and catalog loading."""

from __future__ import annotations

import pytest

from mailport.i18n import (
    COMPLETE,
    DEFAULT,
    SUPPORTED,
    gettext,
    negotiate,
    normalize,
    translations,
)


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        (None, None, "en"),
        ("", None, "en"),
        ("nl", None, "nl"),
        ("nl-BE", None, "nl"),  # region falls back to the language
        ("de-AT,de;q=0.9,en;q=0.8", None, "de"),
        ("en-US,en;q=0.9,fr;q=0.8", None, "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", None, "fr"),
        ("es, nl;q=0.8", None, "nl"),  # first supported wins when the best is not
        ("da-DK", None, "da"),
        ("nb-NO", None, "nb"),
        ("no", None, "nb"),
        ("nn-NO", None, "nb"),
        ("sv-FI, fi;q=0.9", None, "sv"),
        ("en;q=0.5, it;q=0.9", None, "it"),  # weights, not order
        ("it;q=0.8, nl;q=0.8", None, "it"),  # equal weights keep the client's order
        ("nl;q=0, de", None, "de"),  # q=0 means "not acceptable"
        ("ja, *", None, "en"),
        ("zh-Hant-TW", None, "en"),
        ("nl;q=abc, fr", None, "fr"),  # malformed weight: that range is ignored
        ("nl;q=1.5, fr", None, "fr"),  # weight out of range: ignored
        ("de_DE", None, "de"),  # underscores as sent by some clients
        ("garbage!!, it", None, "it"),
        ("de", "fr", "fr"),  # ?lang= / --lang wins
        ("de", "FR-be", "fr"),
        ("de", "xx", "de"),  # unsupported explicit language: fall back to the header
        (None, "", "en"),
    ],
)
def test_negotiate(header: str | None, query: str | None, expected: str) -> None:
    assert negotiate(header, query) == expected


def test_supported_languages() -> None:
    assert COMPLETE == ("en", "nl", "de", "it", "fr")
    assert set(COMPLETE) <= set(SUPPORTED)
    assert {"da", "nb", "sv"} <= set(SUPPORTED)
    assert DEFAULT == "en"


@pytest.mark.parametrize(("tag", "expected"), [("NL", "nl"), ("nl_BE", "nl"), ("*", None),
                                               ("", None), (None, None), ("es", None)])
def test_normalize(tag: str | None, expected: str | None) -> None:
    assert normalize(tag) == expected


def test_translations_are_cached_and_english_passes_through() -> None:
    assert translations("nl", "diagnostics") is translations("nl", "diagnostics")
    assert gettext("en", "Anything at all") == "Anything at all"
    assert gettext("de", "Too many sign-in attempts", domain="diagnostics") == (
        "Zu viele Anmeldeversuche"
    )


def test_unknown_domain_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown gettext domain"):
        translations("nl", "diagnostic")
