"""The Graph adapter against the lab Graph server (in front of real Dovecot + Postfix), with every
request the client makes and every answer the lab gives held to Microsoft's v1.0 metadata."""

from __future__ import annotations

import asyncio
import email.policy
import os
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from lab.graph_api import LabGraphServer, issue_tokens
from lab.graph_csdl import METADATA_PATH, exchange_problems, graph_metadata
from mailport.adapters.graph import DeltaPage, GraphMailbox, graph_api, split_for_draft
from mailport.errors import RemoteAuthError, RemoteRejected, RemoteThrottled

pytestmark = pytest.mark.lab

SEND = "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite offline_access openid email"
SEND_ONLY = "https://graph.microsoft.com/Mail.Send offline_access openid email"
READ = SEND + " https://graph.microsoft.com/Mail.Read"


@pytest.fixture
def graph(oauth_lab: Any) -> Iterator[LabGraphServer]:
    server = LabGraphServer(oauth=oauth_lab.oauth, mail=oauth_lab).start()
    try:
        yield server
    finally:
        server.stop()


class Tokens:
    """A token source as the OAuth service gives one: refreshes when the API refused a token."""

    def __init__(self, oauth: Any, email: str, scope: str) -> None:
        self.oauth, self.email, self.scope = oauth, email, scope
        self.refreshes = 0
        self.token = issue_tokens(oauth, email, scope)["access_token"]

    async def __call__(self, *, rejected_token: str | None = None) -> str:
        if rejected_token is not None and rejected_token == self.token:
            self.refreshes += 1
            self.token = issue_tokens(self.oauth, self.email, self.scope)["access_token"]
        return self.token


