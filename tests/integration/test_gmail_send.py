"""Sending through the Gmail API against the lab: the lab's Gmail v1 server (Google's shapes,
tokens checked at the lab authorization server) delivering into the lab Dovecot.

A Google sign-in under the default ``send`` profile creates a ``gmail_api`` account; its
messages go out through ``users.messages.send`` — the exact bytes the outbox built, as a media
upload above 5 MB — land in the recipient's real mailbox and in the sender's Sent folder (filed
by "Gmail", no APPEND by mailport). Token refused mid-run, 429 with Retry-After, a revoked grant
and a missing permission each end the way a user would expect.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from outbox_helpers import run_worker_until

from dbfixtures import make_runtime
from mailport.core.diagnostics import CODES
from mailport.core.message import Attachment
from mailport.diagnosis_text import explain_code
from mailport.runtime import Runtime
from mailport.services.send import SendRequest

pytestmark = [pytest.mark.lab]

GMAIL_SEND = "https://www.googleapis.com/auth/gmail.send"
GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"


def gmail_settings(oauth_lab: Any, gmail_lab: Any, **extra: Any) -> dict[str, Any]:
    oauth_lab.oauth.allow_redirect(oauth_lab.client_id, "http://testserver/oauth/callback")
    return {
        "allow_private_hosts": True, "ca_file": str(oauth_lab.ca_pem_path), "public_url": "http://testserver",
        "connect_timeout": 5.0, "send_retry_min_delay": 30.0, "send_retry_max_delay": 60.0,
        "oauth_google_client_id": oauth_lab.client_id, "oauth_google_client_secret": oauth_lab.client_secret,
        **{f"oauth_google_{k}": v for k, v in oauth_lab.oauth.endpoints().items()},
        "gmail_api_url": gmail_lab.base_url, **extra,
    }


@pytest.fixture
def runtime(tmp_path: Path, oauth_lab: Any, gmail_lab: Any) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, **gmail_settings(oauth_lab, gmail_lab))
    yield rt
    rt.close()


async def connect_gmail(rt: Runtime, oauth_lab: Any, email: str) -> tuple[str, str, str]:
    """Sign in with Google through the lab; ``(tenant id, account id, authorization URL)``."""
    tenant = rt.tenants.create(name="Bakkerij Jansen").tenant.id
    started = await rt.oauth.start(tenant, "google", login_hint=email)
    back = oauth_lab.oauth.authorize_as(started.authorization_url, email)
    query = dict(parse_qsl(urlsplit(back).query))
    result = await rt.oauth.complete(state=query.get("state"), code=query.get("code"))
    assert result.ok, (result.code, result.message)
    assert result.account is not None
    return tenant, result.account.id, started.authorization_url


def submit(rt: Runtime, tenant: str, sender: str, to: str, subject: str, *,
           attachment: bytes | None = None) -> str:
    attachments = (Attachment(filename="factuur-2026-041.pdf", content=attachment, content_type="application/pdf"),
                   ) if attachment is not None else ()
    return rt.outbox.submit(tenant, SendRequest(
        to=[to], subject=subject, text="Hierbij de factuur.", from_email=sender,
        attachments=attachments,
    )).message.id


def events_of(rt: Runtime, message_id: str) -> list[tuple[str, dict[str, Any]]]:
    from mailport.adapters.storage.outbox_repository import OutboxRepository

    with rt.db.session() as s:
        return [(e.type, dict(e.data)) for e in OutboxRepository(s).events(message_id)]


def state(rt: Runtime, tenant: str, message_id: str) -> str:
    return rt.outbox.get(tenant, message_id).state


async def test_sign_in_creates_a_gmail_api_account_asking_gmail_send_only(runtime: Runtime, oauth_lab: Any,
                                                                           gmail_lab: Any) -> None:
    tenant, account_id, url = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    scope = dict(parse_qsl(urlsplit(url).query))["scope"].split()
    assert scope == [GMAIL_SEND, "openid", "email"]  # no restricted scope under the default profile
    view = runtime.accounts.get(tenant, account_id)
    assert (view.transport, view.auth_kind) == ("gmail_api", "oauth2")
    assert view.to_dict()["transport"] == "gmail_api"
    assert runtime.oauth.granted_scope(tenant, account_id) == f"{GMAIL_SEND} openid email"


async def test_small_and_large_messages_go_out_unchanged_and_gmail_files_the_sent_copy(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    tenant, _account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * (10 * 1024 * 1024 // 256)  # a 10 MB PDF
    small = submit(runtime, tenant, gmail_lab.user, "user2@example.test", "Factuur 2026-040")
    large = submit(runtime, tenant, gmail_lab.user, "user2@example.test", "Factuur 2026-041", attachment=pdf)
    await run_worker_until(runtime, lambda: state(runtime, tenant, small) == "sent"
                           and state(runtime, tenant, large) == "sent", timeout=60)

    # Simple send for the small one (base64url "raw"), a media upload for the large one.
    sends = gmail_lab.requests("gmail.users.messages.send")
    assert [(e.path.startswith("/upload/"), dict(e.query).get("uploadType")) for e in sends] in (
        [(False, None), (True, "multipart")], [(True, "multipart"), (False, None)])
    # The bytes Gmail received are exactly those the outbox stored.
    stored = {runtime.outbox.get(tenant, m).header_message_id: m for m in (small, large)}
    assert len(gmail_lab.sent) == 2
    for _user, raw in gmail_lab.sent:
        from mailport.adapters.storage.outbox_repository import OutboxRepository
        with runtime.db.session() as s:
            message_id = next(m for h, m in stored.items() if h.encode() in raw)
            assert OutboxRepository(s).content(message_id).raw == raw
    # Delivered into the recipient's real mailbox, the PDF intact; the Sent copy filed by Gmail.
    received = oauth_lab.wait_for_message("user2@example.test", subject="Factuur 2026-041", timeout=30)
    part = next(p for p in received.iter_attachments() if p.get_filename() == "factuur-2026-041.pdf")
    assert part.get_content() == pdf
    assert {m["Subject"] for m in oauth_lab.messages(gmail_lab.user, "Sent")} == {
        "Factuur 2026-040", "Factuur 2026-041"}
    copies = [runtime.outbox.get(tenant, m).sent_copy for m in (small, large)]
    assert all(c is not None and c["state"] == "skipped" for c in copies), copies


async def test_bcc_recipients_reach_gmail_in_a_header_gmail_removes(runtime: Runtime, oauth_lab: Any,
                                                                    gmail_lab: Any) -> None:
    tenant, _account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    message = runtime.outbox.submit(tenant, SendRequest(
        to=["klant@customer.example"], bcc=["user2@example.test"], subject="Kopie boekhouding",
        text="Factuur", from_email=gmail_lab.user)).message.id
    await run_worker_until(runtime, lambda: state(runtime, tenant, message) == "sent", timeout=30)
    received = oauth_lab.wait_for_message("user2@example.test", subject="Kopie boekhouding", timeout=30)
    assert received["Bcc"] is None
    assert gmail_lab.outbound[-1][1] == ["klant@customer.example"]


async def test_a_token_refused_mid_run_is_refreshed_once_and_the_send_goes_through(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    tenant, _account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    first = submit(runtime, tenant, gmail_lab.user, "user2@example.test", "Voor de verloopdatum")
    await run_worker_until(runtime, lambda: state(runtime, tenant, first) == "sent", timeout=30)
    refreshes = oauth_lab.oauth.token_requests("refresh_token")

    # Google stops accepting the token long before mailport expected (it thinks it has an hour).
    oauth_lab.oauth.expire_access_tokens()
    second = submit(runtime, tenant, gmail_lab.user, "user2@example.test", "Na de verloopdatum")
    await run_worker_until(runtime, lambda: state(runtime, tenant, second) == "sent", timeout=30)

    sends = gmail_lab.requests("gmail.users.messages.send")
    assert [e.status for e in sends] == [200, 401, 200]
    assert oauth_lab.oauth.token_requests("refresh_token") == refreshes + 1
    assert runtime.outbox.get(tenant, second).attempts == 1  # one attempt: refreshed inside it


async def test_429_with_retry_after_defers_then_sends(runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    tenant, _account, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    gmail_lab.fail_next(429, "rateLimitExceeded", "Too many concurrent requests for user", retry_after="2",
                        methods=["gmail.users.messages.send"])
    message = submit(runtime, tenant, gmail_lab.user, "user2@example.test", "Even geduld")
    seen: list[str] = []

    def sent() -> bool:
        view = runtime.outbox.get(tenant, message)
        seen.append(view.state)
        return view.state == "sent"

    await run_worker_until(runtime, sent, timeout=30)
    assert "deferred" in seen  # never failed
    events = events_of(runtime, message)
    assert [t for t, _ in events].count("message.deferred") == 1 and events[-1][0] == "message.sent"
    deferred = next(data for t, data in events if t == "message.deferred")
    assert deferred["reason"] == "api.rate_limited"
    # The retry came after the 2 s Google asked for, not after the 30 s backoff.
    sends = gmail_lab.requests("gmail.users.messages.send")
    assert [e.status for e in sends] == [429, 200]


async def test_a_revoked_grant_fails_with_the_reconnect_diagnosis(runtime: Runtime, oauth_lab: Any,
                                                                  gmail_lab: Any) -> None:
    tenant, account_id, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    oauth_lab.oauth.revoke_user(gmail_lab.user)  # the user removed the app at myaccount.google.com
    message = submit(runtime, tenant, gmail_lab.user, "user2@example.test", "Na intrekking")
    await run_worker_until(runtime, lambda: state(runtime, tenant, message) == "failed", timeout=30)
    view = runtime.outbox.get(tenant, message)
    assert view.reason == "auth.token_invalid"
    assert runtime.accounts.get(tenant, account_id).status == "needs_reconnect"
    nl = explain_code(view.reason, "nl", email=gmail_lab.user)
    de = explain_code(view.reason, "de", email=gmail_lab.user)
    assert nl is not None and de is not None
    assert nl.title == "De koppeling met je mailbox is verlopen"
    assert de.title == "Die Verbindung zu Ihrem Postfach ist abgelaufen"
    assert any("opnieuw" in step for step in nl.steps) and any("erneut" in step for step in de.steps)
    assert CODES[view.reason].retryable is False


async def test_a_send_only_token_reading_the_inbox_gets_insufficient_permissions(
        runtime: Runtime, oauth_lab: Any, gmail_lab: Any) -> None:
    from mailport.adapters.gmail import GmailApi
    from mailport.errors import RemoteAuthError

    tenant, account_id, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    async with GmailApi(tokens=runtime.oauth.token_source(tenant, account_id), base_url=gmail_lab.base_url) as api:
        with pytest.raises(RemoteAuthError) as caught:
            await api.profile()
    assert caught.value.code == "auth.insufficient_permissions"
    answer = gmail_lab.requests("gmail.users.getProfile")[-1]
    assert answer.status == 403
    assert answer.response["error"]["errors"][0]["reason"] == "insufficientPermissions"


def test_raw_is_base64url_of_the_stored_bytes() -> None:
    from mailport.adapters.gmail import b64url, b64url_decode

    raw = bytes(range(256)) * 3
    assert b64url_decode(b64url(raw)) == raw
    assert "+" not in b64url(raw) and "/" not in b64url(raw)
    assert base64.urlsafe_b64decode(b64url(raw) + "==") == raw


async def test_verification_of_a_send_only_mailbox_proves_sending(runtime: Runtime, oauth_lab: Any,
                                                                   gmail_lab: Any) -> None:
    tenant, account_id, _ = await connect_gmail(runtime, oauth_lab, gmail_lab.user)
    report = await runtime.verification.verify_account(tenant, account_id)
    assert report["outcome"] == "sent_unconfirmed", report
    assert [(s["stage"], s["status"]) for s in report["stages"]] == [
        ("roundtrip.send", "ok"), ("roundtrip.arrival", "skipped")]
    # Sent to itself through the API, and really delivered (the lab's Dovecot has it).
    oauth_lab.wait_for_message(gmail_lab.user, headers={"Message-ID": report["roundtrip"]["message_id"]})
    assert gmail_lab.requests("gmail.users.messages.list") == []  # no reading without gmail.readonly
    assert report["roundtrip"]["removed"] is None and gmail_lab.requests("gmail.users.messages.trash") == []
    assert runtime.accounts.get(tenant, account_id).status == "sent_unconfirmed"


async def test_verification_with_the_inbox_profile_confirms_arrival_through_the_api(
        tmp_path: Path, oauth_lab: Any, gmail_lab: Any) -> None:
    rt = make_runtime(tmp_path, **gmail_settings(oauth_lab, gmail_lab, oauth_google_scope_profile="send_and_inbox"))
    try:
        tenant, account_id, url = await connect_gmail(rt, oauth_lab, gmail_lab.user)
        assert dict(parse_qsl(urlsplit(url).query))["scope"].split() == [GMAIL_SEND, GMAIL_READONLY, "openid", "email"]
        report = await rt.verification.verify_account(tenant, account_id)
        assert report["outcome"] == "verified", report
        assert report["roundtrip"]["landed_in"] == "inbox"
        searches = [dict(e.query)["q"] for e in gmail_lab.requests("gmail.users.messages.list")]
        assert searches and all(q == "rfc822msgid:" + report["roundtrip"]["message_id"].strip("<>") for q in searches)
        # gmail.readonly may look but not remove: the test mail stays (the inbox sync skips it).
        assert report["roundtrip"]["removed"] is None and gmail_lab.requests("gmail.users.messages.trash") == []
        assert report["details"]["test_mail_removable"] is False
    finally:
        rt.close()


async def test_with_gmail_modify_the_test_mail_is_in_the_users_language_and_trashed_once_found(
        tmp_path: Path, oauth_lab: Any, gmail_lab: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one API verifier (issue 16): the Gmail test mail in the user's language, like the SMTP
    one, and moved to Trash (received and sent copy) where the grant allows it."""
    from email import message_from_bytes
    from email.policy import default as default_policy

    from mailport.core import transports
    from mailport.i18n import gettext
    from mailport.services.verify import TEST_SUBJECT

    modify = "https://www.googleapis.com/auth/gmail.modify"
    monkeypatch.setitem(transports._SCOPES, ("google", "send_and_inbox"),  # type: ignore[misc]
                        (GMAIL_SEND, modify, "openid", "email"))
    rt = make_runtime(tmp_path, **gmail_settings(oauth_lab, gmail_lab, oauth_google_scope_profile="send_and_inbox"))
    try:
        tenant, account_id, _ = await connect_gmail(rt, oauth_lab, gmail_lab.user)
        report = await rt.verification.verify_account(tenant, account_id, lang="de")
    finally:
        rt.close()
    assert report["outcome"] == "verified", report
    trip = report["roundtrip"]
    assert trip["landed_in"] == "inbox" and trip["removed"] is True, trip
    sent = message_from_bytes(gmail_lab.sent[-1][1], policy=default_policy)
    assert sent["Message-ID"] == trip["message_id"]
    assert sent["Subject"] == gettext("de", TEST_SUBJECT) != TEST_SUBJECT
    trashed = [gid for _user, gid in gmail_lab.trashed]
    assert len(trashed) == 2, trashed  # the lab keeps the received and the sent copy apart
    for folder in ("INBOX", "Sent"):
        assert not [m for m in oauth_lab.messages(gmail_lab.user, folder) if m["Message-ID"] == trip["message_id"]]
