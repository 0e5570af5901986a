"""Issue 7 end to end, without the internet: a local OAuth2/OIDC authorization server plays
Google, the lab's own Dovecot + Postfix validate the bearer tokens by introspection.

connect (start -> authorization page -> callback -> account with an encrypted refresh token)
-> verify (round trip, XOAUTH2 on SMTP and IMAP) -> send -> token expiry -> automatic refresh ->
send again; a revoked grant -> ``auth.token_invalid`` and ``needs_reconnect`` (+ the event, once);
the wrong Google account -> a clear message, nothing created; removal revokes the grant.
"""

from __future__ import annotations

import asyncio
import email.policy
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.adapters.smtp import SmtpSession
from mailport.api.app import create_app
from mailport.errors import RemoteAuthError
from mailport.runtime import Runtime

pytestmark = pytest.mark.lab

CALLBACK = "http://testserver/oauth/callback"
USER = "user@example.test"
OTHER = "user2@example.test"


class ShiftClock:
    """The system clock plus an offset the test moves forward (token lifetimes are hours)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def oauth_settings(oauth_lab: Any) -> dict[str, object]:
    endpoints = oauth_lab.oauth.endpoints()
    oauth_lab.oauth.allow_redirect(oauth_lab.client_id, CALLBACK)
    return {
        "allow_private_hosts": True, "ca_file": str(oauth_lab.ca_pem_path), "public_url": "http://testserver",
        "verify_roundtrip_timeout": 20.0, "connect_timeout": 5.0,
        "oauth_google_client_id": oauth_lab.client_id, "oauth_google_client_secret": oauth_lab.client_secret,
        **{f"oauth_google_{k}": v for k, v in endpoints.items()},
        "oauth_microsoft_client_id": oauth_lab.client_id,
        "oauth_microsoft_client_secret": oauth_lab.client_secret,
        **{f"oauth_microsoft_{k}": v for k, v in endpoints.items()},
    }


@pytest.fixture
def clock() -> ShiftClock:
    return ShiftClock()


@pytest.fixture
def runtime(tmp_path: Path, oauth_lab: Any, clock: ShiftClock) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, **oauth_settings(oauth_lab))
    rt.clock = clock
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime, oauth_lab: Any) -> Iterator[TestClient]:
    # A clean slate at the provider: grants other tests of the session left behind are gone.
    oauth_lab.oauth.revoke_user(USER)
    oauth_lab.oauth.revoke_user(OTHER)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Studio"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


def servers(oauth_lab: Any) -> dict[str, Any]:
    return {"smtp": {"host": "127.0.0.1", "port": oauth_lab.submission_port, "security": "starttls"},
            "imap": {"host": "127.0.0.1", "port": oauth_lab.imaps_port, "security": "tls"}}


def connect(client: TestClient, oauth_lab: Any, *, hint: str | None, sign_in_as: str,
            return_url: str | None = None) -> Any:
    """start -> the lab's account chooser -> callback; returns the callback response."""
    body: dict[str, Any] = {"login_hint": hint, **servers(oauth_lab)}
    if return_url:
        body["return_url"] = return_url
    started = client.post("/v1/accounts/oauth/google/start", json=body)
    assert started.status_code == 200, started.text
    url = started.json()["authorization_url"]
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] and query["nonce"]
    assert query["scope"] == "https://mail.google.com/ openid email"
    assert query.get("login_hint") == hint
    back = oauth_lab.oauth.authorize_as(url, sign_in_as)
    assert back.startswith(CALLBACK + "?")
    return client.get(back.removeprefix("http://testserver"), follow_redirects=False)


