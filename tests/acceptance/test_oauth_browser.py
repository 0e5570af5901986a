"""Connecting a mailbox with "Sign in with Google" in a real browser (Debian's headless Chromium
via Playwright): mailport served by uvicorn, the lab's authorization server as Google, the lab's
OAuth Dovecot/Postfix behind. The browser clicks through the account chooser, first picking the
wrong account (and sees which one it picked), then retries with the right one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_browser import chromium_page, served_mailport

import pageguard
from dbfixtures import make_runtime

pytestmark = [pytest.mark.browser, pytest.mark.lab]


@pytest.fixture
def service(tmp_path: Any, oauth_lab: Any) -> Iterator[tuple[str, str, Any]]:
    def runtime_for(base: str) -> Any:
        oauth_lab.oauth.allow_redirect(oauth_lab.client_id, f"{base}/oauth/callback")
        return make_runtime(
            tmp_path, allow_private_hosts=True, ca_file=str(oauth_lab.ca_pem_path), public_url=base,
            connect_timeout=5.0, oauth_google_scope_profile="imap_smtp", oauth_google_client_id=oauth_lab.client_id,
            oauth_google_client_secret=oauth_lab.client_secret,
            **{f"oauth_google_{k}": v for k, v in oauth_lab.oauth.endpoints().items()},
        )

    with served_mailport(runtime_for, embedded_worker=False, tenant_name="Fotostudio") as served:
        yield served


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page() as page:
        yield page


def test_sign_in_with_google_in_the_browser(service: tuple[str, str, Any], page: Any, oauth_lab: Any) -> None:
    base, api_key, _ = service
    auth = {"Authorization": f"Bearer {api_key}"}
    servers = {"smtp": {"host": "127.0.0.1", "port": oauth_lab.submission_port, "security": "starttls"},
               "imap": {"host": "127.0.0.1", "port": oauth_lab.imaps_port, "security": "tls"}}
    started = httpx.post(f"{base}/v1/accounts/oauth/google/start", headers=auth,
                         json={"login_hint": "user@example.test", **servers})
    assert started.status_code == 200, started.text

    # The provider's account chooser; the user picks the other account they are signed in to.
    page.goto(started.json()["authorization_url"])
    assert page.title() == "Lab sign-in"
    assert "(suggested)" in page.locator("button[data-email='user@example.test']").inner_text()
    page.click("button[data-email='user2@example.test']")
    page.wait_for_selector("#message")
    assert page.title() == "A different account was signed in"
    assert page.locator("#signed-in").inner_text() == "user2@example.test"
    assert "you wanted to connect user@example.test" in page.locator("#message").inner_text()
    assert httpx.get(f"{base}/v1/accounts", headers=auth).json() == []
    # That page is answered with 400, which Chromium logs: expected here, and only this once.
    pageguard.expect(page, "status of 400 (Bad Request) (at " + base + "/oauth/callback")

    # "Try again" goes back to the chooser; this time the right account.
    page.click("#retry")
    page.click("button[data-email='user@example.test']")
    page.wait_for_selector("#message")
    assert page.title() == "Mailbox connected"
    assert "user@example.test is connected" in page.locator("#message").inner_text()
    accounts = httpx.get(f"{base}/v1/accounts", headers=auth).json()
    assert [(a["email"], a["auth_kind"]) for a in accounts] == [("user@example.test", "oauth2")]

    # And the connection works: a verification logs in with the token on both servers.
    report = httpx.post(f"{base}/v1/accounts/{accounts[0]['id']}/verify", headers=auth, timeout=60).json()
    assert [s["status"] for s in report["stages"] if s["stage"] in ("smtp.auth", "imap.login")] == ["ok", "ok"]
