""""Send from Gmail" in a real browser (Debian's headless Chromium via Playwright): mailport served
by uvicorn with its embedded worker, the lab authorization server as Google's, the lab Gmail v1
server in front of the real Dovecot.

Settings › E-mail › Gmail: the page says what the user is about to allow and why → "Sign in with
Google" → Google's consent page (the lab's) asks for ``gmail.send`` only (no restricted scope) →
the mailbox is listed, sending through the Gmail API → "Send a test mail to myself" goes out
through the API and is in the mailbox → an invoice with a 10 MB PDF from the host product goes out
as a media upload → its status is ``sent``; Gmail filed the Sent copy, mailport made none.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_browser import chromium_page, lab_settings, served_mailport, wait_state

from dbfixtures import make_runtime

pytestmark = [pytest.mark.browser, pytest.mark.lab]

GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
CUSTOMER = "user2@example.test"


@pytest.fixture
def service(tmp_path: Any, oauth_lab: Any, gmail_lab: Any) -> Iterator[tuple[str, str, Any]]:
    def runtime_for(base: str) -> Any:
        oauth_lab.oauth.allow_redirect(oauth_lab.client_id, f"{base}/oauth/callback")
        return make_runtime(
            tmp_path, **lab_settings(oauth_lab, base), oauth_google_client_id=oauth_lab.client_id,
            oauth_google_client_secret=oauth_lab.client_secret, gmail_api_url=gmail_lab.base_url,
            **{f"oauth_google_{k}": v for k, v in oauth_lab.oauth.endpoints().items()},
        )

    with served_mailport(runtime_for) as served:
        yield served


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page() as page:
        yield page


def test_send_from_gmail_through_the_gmail_api(service: tuple[str, str, Any], page: Any, oauth_lab: Any,
                                               gmail_lab: Any) -> None:
    base, api_key, runtime = service
    user = gmail_lab.user
    auth = {"Authorization": f"Bearer {api_key}"}
    link = httpx.post(f"{base}/v1/ui-sessions", headers=auth,
                      json={"user_name": "Anna de Vries", "language": "nl",
                            "return_url": "https://app.example-invoicing.test/settings"}).json()["url"]

    page.goto(link)
    page.get_by_role("link", name=re.compile("Gmail")).click()
    # Before signing in, the page says what Google will ask for and why — in the user's language.
    permissions = page.locator("#permissions-google").inner_text()
    assert "E-mail versturen namens jou" in permissions and "Je e-mailadres zien" in permissions
    assert "Je e-mail lezen" not in permissions  # the send profile does not read mail
    page.get_by_label("E-mailadres").fill(user)
    page.get_by_label("Afzendernaam").fill("Bakkerij Gmail")
    page.get_by_role("button", name="Aanmelden met Google").click()

    # Google's consent page (the lab's): gmail.send only, no https://mail.google.com/.
    page.wait_for_selector("#scopes")
    asked = [li.get_attribute("data-scope") for li in page.locator("#scopes li").all()]
    assert asked == [GMAIL_SEND, "openid", "email"]
    page.locator(f"button[data-email='{user}']").click()
    page.wait_for_url(re.compile(r"/ui/settings/email\?method=smtp&saved=1"))
    row = page.locator(".account", has_text=user)
    assert "Bakkerij Gmail" in row.inner_text()
    tenant = runtime.tenants.authenticate(api_key)
    account = runtime.accounts.find_by_email(tenant, user)
    assert account is not None and account.transport == "gmail_api" and not account.has_password

    # The test mail to myself through the Gmail API: sent, and it is in the mailbox.
    row.get_by_role("link", name=re.compile("Bewerken|Edit")).click()
    page.get_by_role("button", name="Stuur een testmail naar mezelf").click()
    page.locator("#test-result .outcome").wait_for(timeout=60_000)
    assert page.locator("#test-result .outcome.ok").count() == 1, page.locator("#test-result").inner_text()
    stored = runtime.accounts.get(tenant, account.id)
    assert stored.status == "sent_unconfirmed" and stored.last_verification is not None
    oauth_lab.wait_for_message(user, headers={"Message-ID": stored.last_verification["roundtrip"]["message_id"]})
    assert [e.status for e in gmail_lab.requests("gmail.users.messages.send")] == [200]

    # An invoice with a 10 MB PDF from the host product: a media upload to users.messages.send.
    pdf = b"%PDF-1.7\n" + os.urandom(10 * 1024 * 1024)
    sent = httpx.post(f"{base}/v1/messages", headers=auth, timeout=60, json={
        "account": account.id, "to": [{"email": CUSTOMER, "name": "Klant"}], "subject": "Factuur 2026-0118",
        "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.",
        "attachments": [{"filename": "factuur-2026-0118.pdf", "content": base64.b64encode(pdf).decode()}],
    })
    assert sent.status_code == 202, sent.text
    view = wait_state(base, auth, sent.json()["id"], ("sent", "failed"))
    assert view["state"] == "sent", view
    got = oauth_lab.wait_for_message(CUSTOMER, subject="Factuur 2026-0118", timeout=30)
    assert next(got.iter_attachments()).get_content() == pdf
    upload = gmail_lab.requests("gmail.users.messages.send")[-1]
    assert upload.path == "/upload/gmail/v1/users/me/messages/send" and dict(upload.query)["uploadType"] == "multipart"
    copies = [m for m in oauth_lab.messages(user, "Sent") if m["Subject"] == "Factuur 2026-0118"]
    assert len(copies) == 1  # filed by Gmail, not by an APPEND of ours
    assert view["sent_copy"] is None or view["sent_copy"]["state"] == "skipped", view["sent_copy"]

    page.goto(f"{base}/ui/outbox/{view['id']}")
    assert "Factuur 2026-0118" in page.content()
    assert page.locator(".badge.state-sent, .state-sent").count() >= 1
