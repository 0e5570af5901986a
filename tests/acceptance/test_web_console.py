"""The browser tests fail on any console error (issue 16, item 13), and that is proven here.

The ``page`` fixture (``test_web_browser.py``) watches every page of its context through
``pageguard``; these tests make a page really violate its Content-Security-Policy and throw, and
check the fixture's listener saw both — remove the listener and they fail. Then the four "Find my
settings" clicks that once logged 21 CSP errors run with none.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import test_web_browser as web
from test_web_browser import Service

service, browser, page = web.service, web.browser, web.page

pytestmark = [pytest.mark.browser, pytest.mark.lab]


def _until(errors: list[str], needle: str, page: Any, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while not any(needle in e for e in errors):
        assert time.monotonic() < deadline, f"the listener did not report {needle!r}: {errors}"
        page.wait_for_timeout(50)
    return [e for e in errors if needle in e]


def test_the_page_fixture_reports_a_real_csp_violation_and_a_script_error(service: Service, page: Any) -> None:
    page.goto(service.link(language="en"))
    response = page.goto(service.base + "/ui/settings/email")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    errors: list[str] = page.console_errors  # the fixture's own list (AttributeError: no listener)
    assert errors == []

    # An inline script, as an injected <script> element: the page's CSP refuses to run it.
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true';
        document.body.appendChild(s);
    }""")
    violation = _until(errors, "Content Security Policy", page)
    assert "inline script" in violation[0] and "script-src" in violation[0], violation
    assert page.evaluate("() => window.__inlineRan === undefined")  # it really did not run

    # An inline style attribute set by markup: refused as well, and reported.
    page.evaluate("""() => {
        const d = document.createElement('div');
        d.innerHTML = '<p style="color: red">x</p>';
        document.body.appendChild(d);
    }""")
    _until(errors, "inline style", page)

    # An uncaught exception in the page's own event loop (pageerror).
    page.evaluate("() => { setTimeout(() => { throw new Error('pageguard probe'); }, 0); }")
    assert _until(errors, "pageguard probe", page)[0].startswith("pageerror:")

    # Caused on purpose: cleared, so the fixture's own check passes (and proves it was this list).
    errors.clear()


def test_four_find_my_settings_clicks_without_a_console_error(service: Service, page: Any) -> None:
    """The four clicks of the report: found, not found, found, not found — each swaps the proposal
    and the server fields through htmx. Zero console errors, counted here and by the fixture."""
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    errors: list[str] = page.console_errors
    button = page.get_by_role("button", name="Find my settings")
    for email, expect in (("a@ziggo.nl", "found"), ("b@bakkerij.test", "not-found"),
                          ("c@kpnmail.nl", "found"), ("d@bakkerij.test", "not-found")):
        page.get_by_label(re.compile("E-mail address")).fill(email)
        button.click()
        page.locator(f"#proposal .proposal.{expect}").wait_for()
        page.locator(".proposal:focus").wait_for()
        assert email.split("@")[1] in page.locator("#proposal").inner_text()
    page.wait_for_timeout(300)  # a late report (a style applied after the swap) would land here
    assert errors == [], errors
