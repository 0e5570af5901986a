"""Microsoft 365 through Microsoft Graph, end to end without the internet: the lab authorization
server plays Microsoft's identity platform, the lab Graph server plays Exchange Online in front of
the real Dovecot + Postfix.

connect with "Sign in with Microsoft" (send profile: ``Mail.Send`` + ``Mail.ReadWrite``, no
SMTP/IMAP scopes) -> an invoice with a 6 MB PDF goes out as draft + upload session -> ``sent``,
Sent Items copy filed by Exchange (mailport does no APPEND) -> a token refused mid-run is
refreshed once -> ``429 Retry-After: 2`` defers by those 2 seconds, then sends -> a revoked grant
fails with the reconnect diagnosis (nl, de) -> an XOAUTH2 Microsoft account whose SMTP answers
``535 5.7.139 … SmtpClientAuthentication is disabled`` gets ``auth.use_graph`` and moves to Graph
with only a new consent (same account id).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from integration.outbox_helpers import run_worker_until
from lab.graph_api import LabGraphServer, register_graph_client
from lab.graph_csdl import exchange_problems
from lab.m365_smtp import SmtpAuthDisabledServer
from mailport.api.app import create_app
from mailport.core.message import Attachment
from mailport.diagnosis_text import explain_code
from mailport.runtime import Runtime
from mailport.services.send import SendRequest

pytestmark = pytest.mark.lab

CALLBACK = "http://testserver/oauth/callback"
USER = "user@example.test"
OTHER = "user2@example.test"


@pytest.fixture
def graph(oauth_lab: Any) -> Iterator[LabGraphServer]:
    server = LabGraphServer(oauth=oauth_lab.oauth, mail=oauth_lab).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def profile() -> str:
    return "send"


@pytest.fixture
def runtime(tmp_path: Path, oauth_lab: Any, graph: LabGraphServer, profile: str) -> Iterator[Runtime]:
    client_id, secret = register_graph_client(oauth_lab.oauth, CALLBACK)
    endpoints = oauth_lab.oauth.endpoints()
    rt = make_runtime(
        tmp_path, allow_private_hosts=True, allow_insecure_auth=True, ca_file=str(oauth_lab.ca_pem_path),
        public_url="http://testserver", connect_timeout=5.0, send_retry_min_delay=0.2, send_retry_max_delay=0.4,
        oauth_microsoft_client_id=client_id, oauth_microsoft_client_secret=secret,
        **{f"oauth_microsoft_{k}": v for k, v in endpoints.items()},
        graph_api_url=graph.root_url, oauth_microsoft_scope_profile=profile, verify_roundtrip_timeout=20.0,
    )
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime, oauth_lab: Any) -> Iterator[TestClient]:
    oauth_lab.oauth.revoke_user(USER)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


def _sign_in(client: TestClient, oauth_lab: Any, started: Any) -> Any:
    assert started.status_code == 200, started.text
    url = started.json()["authorization_url"]
    back = oauth_lab.oauth.authorize_as(url, USER)
    assert back.startswith(CALLBACK + "?")
    return url, client.get(back.removeprefix("http://testserver"), follow_redirects=False)


def _tenant(runtime: Runtime, account_id: str) -> str:
    from mailport.adapters.storage.tables import Account

    with runtime.db.session() as s:
        account = s.get(Account, account_id)
        assert account is not None
        return account.tenant_id


def _transport(runtime: Runtime, tenant_id: str, account_id: str) -> str:
    return runtime.accounts.get(tenant_id, account_id).transport


def _only_tenant(runtime: Runtime) -> str:
    from sqlalchemy import select

    from mailport.adapters.storage.tables import Tenant

    with runtime.db.session() as s:
        return str(s.scalars(select(Tenant.id)).one())


def _invoice(account_id: str, subject: str, size: int = 0) -> SendRequest:
    attachments = [Attachment(filename="invoice-2026-117.pdf", content=b"%PDF-1.7\n" + os.urandom(size),
                              content_type="application/pdf")] if size else []
    return SendRequest(to=[OTHER], subject=subject, text="Dear customer,\n\nyour invoice is attached.\n",
                       attachments=attachments, account_id=account_id)


def _send(runtime: Runtime, tenant_id: str, request: SendRequest, *, until: tuple[str, ...] = ("sent",)) -> Any:
    message_id = runtime.outbox.submit(tenant_id, request).message.id
    asyncio.run(run_worker_until(runtime, lambda: runtime.outbox.get(tenant_id, message_id).state in until,
                                 timeout=60))
    return runtime.outbox.get(tenant_id, message_id)


def test_microsoft_365_through_graph(client: TestClient, runtime: Runtime, oauth_lab: Any,
                                     graph: LabGraphServer) -> None:
    oauth = oauth_lab.oauth
    url, page = _sign_in(client, oauth_lab, client.post("/v1/accounts/oauth/microsoft/start",
                                                        json={"login_hint": USER}))
    scope = dict(parse_qsl(urlsplit(url).query))["scope"].split()
    assert "https://graph.microsoft.com/Mail.Send" in scope
    assert not [s for s in scope if "outlook.office.com" in s], "no SMTP/IMAP scopes in the send profile"
    assert page.status_code == 200, page.text
    [account] = client.get("/v1/accounts").json()
    tenant_id = _tenant(runtime, account["id"])
    assert (account["email"], _transport(runtime, tenant_id, account["id"])) == (USER, "graph")

    # the test mail to myself goes out through Graph (send-only grant: arrival not looked up)
    report = client.post(f"/v1/accounts/{account['id']}/verify")
    assert report.status_code == 200, report.text
    assert report.json()["outcome"] == "sent_unconfirmed", report.json()
    assert [(s["stage"], s["status"]) for s in report.json()["stages"]] == [
        ("roundtrip.send", "ok"), ("roundtrip.arrival", "skipped")]
    test_mail = oauth_lab.wait_for_message(USER, headers={"Message-ID": report.json()["roundtrip"]["message_id"]})
    assert test_mail["X-Mailport-Test"]
    assert client.get(f"/v1/accounts/{account['id']}").json()["status"] == "sent_unconfirmed"

    # an invoice with a 6 MB PDF: draft + upload session (chunks) + send; Exchange files Sent Items
    assert exchange_problems(graph.exchanges) == []
    graph.exchanges.clear()
    message = _send(runtime, tenant_id, _invoice(account["id"], "Invoice 2026-117", 6 * 1024 * 1024))
    assert message.state == "sent"
    got = oauth_lab.wait_for_message(OTHER, subject="Invoice 2026-117")
    pdf = next(got.iter_attachments())
    assert pdf.get_filename() == "invoice-2026-117.pdf" and len(pdf.get_content()) == 6 * 1024 * 1024 + 9
    assert [x.operation for x in graph.exchanges if x.operation != "uploadChunk"] == [
        "createMessage", "createUploadSession", "send"]
    assert [x.status for x in graph.operations("uploadChunk")] == [200, 201]
    sent = oauth_lab.wait_for_message(USER, subject="Invoice 2026-117", mailbox="Sent")
    assert sent["Message-ID"].strip("<>") in (message.header_message_id or "")
    assert message.sent_copy is not None and message.sent_copy["state"] == "skipped"
    assert len(oauth_lab.messages(USER, "Sent")) == len({m["Message-ID"] for m in oauth_lab.messages(USER, "Sent")})

    # a token Microsoft stopped accepting before its announced expiry: refreshed once, then sent
    refreshes = oauth.token_requests("refresh_token")
    oauth.expire_access_tokens()
    assert exchange_problems(graph.exchanges) == []
    graph.exchanges.clear()
    assert _send(runtime, tenant_id, _invoice(account["id"], "Invoice 118")).state == "sent"
    assert [x.status for x in graph.operations("sendMail")] == [401, 202]
    assert oauth.token_requests("refresh_token") == refreshes + 1

    # 429 with Retry-After: 2 -> deferred by those 2 s (not our backoff), then sent
    graph.fail_next(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.",
                    retry_after=2, operations={"sendMail"})
    assert exchange_problems(graph.exchanges) == []
    graph.exchanges.clear()
    started = time.monotonic()
    deferred = _send(runtime, tenant_id, _invoice(account["id"], "Invoice 119"), until=("deferred", "sent"))
    if deferred.state == "deferred":
        assert deferred.reason == "api.rate_limited"
        wait = (deferred.next_attempt_at - deferred.updated_at).total_seconds()
        assert 1.5 <= wait <= 2.5, wait
        asyncio.run(run_worker_until(runtime, lambda: runtime.outbox.get(tenant_id, deferred.id).state == "sent",
                                     timeout=30))
    assert runtime.outbox.get(tenant_id, deferred.id).state == "sent"
    assert time.monotonic() - started >= 2
    assert [x.status for x in graph.operations("sendMail")] == [429, 202]

    # the user withdrew the app's access: the refresh fails -> reconnect diagnosis, in nl and de
    oauth.revoke_user(USER)
    failed = _send(runtime, tenant_id, _invoice(account["id"], "Invoice 120"), until=("deferred", "failed"))
    assert failed.reason == "auth.token_invalid", failed
    assert client.get(f"/v1/accounts/{account['id']}").json()["status"] == "needs_reconnect"
    nl, de = explain_code("auth.token_invalid", "nl"), explain_code("auth.token_invalid", "de")
    assert nl is not None and de is not None
    assert nl.title == "De koppeling met je mailbox is verlopen", nl.title
    assert "Postfach" in de.title or "Postfach" in " ".join(de.steps), de
    assert any("opnieuw" in step for step in nl.steps)
    # Everything mailport asked of Graph, and every answer, in Microsoft's published shapes.
    assert exchange_problems(graph.exchanges) == []


def test_smtp_auth_disabled_moves_the_account_to_graph(client: TestClient, runtime: Runtime, oauth_lab: Any,
                                                       graph: LabGraphServer) -> None:
    with SmtpAuthDisabledServer() as m365:
        smtp = {"host": "127.0.0.1", "port": m365.port, "security": "none"}
        imap = {"host": "127.0.0.1", "port": oauth_lab.imaps_port, "security": "tls"}
        # Connected earlier under the XOAUTH2 profile (SMTP.Send + IMAP.AccessAsUser.All).
        tenant_id = _only_tenant(runtime)
        started_xoauth = asyncio.run(runtime.oauth.start(tenant_id, "microsoft", login_hint=USER, smtp=smtp,
                                                         imap=imap, profile="imap_smtp"))
        back = oauth_lab.oauth.authorize_as(started_xoauth.authorization_url, USER)
        page = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
        assert page.status_code == 200, page.text
        [account] = client.get("/v1/accounts").json()
        assert _transport(runtime, tenant_id, account["id"]) == "smtp_imap"

        failed = _send(runtime, tenant_id, _invoice(account["id"], "Invoice via SMTP"),
                       until=("failed", "deferred"))
        assert failed.reason == "auth.use_graph", failed
        assert "XOAUTH2" in m365.auth_attempts
        explained = explain_code("auth.use_graph", "de")
        assert explained is not None and "Microsoft Graph" in explained.title
        # the mailbox test says the same, and it is what the settings page acts on
        report = client.post(f"/v1/accounts/{account['id']}/verify").json()
        assert report["code"] == "auth.use_graph", report

    # one click on the settings page: a new consent for the same account, nothing re-entered
    link = client.post("/v1/ui-sessions", json={"user_name": "Anna", "language": "nl",
                                                "return_url": "https://app.example-invoicing.test/"}).json()["url"]
    assert client.get(link.removeprefix("http://testserver"), follow_redirects=False).status_code == 303
    html = client.get("/ui/settings/email?method=smtp").text
    button = re.search(rf'<button[^>]*id="switch-graph-{account["id"]}"[^>]*>([^<]*)<', html)
    assert button is not None, html[:2000]
    assert 'class="button primary"' in button.group(0) and "Overstappen naar Microsoft Graph" in button.group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None
    switch = client.post(f"/ui/settings/email/oauth/microsoft/switch/{account['id']}",
                         data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert switch.status_code == 303, switch.text
    url = switch.headers["location"]
    assert dict(parse_qsl(urlsplit(url).query)).get("login_hint") == USER
    back = oauth_lab.oauth.authorize_as(url, USER)
    page = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert page.status_code == 303 and "status=reconnected" in page.headers["location"], page.text
    done = client.get(page.headers["location"].removeprefix("http://testserver"), follow_redirects=False)
    assert done.status_code == 303 and "saved=1" in done.headers["location"]
    assert "switch-graph-" not in client.get("/ui/settings/email?method=smtp").text
    [moved] = client.get("/v1/accounts").json()
    assert (moved["id"], _transport(runtime, tenant_id, moved["id"])) == (account["id"], "graph")
    assert runtime.outbox.get(tenant_id, failed.id).account_id == account["id"]  # history kept
    assert _send(runtime, tenant_id, _invoice(account["id"], "Invoice via Graph")).state == "sent"
    oauth_lab.wait_for_message(OTHER, subject="Invoice via Graph")
    again = client.post(f"/v1/accounts/{account['id']}/switch-transport", json={})
    assert again.status_code == 409 and again.json()["code"] == "account.transport_unchanged"


def test_explanations_of_the_graph_codes_exist_in_every_language() -> None:
    for lang in ("en", "nl", "de", "it", "fr"):
        for code in ("auth.use_graph", "api.mailbox_not_enabled", "send.daily_limit_reached",
                     "auth.admin_consent_required", "auth.token_invalid"):
            explained = explain_code(code, lang)
            assert explained is not None and explained.title and explained.steps, (code, lang)
    assert explain_code("auth.use_graph", "nl").title.startswith("Microsoft 365 blokkeert")  # type: ignore[union-attr]



@pytest.mark.parametrize("aadsts", [
    "AADSTS65001: The user or administrator has not consented to use the application with ID 'x'.",
    "AADSTS90094: The grant requires admin permission.",
])
def test_admin_consent_required_at_refresh_is_diagnosed(client: TestClient, runtime: Runtime, oauth_lab: Any,
                                                        graph: LabGraphServer, aadsts: str) -> None:
    _, page = _sign_in(client, oauth_lab, client.post("/v1/accounts/oauth/microsoft/start",
                                                      json={"login_hint": USER}))
    assert page.status_code == 200, page.text
    [account] = client.get("/v1/accounts").json()
    tenant_id = _tenant(runtime, account["id"])
    oauth_lab.oauth.expire_access_tokens()
    oauth_lab.oauth.fail_next_token_request("invalid_grant", aadsts)
    failed = _send(runtime, tenant_id, _invoice(account["id"], "Invoice consent"), until=("deferred", "failed"))
    assert failed.reason == "auth.admin_consent_required", failed
    assert graph.operations("sendMail")[0].status == 401
    for lang, word in (("nl", "beheerder"), ("de", "Administrator")):
        explained = explain_code("auth.admin_consent_required", lang, provider="microsoft365")
        assert explained is not None and word in " ".join([explained.title, *explained.steps]), lang


@pytest.mark.parametrize("profile", ["send_and_inbox"])
def test_with_the_inbox_profile_the_test_mail_is_confirmed_through_graph(
        client: TestClient, runtime: Runtime, oauth_lab: Any, graph: LabGraphServer, profile: str) -> None:
    url, page = _sign_in(client, oauth_lab, client.post("/v1/accounts/oauth/microsoft/start",
                                                        json={"login_hint": USER}))
    assert page.status_code == 200, page.text
    assert "https://graph.microsoft.com/Mail.Read" in dict(parse_qsl(urlsplit(url).query))["scope"].split()
    [account] = client.get("/v1/accounts").json()
    report = client.post(f"/v1/accounts/{account['id']}/verify").json()
    assert report["outcome"] == "verified", report
    assert report["roundtrip"]["landed_in"] == "inbox" and report["roundtrip"]["arrived"] is True
    assert graph.operations("listMessages"), "arrival was looked up through Graph"
    assert client.get(f"/v1/accounts/{account['id']}").json()["status"] == "verified"


@pytest.mark.parametrize("profile", ["send_and_inbox"])
def test_the_graph_test_mail_is_in_the_users_language_and_deleted_once_found(
        client: TestClient, runtime: Runtime, oauth_lab: Any, graph: LabGraphServer, profile: str) -> None:
    """The one API verifier (issue 16): the test mail in the caller's language, like the SMTP one,
    and removed through Graph (``Mail.ReadWrite``) from Inbox and Sent Items once found."""
    from email import message_from_bytes
    from email.policy import default as default_policy

    from mailport.i18n import gettext
    from mailport.services.verify import TEST_SUBJECT

    _url, page = _sign_in(client, oauth_lab, client.post("/v1/accounts/oauth/microsoft/start",
                                                         json={"login_hint": USER}))
    assert page.status_code == 200, page.text
    [account] = client.get("/v1/accounts").json()
    report = client.post(f"/v1/accounts/{account['id']}/verify", headers={"Accept-Language": "nl"}).json()
    assert report["outcome"] == "verified", report
    trip = report["roundtrip"]
    assert trip["arrived"] is True and trip["removed"] is True, trip
    assert report["details"]["test_mail_removable"] is True

    sent = next(message_from_bytes(raw, policy=default_policy) for raw in graph.wire
                if trip["message_id"].encode() in raw)
    assert sent["Subject"] == gettext("nl", TEST_SUBJECT) != TEST_SUBJECT
    # Gone from the mailbox: the received copy and Exchange's Sent Items copy.
    deleted = [folder for user, gid in graph.deleted if user == USER
               for folder in ["Sent" if "|Sent" in _decoded(gid) else "INBOX"]]
    assert sorted(deleted) == ["INBOX", "Sent"], graph.deleted
    for folder in ("INBOX", "Sent"):
        assert not [m for m in oauth_lab.messages(USER, folder) if m["Message-ID"] == trip["message_id"]], folder
    assert graph.operations("deleteMessage") and exchange_problems(graph.exchanges) == []  # as Microsoft documents it


def _decoded(graph_id: str) -> str:
    import base64

    body = graph_id.removeprefix("AAMkAGI")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
