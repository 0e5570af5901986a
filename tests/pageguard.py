"""Every browser test fails on a console error: the one listener all page fixtures attach.

Chromium reports a Content-Security-Policy violation ("Refused to execute inline script …",
"Refused to apply inline style …") as a console message of type ``error``; an uncaught script
exception comes as ``pageerror``. :func:`watch` collects both for a page (and for every page the
context opens later, such as a sign-in pop-up); the fixture asserts the list is empty after the test.
``tests/acceptance/test_web_console.py`` proves the listener catches a real CSP violation.
"""

from __future__ import annotations

from typing import Any

# Not ours: a page without a favicon (the lab's OAuth and provider pages) gets a 404 for it.
IGNORED_URL_ENDINGS = ("/favicon.ico",)


def watch(page: Any, errors: list[str] | None = None) -> list[str]:
    """Start collecting ``page``'s console errors and uncaught exceptions into ``errors`` (a new
    list if none is given); returns that live list, also kept as ``page.console_errors``."""
    collected: list[str] = [] if errors is None else errors

    def on_console(message: Any) -> None:
        url = str(message.location.get("url", ""))
        if message.type == "error" and not url.endswith(IGNORED_URL_ENDINGS):
            collected.append(f"console: {message.text} (at {url or page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: collected.append(f"pageerror: {exc}"))
    page.console_errors = collected
    return collected


def watch_context(context: Any) -> list[str]:
    """:func:`watch` every page of ``context`` (those it opens later too) into one list."""
    errors: list[str] = []
    context.on("page", lambda page: watch(page, errors))
    for page in context.pages:
        watch(page, errors)
    return errors


def expect(page: Any, needle: str) -> None:
    """A test that provokes an error on purpose (a page answered with an error status) takes it
    off the list, by name: it must have been reported, and nothing else is excused."""
    errors: list[str] = page.console_errors
    matched = [e for e in errors if needle in e]
    assert matched, f"expected a console error with {needle!r}, got {errors}"
    errors[:] = [e for e in errors if needle not in e]


def assert_clean(errors: list[str]) -> None:
    """A CSP violation or a script error on a page under test fails the test."""
    assert not errors, errors