async def send_via_smtp(runtime: Runtime, tenant_id: str, account_id: str, to: str, subject: str) -> None:
    """One message through the account's SMTP server with the credentials every sender uses;
    a refused token is refreshed once (what the outbox does with ``rejected_token``)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = USER, to, subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Invoice attached (not really).")
    raw = msg.as_bytes(policy=email.policy.SMTP)
    rejected = None
    for _ in range(2):
        creds = await runtime.oauth.credentials(tenant_id, account_id, rejected_token=rejected)
        config, password, token = creds.config, creds.password, creds.token
        assert password is None and token
        try:
            async with SmtpSession.open(config.smtp, password=None, oauth_token=token, settings=runtime.settings,
                                        resolver=runtime.resolver, email=config.email) as smtp:
                await smtp.send(USER, [to], raw)
            return
        except RemoteAuthError:
            if rejected is not None:
                raise
            rejected = token


def tenant_of(runtime: Runtime, account_id: str) -> str:
    from mailport.adapters.storage.tables import Account

    with runtime.db.session() as s:
        account = s.get(Account, account_id)
        assert account is not None
        return account.tenant_id


def test_connect_verify_send_expire_refresh_revoke(client: TestClient, runtime: Runtime, oauth_lab: Any,
                                                    clock: ShiftClock, tmp_path: Path) -> None:
    oauth = oauth_lab.oauth
    before_refreshes = oauth.token_requests("refresh_token")

    # connect
    page = connect(client, oauth_lab, hint=USER, sign_in_as=USER)
    assert page.status_code == 200, page.text
    assert f"{USER} is connected" in page.text
    accounts = client.get("/v1/accounts").json()
    assert [(a["email"], a["auth_kind"], a["provider_id"]) for a in accounts] == [(USER, "oauth2", "google_workspace")]
    account_id = accounts[0]["id"]
    tenant_id = tenant_of(runtime, account_id)
    refresh_plain = _active_refresh_token(oauth, USER)
    db_bytes = (tmp_path / "var" / "mailport.db").read_bytes() + _wal(tmp_path)
    assert refresh_plain.encode() not in db_bytes, "the refresh token is stored in clear"
    with sqlite3.connect(tmp_path / "var" / "mailport.db") as db:
        names = {r[0] for r in db.execute("select name from secrets where owner_id = ?", (account_id,))}
    assert names == {"oauth_refresh_token", "oauth_access_token"}

    # verify: a real round trip, logging in with XOAUTH2 on Postfix (Dovecot SASL) and Dovecot IMAP
    report = client.post(f"/v1/accounts/{account_id}/verify")
    assert report.status_code == 200, report.text
    assert report.json()["outcome"] == "verified", report.json()
    assert client.get(f"/v1/accounts/{account_id}").json()["status"] == "verified"
    log = "\n".join(oauth_lab.iter_log("postfix"))
    assert f"sasl_method=XOAUTH2, sasl_username={USER}" in log

    # send
    asyncio.run(send_via_smtp(runtime, tenant_id, account_id, OTHER, "Invoice 1"))
    oauth_lab.wait_for_message(OTHER, subject="Invoice 1")
    assert oauth.token_requests("refresh_token") == before_refreshes  # the first token was still good

    # expiry: an hour later the stored token is due; credentials() refreshes it ahead of use
    oauth.expire_access_tokens()
    clock.offset = timedelta(minutes=58)
    asyncio.run(send_via_smtp(runtime, tenant_id, account_id, OTHER, "Invoice 2"))
    oauth_lab.wait_for_message(OTHER, subject="Invoice 2")
    assert oauth.token_requests("refresh_token") == before_refreshes + 1

    # a token the server stopped accepting before its announced expiry: refused once, refreshed
    oauth.expire_access_tokens()
    report = client.post(f"/v1/accounts/{account_id}/verify").json()
    assert report["outcome"] == "verified", report
    assert oauth.token_requests("refresh_token") == before_refreshes + 2

    # revoked at the provider: auth.token_invalid, needs_reconnect, one event
    oauth.revoke_user(USER)
    clock.offset = timedelta(hours=3)
    for _ in range(2):
        with pytest.raises(RemoteAuthError) as caught:
            asyncio.run(runtime.oauth.credentials(tenant_id, account_id))
        assert caught.value.code == "auth.token_invalid"
    assert client.get(f"/v1/accounts/{account_id}").json()["status"] == "needs_reconnect"
    with sqlite3.connect(tmp_path / "var" / "mailport.db") as db:
        events = db.execute("select data from events where type = 'account.needs_reconnect'").fetchall()
    assert len(events) == 1 and account_id in events[0][0] and "auth.token_invalid" in events[0][0]
    problem = client.post(f"/v1/accounts/{account_id}/verify")
    assert problem.status_code in (401, 403, 409, 422, 502), problem.text
    assert problem.json()["code"] == "auth.token_invalid"

    # reconnect the same account: a new grant, status back to unverified, same id
    clock.offset = timedelta()  # back to real time: the lab signs ID tokens with the real clock
    started = client.post("/v1/accounts/oauth/google/start", json={"account_id": account_id}).json()
    back = oauth.authorize_as(started["authorization_url"], USER)
    page = client.get(back.removeprefix("http://testserver"))
    assert page.status_code == 200 and "connected again" in page.text
    assert client.get(f"/v1/accounts/{account_id}").json()["status"] == "unverified"
    asyncio.run(send_via_smtp(runtime, tenant_id, account_id, OTHER, "Invoice 3"))
    oauth_lab.wait_for_message(OTHER, subject="Invoice 3")

    # removal revokes the grant at the provider
    assert oauth.active_refresh_tokens(USER) == 1
    assert asyncio.run(runtime.oauth.remove_account(tenant_id, account_id)) is True
    assert oauth.active_refresh_tokens(USER) == 0
    assert client.get("/v1/accounts").json() == []


def test_wrong_google_account_creates_nothing(client: TestClient, oauth_lab: Any) -> None:
    page = connect(client, oauth_lab, hint=USER, sign_in_as=OTHER, return_url="https://app.example/settings")
    assert page.status_code == 400
    assert OTHER in page.text and USER in page.text and "Nothing was connected" in page.text
    assert 'id="signed-in"' in page.text.replace("'", '"')
    retry = page.text.split("id='retry' href='", 1)[1].split("'", 1)[0].replace("&amp;", "&")
    assert dict(parse_qsl(urlsplit(retry).query))["login_hint"] == USER
    assert client.get("/v1/accounts").json() == []
    assert oauth_lab.oauth.active_refresh_tokens(OTHER) == 0  # the unwanted grant was revoked
    # the retry link works, with the right account this time, and returns to the host product
    back = oauth_lab.oauth.authorize_as(retry, USER)
    done = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith("https://app.example/settings?status=connected&account_id=acc_")
    assert [a["email"] for a in client.get("/v1/accounts").json()] == [USER]


def test_callback_state_is_single_use_and_denial_is_reported(client: TestClient, oauth_lab: Any) -> None:
    body = {"login_hint": USER, "return_url": "https://app.example/back", **servers(oauth_lab)}
    url = client.post("/v1/accounts/oauth/google/start", json=body).json()["authorization_url"]
    back = oauth_lab.oauth.authorize_as(url, None)  # the user pressed Cancel
    denied = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert denied.status_code == 303
    assert denied.headers["location"] == "https://app.example/back?status=error&code=oauth.access_denied"
    again = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert again.status_code == 400 and "expired or was already used" in again.text
    assert client.get("/oauth/callback?state=forged&code=x").status_code == 400
    assert client.get("/v1/accounts").json() == []


def _active_refresh_token(oauth: Any, email: str) -> str:
    tokens = [t for t, item in oauth._by_refresh.items() if item.user.email == email and not item.refresh_revoked]
    assert len(tokens) == 1
    return str(tokens[0])


def _wal(tmp_path: Path) -> bytes:
    wal = tmp_path / "var" / "mailport.db-wal"
    return wal.read_bytes() if wal.exists() else b""
