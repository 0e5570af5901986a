"""mailport's Gmail client and the lab Gmail server, both held to Google's discovery document for
gmail v1 (the copy google-api-python-client ships).

Every exchange of every test that uses the ``gmail_lab`` fixture is checked at its teardown
(``lab.google_discovery.check_exchange``). Here: every method mailport calls, each upload protocol
the lab offers (media, multipart, resumable with chunks), and Google's error shapes, exercised and
checked; and the checker itself shown to refuse what the document does not allow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_gmail_send import connect_gmail, gmail_settings

from dbfixtures import make_runtime
from lab.gmail_api import Exchange
from lab.google_discovery import check_exchange, discovery_document, method
from mailport.adapters.gmail import MAX_MESSAGE, GmailApi
from mailport.errors import RemoteAuthError, ValidationError
from mailport.runtime import Runtime

pytestmark = [pytest.mark.lab]


@pytest.fixture
def runtime(tmp_path: Path, oauth_lab: Any, gmail_lab: Any) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, **gmail_settings(oauth_lab, gmail_lab, oauth_google_scope_profile="send_and_inbox"))
    yield rt
    rt.close()


def raw(subject: str, to: str, size: int = 0) -> bytes:
    return (f"From: <me@example.test>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n"
            f"\r\n").encode() + b"x" * size + b"\r\n"


async def test_every_method_the_client_uses_matches_the_discovery_document(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    tenant, account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    tokens = runtime.oauth.token_source(tenant, account)
    async with GmailApi(tokens=tokens, base_url=gmail_lab.base_url) as api:
        small = await api.send(raw("small", "user2@example.test"))
        large = await api.send(raw("large", gmail_lab.user, size=6 * 1024 * 1024))
        profile = await api.profile()
        listed = [ref.id async for ref in api.list_messages(page_size=1)]
        meta = await api.get_message(listed[0], headers=("Subject", "Message-ID"))
        whole = await api.raw_message(listed[0])
        page = await api.history(str(int(profile["historyId"]) - 1))
        with pytest.raises(ValidationError):
            await api.send(b"x" * (MAX_MESSAGE + 1))  # refused before anything is sent
    assert small["labelIds"] == ["SENT"] and large["labelIds"] == ["SENT"]
    assert listed and {h["name"] for h in meta["payload"]["headers"]} <= {"Subject", "Message-ID"}
    assert whole.startswith(b"Return-Path") or b"Subject: large" in whole
    assert isinstance(page.history_id, str)

    checked = {check_exchange(e) for e in gmail_lab.exchanges}
    assert checked == {"gmail.users.messages.send", "gmail.users.getProfile", "gmail.users.messages.list",
                       "gmail.users.messages.get", "gmail.users.history.list"}
    # Each used method's required scopes include what the default profile grants for sending.
    assert "https://www.googleapis.com/auth/gmail.send" in method("gmail.users.messages.send")["scopes"]
    assert "https://www.googleapis.com/auth/gmail.readonly" in method("gmail.users.history.list")["scopes"]


async def test_the_labs_upload_protocols_and_error_shapes_match_the_discovery_document(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    tenant, account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    token = await runtime.oauth.access_token(tenant, account)
    bearer = {"Authorization": f"Bearer {token}"}
    base = gmail_lab.base_url
    with httpx.Client(timeout=30) as http:
        media = http.post(f"{base}/upload/gmail/v1/users/me/messages/send", params={"uploadType": "media"},
                          content=raw("media", "user2@example.test"), headers={**bearer,
                                                                               "Content-Type": "message/rfc822"})
        assert media.status_code == 200, media.text
        body = raw("resumable", "user2@example.test", size=300_000)
        start = http.post(f"{base}/upload/gmail/v1/users/me/messages/send", params={"uploadType": "resumable"},
                          headers={**bearer, "X-Upload-Content-Type": "message/rfc822",
                                   "X-Upload-Content-Length": str(len(body))}, json={})
        assert start.status_code == 200 and start.headers["location"]
        first = http.put(start.headers["location"], content=body[:262144],
                         headers={**bearer, "Content-Range": f"bytes 0-262143/{len(body)}"})
        assert first.status_code == 308 and first.headers["range"] == "bytes=0-262143"
        done = http.put(start.headers["location"], content=body[262144:],
                        headers={**bearer, "Content-Range": f"bytes 262144-{len(body) - 1}/{len(body)}"})
        assert done.status_code == 200 and done.json()["labelIds"] == ["SENT"]
        # Errors: no token, an unknown token, a bad argument, an unknown message.
        assert http.get(f"{base}/gmail/v1/users/me/profile").status_code == 401
        assert http.get(f"{base}/gmail/v1/users/me/profile",
                        headers={"Authorization": "Bearer nope"}).status_code == 401
        bad = http.get(f"{base}/gmail/v1/users/me/messages", params={"maxResults": "9999"}, headers=bearer)
        assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
        missing = http.get(f"{base}/gmail/v1/users/me/messages/0000000000000001", headers=bearer)
        assert missing.status_code == 404 and missing.json()["error"]["errors"][0]["reason"] == "notFound"
    for exchange in gmail_lab.exchanges:
        check_exchange(exchange)
    assert len(oauth_lab.wait_for_message("user2@example.test", subject="resumable").get_payload()) > 300_000


async def test_a_token_without_gmail_readonly_gets_googles_403(runtime: Runtime, oauth_lab: Any,
                                                               gmail_lab: Any, tmp_path: Path) -> None:
    send_only = make_runtime(tmp_path / "send", **gmail_settings(oauth_lab, gmail_lab))
    try:
        tenant, account, _ = await connect_gmail(send_only, oauth_lab, gmail_lab.user)
        async with GmailApi(tokens=send_only.oauth.token_source(tenant, account), base_url=gmail_lab.base_url) as api:
            with pytest.raises(RemoteAuthError) as caught:
                [ref async for ref in api.list_messages()]
        assert caught.value.code == "auth.insufficient_permissions"
    finally:
        send_only.close()
    answer = gmail_lab.requests("gmail.users.messages.list")[-1]
    assert answer.status == 403 and answer.response["error"]["status"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(("exchange", "complaint"), [
    (Exchange("GET", "/gmail/v1/users/me/messages", [("pageSize", "10")], "", None, 200, {}), "not declared"),
    (Exchange("GET", "/gmail/v1/users/me/messages", [("maxResults", "ten")], "", None, 200, {}), "integer"),
    (Exchange("GET", "/gmail/v1/users/me/messages/1/get", [], "", None, 200, {}), "not a method"),
    (Exchange("GET", "/gmail/v1/users/me/messages/1", [("format", "html")], "", None, 200, {}), "not one of"),
    (Exchange("GET", "/gmail/v1/users/me/profile", [], "", None, 200, {"email": "x"}), "not a field"),
    (Exchange("GET", "/gmail/v1/users/me/profile", [], "", None, 200, {"messagesTotal": "3"}), "integer expected"),
    (Exchange("POST", "/gmail/v1/users/me/profile", [], "", None, 200, {}), "not a method"),
    (Exchange("POST", "/gmail/v1/users/me/messages/send", [], "application/json", {"rawMessage": "x"}, 200,
              {}), "not a field"),
    (Exchange("GET", "/gmail/v1/users/me/profile", [], "", None, 403, {"error": "forbidden"}), ""),
])
def test_the_checker_refuses_what_the_document_does_not_allow(exchange: Exchange, complaint: str) -> None:
    with pytest.raises((AssertionError, TypeError, KeyError)) as caught:
        check_exchange(exchange)
    assert complaint in str(caught.value)
    assert discovery_document()["id"] == "gmail:v1"
