""""Send from Outlook / Microsoft 365" in a real browser (Debian's headless Chromium via Playwright):
mailport served by uvicorn with its embedded worker, the lab authorization server as Microsoft's
identity platform, the lab Graph server as Exchange Online in front of the real Dovecot/Postfix.

Settings › E-mail › Outlook / Microsoft 365 → "Sign in with Microsoft" → the consent page asks for
Mail.Send (and Mail.ReadWrite, for large attachments), no SMTP/IMAP → the mailbox is listed,
sending through Graph → "Send a test mail to myself" goes out through Graph and is in the mailbox →
an invoice with a 6 MB PDF (API) goes out through a draft and an upload session → the outbox page
shows it sent; Exchange filed the Sent Items copy, mailport made none.
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
from lab.graph_api import LabGraphServer, register_graph_client
from lab.graph_csdl import exchange_problems

pytestmark = [pytest.mark.browser, pytest.mark.lab]

USER, OTHER = "user@example.test", "user2@example.test"


@pytest.fixture
def service(tmp_path: Any, oauth_lab: Any) -> Iterator[tuple[str, str, Any, LabGraphServer]]:
    graph = LabGraphServer(oauth=oauth_lab.oauth, mail=oauth_lab).start()

    def runtime_for(base: str) -> Any:
        client_id, secret = register_graph_client(oauth_lab.oauth, f"{base}/oauth/callback")
        return make_runtime(
            tmp_path, **lab_settings(oauth_lab, base), oauth_microsoft_client_id=client_id,
            oauth_microsoft_client_secret=secret, graph_api_url=graph.root_url,
            **{f"oauth_microsoft_{k}": v for k, v in oauth_lab.oauth.endpoints().items()},
        )

    try:
        with served_mailport(runtime_for) as (base, api_key, runtime):
            oauth_lab.oauth.revoke_user(USER)
            yield base, api_key, runtime, graph
    finally:
        graph.stop()


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page() as page:
        yield page


def test_send_from_outlook_microsoft_365_through_graph(service: tuple[str, str, Any, LabGraphServer], page: Any,
                                                       oauth_lab: Any) -> None:
    base, api_key, runtime, graph = service
    auth = {"Authorization": f"Bearer {api_key}"}
    link = httpx.post(f"{base}/v1/ui-sessions", headers=auth,
                      json={"user_name": "Anna de Vries", "language": "en",
                            "return_url": "https://app.example-invoicing.test/settings"}).json()["url"]

    page.goto(link)
    page.get_by_role("link", name=re.compile("Outlook")).click()
    page.get_by_label("E-mail address").fill(USER)
    page.get_by_label("Sender name").fill("Bakkerij Outlook")
    page.get_by_role("button", name="Sign in with Microsoft").click()

    # Microsoft's page (the lab's chooser): the app asks to send mail, not for SMTP/IMAP.
    scope = dict(httpx.QueryParams(page.url.split("?", 1)[1]))["scope"].split()
    assert "https://graph.microsoft.com/Mail.Send" in scope
    assert not [s for s in scope if "outlook.office.com" in s]
    page.locator(f"button[data-email='{USER}']").click()
    page.wait_for_url(re.compile(r"/ui/settings/email\?method=smtp&saved=1"))
    row = page.locator(".account", has_text=USER)
    assert "Bakkerij Outlook" in row.inner_text()
    tenant = runtime.tenants.authenticate(api_key)
    account = runtime.accounts.find_by_email(tenant, USER)
    assert account is not None and account.transport == "graph" and not account.has_password
    assert row.get_by_role("button", name=re.compile("Switch to Microsoft Graph")).count() == 0

    # The test mail to myself, through Graph: sent, and it is in the mailbox.
    row.get_by_role("link", name=re.compile("Edit")).click()
    page.get_by_role("button", name="Send a test mail to myself").click()
    page.locator("#test-result .outcome").wait_for(timeout=60_000)
    assert page.locator("#test-result .outcome.ok").count() == 1, page.locator("#test-result").inner_text()
    stored = runtime.accounts.get(tenant, account.id)
    assert stored.status == "sent_unconfirmed" and stored.last_verification is not None
    test_id = stored.last_verification["roundtrip"]["message_id"]
    oauth_lab.wait_for_message(USER, headers={"Message-ID": test_id})
    assert [x.status for x in graph.operations("sendMail")] == [202]

    # An invoice with a 6 MB PDF from the host product: draft + upload session + send.
    pdf = b"%PDF-1.7\n" + os.urandom(6 * 1024 * 1024)
    sent = httpx.post(f"{base}/v1/messages", headers=auth, timeout=60, json={
        "account": account.id, "to": [{"email": OTHER, "name": "Klant"}], "subject": "Factuur 2026-0117",
        "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.",
        "attachments": [{"filename": "factuur-2026-0117.pdf", "content": base64.b64encode(pdf).decode()}],
    })
    assert sent.status_code == 202, sent.text
    view = wait_state(base, auth, sent.json()["id"], ("sent", "failed"))
    assert view["state"] == "sent", view
    got = oauth_lab.wait_for_message(OTHER, subject="Factuur 2026-0117")
    assert next(got.iter_attachments()).get_content() == pdf
    assert [x.status for x in graph.operations("uploadChunk")][-1] == 201
    assert graph.operations("send") and graph.operations("createUploadSession")
    copies = [m for m in oauth_lab.messages(USER, "Sent") if m["Subject"] == "Factuur 2026-0117"]
    assert len(copies) == 1  # filed by Exchange (saveToSentItems), not by an APPEND of ours
    assert view["sent_copy"] is None or view["sent_copy"]["state"] == "skipped", view["sent_copy"]

    page.goto(f"{base}/ui/outbox/{view['id']}")
    assert "Factuur 2026-0117" in page.content()
    assert page.locator(".badge.state-sent, .state-sent").count() >= 1
    # Everything mailport asked of Graph, and every answer, in Microsoft's published shapes.
    assert exchange_problems(graph.exchanges) == []