def _message(sender: str, to: str, *, attachment: int = 0, subject: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, to
    msg["Subject"] = subject or f"graph {uuid.uuid4().hex[:10]}"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Dear customer,\n\nplease find the invoice attached.\n")
    if attachment:
        msg.add_attachment(os.urandom(attachment), maintype="application", subtype="pdf", filename="invoice.pdf")
    return msg.as_bytes(policy=email.policy.SMTP)


def _mailbox(graph: LabGraphServer, tokens: Tokens, **kwargs: Any) -> GraphMailbox:
    return GraphMailbox(graph_api(tokens=tokens, base_url=graph.base_url), **kwargs)


def _csdl_problems(graph: LabGraphServer) -> list[str]:
    return exchange_problems(graph.exchanges)


def test_metadata_is_microsofts() -> None:
    assert METADATA_PATH.exists(), f"Graph metadata missing at {METADATA_PATH}"
    csdl = graph_metadata()
    assert csdl.action("sendMail", "graph.user").parameters["Message"][0] == "graph.message"
    # The checker itself must catch a misspelt parameter and a wrong type.
    assert csdl.check_action({"AttachmentItem": {"attachmentType": "file", "name": "x", "size": 1}},
                             "createUploadSession", "Collection(graph.attachment)") == []
    assert csdl.check_action({"attachmentItem": {}}, "createUploadSession", "Collection(graph.attachment)")
    assert csdl.check_entity({"uploadUrl": 5}, "uploadSession")
    assert csdl.check_entity({"attachmentType": "folder"}, "attachmentItem")


def test_small_message_goes_through_sendmail_and_exchange_files_the_sent_copy(
        graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user@example.test", SEND_ONLY)
    raw = _message("user@example.test", "user2@example.test")
    subject = email.message_from_bytes(raw)["Subject"]

    async def run() -> Any:
        async with _mailbox(graph, tokens).api as api:
            return await GraphMailbox(api).send(raw)

    result = asyncio.run(run())
    assert result.route == "sendMail"
    got = oauth_lab.wait_for_message("user2@example.test", subject=subject)
    assert "invoice attached" in got.get_body().get_content()
    sent = oauth_lab.wait_for_message("user@example.test", subject=subject, mailbox="Sent")
    assert sent["Message-ID"] == email.message_from_bytes(raw)["Message-ID"]
    assert [x.status for x in graph.operations("sendMail")] == [202]
    assert _csdl_problems(graph) == []


def test_six_megabytes_go_through_a_draft_and_an_upload_session(graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user@example.test", SEND)
    raw = _message("user@example.test", "user2@example.test", attachment=6 * 1024 * 1024)
    original = email.message_from_bytes(raw, policy=email.policy.default)
    pdf = next(original.iter_attachments()).get_content()

    async def run() -> Any:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            return await GraphMailbox(api, chunk_size=2 * 1024 * 1024).send(raw)

    result = asyncio.run(run())
    assert result.route == "draft" and result.uploaded == 1
    got = oauth_lab.wait_for_message("user2@example.test", subject=str(original["Subject"]))
    assert next(got.iter_attachments()).get_content() == pdf
    chunks = graph.operations("uploadChunk")
    assert [x.status for x in chunks] == [200, 200, 201]
    assert chunks[-1].response_headers["Location"].startswith(graph.base_url)
    assert [x.operation for x in graph.exchanges if x.operation != "uploadChunk"] == [
        "createMessage", "createUploadSession", "send"]
    assert graph.drafts("user@example.test") == []
    oauth_lab.wait_for_message("user@example.test", subject=str(original["Subject"]), mailbox="Sent")
    assert _csdl_problems(graph) == []


def test_a_draft_needs_mail_readwrite_and_is_refused_with_a_diagnosis(graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user@example.test", SEND_ONLY)
    raw = _message("user@example.test", "user2@example.test", attachment=5 * 1024 * 1024)

    async def run() -> Any:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            return await GraphMailbox(api).send(raw)

    with pytest.raises(RemoteRejected) as caught:
        asyncio.run(run())
    assert caught.value.code == "auth.insufficient_permissions"
    assert "ErrorAccessDenied" in (caught.value.server_text or "")


def test_expired_token_is_refreshed_once_and_the_send_goes_through(graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user@example.test", SEND)
    raw = _message("user@example.test", "user2@example.test")
    oauth_lab.oauth.expire_access_tokens()

    async def run() -> Any:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            return await GraphMailbox(api).send(raw)

    assert asyncio.run(run()).route == "sendMail"
    assert tokens.refreshes == 1
    assert [x.status for x in graph.operations("sendMail")] == [401, 202]
    assert graph.operations("sendMail")[0].response_json["error"]["code"] == "InvalidAuthenticationToken"


def test_throttling_is_a_deferral_with_retry_after(graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user@example.test", SEND)
    graph.fail_next(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.",
                    retry_after=2, operations={"sendMail"})

    async def run() -> Any:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            return await GraphMailbox(api).send(_message("user@example.test", "user2@example.test"))

    with pytest.raises(RemoteThrottled) as caught:
        asyncio.run(run())
    assert caught.value.retry_after == 2
    assert graph.deliveries == []
    assert asyncio.run(run()).route == "sendMail"


@pytest.mark.parametrize(("control", "code"), [
    ("disable_mailbox", "api.mailbox_not_enabled"),
    ("limit_messages", "send.daily_limit_reached"),
])
def test_mailbox_errors_get_stable_codes(graph: LabGraphServer, oauth_lab: Any, control: str, code: str) -> None:
    oauth_lab.oauth.users.setdefault("limits@example.test", oauth_lab.oauth.users["user@example.test"].__class__(
        email="limits@example.test", name="Limits", sub="sub-limits"))
    tokens = Tokens(oauth_lab.oauth, "limits@example.test", SEND)
    getattr(graph, control)("limits@example.test")

    async def run() -> Any:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            return await GraphMailbox(api).send(_message("limits@example.test", "user2@example.test"))

    with pytest.raises(RemoteRejected if code.startswith("api.") else RemoteThrottled) as caught:
        asyncio.run(run())
    assert caught.value.code == code


def test_revoked_grant_cannot_be_refreshed(graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user2@example.test", SEND)
    oauth_lab.oauth.revoke_user("user2@example.test")

    class Revoked(Tokens):
        async def __call__(self, *, rejected_token: str | None = None) -> str:
            if rejected_token:
                raise RemoteAuthError("refresh refused", code="auth.token_invalid", server_text="invalid_grant")
            return self.token

    revoked = Revoked.__new__(Revoked)
    revoked.__dict__.update(tokens.__dict__)

    async def run() -> Any:
        async with graph_api(tokens=revoked, base_url=graph.base_url) as api:
            return await GraphMailbox(api).send(_message("user2@example.test", "user@example.test"))

    with pytest.raises(RemoteAuthError) as caught:
        asyncio.run(run())
    assert caught.value.code == "auth.token_invalid"


def test_split_keeps_the_text_and_takes_out_the_largest_attachment() -> None:
    raw = _message("a@example.test", "b@example.test", attachment=5 * 1024 * 1024)
    body, detached = split_for_draft(raw)
    assert len(detached) == 1 and detached[0].name == "invoice.pdf" and len(detached[0].content) == 5 * 1024 * 1024
    rest = email.message_from_bytes(body, policy=email.policy.default)
    assert "invoice attached" in rest.get_body().get_content()
    assert rest["Message-ID"] == email.message_from_bytes(raw)["Message-ID"]


def test_inbox_delta_pages_then_increments_then_resyncs(graph: LabGraphServer, oauth_lab: Any) -> None:
    user = f"delta-{uuid.uuid4().hex[:6]}@example.test"
    oauth_lab.add_user(user)
    oauth_lab.oauth.users[user] = oauth_lab.oauth.users["user@example.test"].__class__(
        email=user, name="Delta", sub=f"sub-{user}")
    with oauth_lab.imap_client(user) as imap:
        for i in range(25):
            imap.append("INBOX", _message(f"customer{i}@example.test", user, subject=f"hello {i}"))
    tokens = Tokens(oauth_lab.oauth, user, READ)

    async def rounds(link: str | None) -> list[DeltaPage]:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            return [page async for page in GraphMailbox(api, page_size=10).delta(link)]

    first = asyncio.run(rounds(None))
    assert [len(p.messages) for p in first] == [10, 10, 5]
    assert first[-1].delta_link and not any(p.delta_link for p in first[:-1])
    assert {m.summary.subject for p in first for m in p.messages} == {f"hello {i}" for i in range(25)}
    assert first[0].messages[0].summary.from_email == "customer0@example.test"
    assert first[0].messages[0].summary.header_message_id
    with oauth_lab.imap_client(user) as imap:
        imap.append("INBOX", _message("new@example.test", user, subject="new one"))
    second = asyncio.run(rounds(first[-1].delta_link))
    assert [m.summary.subject for p in second for m in p.messages] == ["new one"]
    graph.expire_delta_tokens()
    third = asyncio.run(rounds(second[-1].delta_link))
    assert all(p.full_resync for p in third) and sum(len(p.messages) for p in third) == 26
    assert [x.status for x in graph.operations("delta")].count(410) == 1
    assert _csdl_problems(graph) == []


def test_reading_the_inbox_with_a_send_only_grant_is_forbidden(graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user@example.test", SEND_ONLY)

    async def run() -> Any:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            return [page async for page in GraphMailbox(api).delta(None)]

    with pytest.raises(RemoteRejected) as caught:
        asyncio.run(run())
    assert caught.value.code == "auth.insufficient_permissions"


def test_round_trip_check_finds_the_message_in_the_inbox(graph: LabGraphServer, oauth_lab: Any) -> None:
    tokens = Tokens(oauth_lab.oauth, "user@example.test", READ)
    raw = _message("user@example.test", "user@example.test", subject="test mail to myself")
    mid = email.message_from_bytes(raw)["Message-ID"]

    async def run() -> Any:
        async with graph_api(tokens=tokens, base_url=graph.base_url) as api:
            box = GraphMailbox(api)
            before = await box.landed_in(mid)
            await box.send(raw)
            for _ in range(100):
                where = await box.landed_in(mid)
                if where is not None:
                    return before, where
                await asyncio.sleep(0.1)
            return before, None

    assert asyncio.run(run()) == (None, "inbox")
    assert _csdl_problems(graph) == []
