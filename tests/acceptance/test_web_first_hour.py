"""What a small business hits in its first hour on the pages (issue 16), in a real browser.

Same service, browser and page fixtures as ``test_web_browser.py`` — the page fixture fails a test
on any console error (a CSP violation included). ``MAILPORT_SCREENSHOTS=1`` rewrites screenshots.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import test_web_browser as web
from test_web_browser import PASSWORD, Service

# The same fixtures (pytest finds them by attribute).
service, browser, page, lab_user = web.service, web.browser, web.page, web.lab_user

pytestmark = [pytest.mark.browser, pytest.mark.lab]

SERVER_FIELDS = ("smtp_host", "smtp_port", "smtp_username", "imap_host", "imap_port", "imap_username")


def _values(page: Any) -> dict[str, str]:
    return {name: page.locator(f"#f-{name}").input_value() for name in SERVER_FIELDS} | {
        "provider_id": page.locator("input[name=provider_id]").input_value()}


def _find(page: Any, email: str, expect: str) -> None:
    page.get_by_label(re.compile("E-mail address|E-mailadres")).fill(email)
    page.locator("button[formaction$='/discover']").click()
    page.locator(f"#proposal .proposal.{expect}", has_text="").wait_for()
    page.wait_for_function("document.activeElement.classList.contains('proposal')")


def test_a_new_lookup_clears_what_the_old_one_filled(service: Service, page: Any) -> None:
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    _find(page, "someone@ziggo.nl", "found")
    page.locator("#advanced summary").click()
    filled = _values(page)
    assert filled["smtp_host"] == "smtp.ziggo.nl" and filled["provider_id"] == "ziggo", filled

    # Another address that nothing is known about: none of Ziggo's servers may stay behind.
    _find(page, "info@bakkerij-jansen.test", "not-found")
    after = _values(page)
    assert after == dict.fromkeys(after, ""), after
    # A test now asks for the servers instead of sending this user's password to Ziggo.
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="Send a test mail to myself").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "smtp.ziggo.nl" not in page.content()

    # What the user typed by hand survives a lookup; a found provider replaces only its own fields.
    page.locator("#f-smtp_host").fill("mail.bakkerij-jansen.test")
    _find(page, "info@bakkerij-jansen.test", "not-found")
    assert page.locator("#f-smtp_host").input_value() == "mail.bakkerij-jansen.test"


def test_four_lookups_without_a_console_error(service: Service, page: Any) -> None:
    """Each click swaps the proposal and the server fields; none may trip the CSP (the page
    fixture fails the test on any console error)."""
    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    for email, expect in (("a@ziggo.nl", "found"), ("b@bakkerij.test", "not-found"),
                          ("c@kpnmail.nl", "found"), ("d@bakkerij.test", "not-found")):
        _find(page, email, expect)
