"""``/v1/messages``, ``/v1/webhooks`` and ``/metrics`` through HTTP, on SQLite and PostgreSQL,
with the embedded worker sending to an aiosmtpd sink."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
import unicodedata
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY
from integration.outbox_helpers import outbox_runtime
from lab import SmtpSink
from mailport.api.app import create_app
from mailport.runtime import Runtime

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 64


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url, max_message_bytes=200_000)
    yield runtime
    runtime.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, embedded_worker=True), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


@pytest.fixture
def account(client: TestClient, smtp_sink: SmtpSink) -> str:
    resp = client.post("/v1/accounts", json={
        "email": "user@example.test", "display_name": "Bakkerij Jansen", "password": "password",
        "smtp": {"host": "127.0.0.1", "port": smtp_sink.port, "security": "none"},
    })
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _wait(client: TestClient, message_id: str, states: set[str], timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/messages/{message_id}").json()
        if body["state"] in states:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_json_with_base64_attachment(client: TestClient, account: str, smtp_sink: SmtpSink) -> None:
    resp = client.post("/v1/messages", json={
        "account": account, "from": {"email": "user@example.test", "name": "Bakkerij Jansen"},
        "to": ["debiteur@example.org"], "reply_to": ["administratie@example.test"],
        "subject": "Factuur 42", "text": "Zie bijlage.",
        "attachments": [{"filename": "factuur-42.pdf", "content": base64.b64encode(PDF).decode()}],
        "headers": {"X-Invoice-Id": "42"}, "metadata": {"invoice_id": "42"},
    })
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["state"] == "queued" and body["from"] == "user@example.test"
    assert resp.headers["location"] == f"/v1/messages/{body['id']}"

    sent = _wait(client, body["id"], {"sent", "failed"})
    assert sent["state"] == "sent"
    assert [e["type"] for e in sent["events"]] == ["message.queued", "message.sending", "message.sent"]
    [received] = smtp_sink.messages
    parsed = message_from_bytes(received.data, policy=policy.default)
    assert parsed["X-Invoice-Id"] == "42" and "administratie@example.test" in parsed["Reply-To"]
    [part] = list(parsed.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert hashlib.sha256(part.get_content()).hexdigest() == hashlib.sha256(PDF).hexdigest()


def test_multipart_upload(client: TestClient, account: str, smtp_sink: SmtpSink) -> None:
    message = {"account": account, "to": ["debiteur@example.org"], "subject": "Twee bijlagen", "text": "x"}
    resp = client.post("/v1/messages", data={"message": json.dumps(message)}, files=[
        ("attachments", ("factuur.pdf", PDF, "application/pdf")),
        ("attachments", ("data.bin", b"\x00\x01binary", "application/octet-stream")),
    ])
    assert resp.status_code == 202, resp.text
    assert resp.json()["attachment_count"] == 2
    assert _wait(client, resp.json()["id"], {"sent", "failed"})["state"] == "sent"
    parsed = message_from_bytes(smtp_sink.messages[0].data, policy=policy.default)
    got = {p.get_filename(): p.get_content() for p in parsed.iter_attachments()}
    assert got == {"factuur.pdf": PDF, "data.bin": b"\x00\x01binary"}

    missing = client.post("/v1/messages", data={"other": "x"}, files=[("attachments", ("a.pdf", PDF))])
    assert missing.status_code == 422 and missing.json()["field"] == "message"
    # A file under another part name was dropped and the message queued without it.
    for name in ("attachment", "file"):
        misnamed = client.post("/v1/messages", data={"message": json.dumps(message)},
                               files=[(name, ("factuur.pdf", PDF, "application/pdf"))])
        assert misnamed.status_code == 422 and misnamed.json()["field"] == name, misnamed.text
        assert "'attachments'" in misnamed.json()["title"]


def _attachment_head(raw: bytes) -> bytes:
    """The attachment part's header lines as sent (boundaries, dates and ids differ per message)."""
    return b"Content-Type: application/pdf" + raw.split(b"Content-Type: application/pdf", 1)[1].split(b"\r\n\r\n", 1)[0]


@pytest.mark.parametrize("name", ['factuur "maart".pdf', "Rechnung_März.pdf", "請求書.pdf", "Factuur 2026-001.pdf"])
def test_an_attachment_name_is_sent_the_same_from_json_and_from_an_upload(
        client: TestClient, account: str, smtp_sink: SmtpSink, name: str) -> None:
    """One name, one set of header bytes, whichever way it came; a mail program (here Python's
    ``email``) reads back exactly that name. The upload's name was ``factuur %22maart%22.pdf``
    (the HTML standard's escape left in), and the JSON one was written with backslash escapes."""
    message = {"account": account, "to": ["debiteur@example.org"], "subject": "Factuur", "text": "x"}
    sent_json = client.post("/v1/messages", json={**message, "attachments": [
        {"filename": name, "content": base64.b64encode(PDF).decode(), "content_type": "application/pdf"}]})
    # A Mac's upload says "März" decomposed (NFD); the name is the same.
    upload_name = unicodedata.normalize("NFD", name)
    sent_upload = client.post("/v1/messages", data={"message": json.dumps(message)},
                              files=[("attachments", (upload_name, PDF, "application/pdf"))])
    assert sent_json.status_code == sent_upload.status_code == 202, (sent_json.text, sent_upload.text)
    for resp in (sent_json, sent_upload):
        assert _wait(client, resp.json()["id"], {"sent", "failed"})["state"] == "sent"
    first, second = (m.data for m in smtp_sink.messages)
    assert _attachment_head(first) == _attachment_head(second)
    for raw in (first, second):
        [part] = list(message_from_bytes(raw, policy=policy.default).iter_attachments())
        assert (part.get_filename(), part.get_param("name"), part.get_content()) == (name, name, PDF)


@pytest.mark.parametrize("name", ["a\\b.pdf", "C:\\Users\\anna\\factuur.pdf", "../factuur.pdf"])
def test_a_name_with_a_path_is_refused_the_same_from_json_and_from_an_upload(
        client: TestClient, account: str, name: str) -> None:
    """The upload's parser cut ``C:\\…\\factuur.pdf`` to ``factuur.pdf`` and sent it, where JSON refused it."""
    message = {"account": account, "to": ["debiteur@example.org"], "subject": "Factuur", "text": "x"}
    refused = [client.post("/v1/messages", json={**message, "attachments": [
                   {"filename": name, "content": base64.b64encode(PDF).decode()}]}),
               client.post("/v1/messages", data={"message": json.dumps(message)},
                           files=[("attachments", (name, PDF, "application/pdf"))])]
    assert [r.status_code for r in refused] == [422, 422], [r.text for r in refused]
    assert {r.json()["field"] for r in refused} == {"attachments[0].filename"}


def test_idempotency_key(client: TestClient, account: str) -> None:
    body = {"account": account, "to": ["a@example.org"], "subject": "Herinnering", "text": "x"}
    first = client.post("/v1/messages", json=body, headers={"Idempotency-Key": "reminder-7"})
    again = client.post("/v1/messages", json=body, headers={"Idempotency-Key": "reminder-7"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    other = client.post("/v1/messages", json={**body, "subject": "Anders"}, headers={"Idempotency-Key": "reminder-7"})
    assert other.status_code == 409 and other.json()["code"] == "request.idempotency_mismatch"
    bad = client.post("/v1/messages", json=body, headers={"Idempotency-Key": "twee woorden"})
    assert bad.status_code == 422


def test_bad_requests_are_clear_problems(client: TestClient, account: str) -> None:
    base = {"account": account, "to": ["a@example.org"], "text": "x"}
    injected = client.post("/v1/messages", json={**base, "subject": "Hi\r\nBcc: x@example.org"})
    assert injected.status_code == 422 and injected.json()["field"] == "subject"
    assert injected.headers["content-type"] == "application/problem+json"
    sender = client.post("/v1/messages", json={**base, "from": "ceo@example.test"})
    assert sender.status_code == 422 and sender.json()["code"] == "send.sender_not_allowed"
    # Most mail apps show only the name: it may not name another address (docs/security.md)
    spoofed = client.post("/v1/messages", json={**base, "from": {"email": "user@example.test",
                                                                 "name": "PayPal <service@paypal.com>"}},
                          headers={"Accept-Language": "nl"})
    assert spoofed.status_code == 422, spoofed.text
    assert spoofed.json()["code"] == "send.from_name_spoofing" and spoofed.json()["field"] == "from.name"
    assert spoofed.json()["title"] == "De afzendernaam mag geen ander e-mailadres bevatten"
    not_b64 = client.post("/v1/messages", json={**base, "attachments": [{"filename": "a.pdf", "content": "%%%"}]})
    assert not_b64.status_code == 422 and not_b64.json()["field"] == "attachments[0].content"
    too_big = base64.b64encode(b"\x00" * 210_000).decode()
    large = client.post("/v1/messages", json={**base, "attachments": [{"filename": "a.bin", "content": too_big}]})
    assert large.status_code == 413 and large.json()["code"] == "request.message_too_large"
    no_rcpt = client.post("/v1/messages", json={"account": account, "text": "x"})
    assert no_rcpt.status_code == 422 and no_rcpt.json()["field"] == "to"
    unknown_field = client.post("/v1/messages", json={**base, "priority": "high"})
    assert unknown_field.status_code == 422 and unknown_field.json()["code"] == "request.invalid"
    assert client.get("/v1/messages").json() == []
    assert client.get("/v1/messages/msg_doesnotexist").status_code == 404


def test_send_at_list_and_cancel(client: TestClient, account: str, smtp_sink: SmtpSink) -> None:
    later = client.post("/v1/messages", json={
        "account": account, "to": ["a@example.org"], "subject": "Later", "text": "x",
        "send_at": "2099-01-01T09:00:00+01:00"})
    assert later.status_code == 422  # more than a year ahead
    later = client.post("/v1/messages", json={
        "account": account, "to": ["a@example.org"], "subject": "Later", "text": "x",
        "send_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))})
    now = client.post("/v1/messages", json={"account": account, "to": ["b@example.org"], "text": "x"})
    later_id, now_id = later.json()["id"], now.json()["id"]
    _wait(client, now_id, {"sent"})
    assert [m["id"] for m in client.get("/v1/messages", params={"status": "queued"}).json()] == [later_id]
    assert [m["id"] for m in client.get("/v1/messages", params={"status": "sent,queued"}).json()] == [now_id, later_id]
    assert client.get("/v1/messages", params={"status": "lost"}).status_code == 422
    assert len(client.get("/v1/messages", params={"account": account}).json()) == 2

    cancelled = client.post(f"/v1/messages/{later_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    refused = client.post(f"/v1/messages/{now_id}/cancel")
    assert refused.status_code == 409 and refused.json()["code"] == "message.not_cancellable"
    assert len(smtp_sink.messages) == 1


def test_tenants_do_not_see_each_others_messages(client: TestClient, account: str) -> None:
    message_id = client.post("/v1/messages", json={"account": account, "to": ["a@example.org"],
                                                   "text": "x"}).json()["id"]
    other_key = client.post("/v1/tenants", json={"name": "Other"},
                            headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
    other = {"Authorization": f"Bearer {other_key}"}
    assert client.get(f"/v1/messages/{message_id}", headers=other).status_code == 404
    assert client.post(f"/v1/messages/{message_id}/cancel", headers=other).status_code == 404
    assert client.get("/v1/messages", headers=other).json() == []
    sent_by_other = client.post("/v1/messages", headers=other, json={"account": account, "to": ["a@example.org"],
                                                                     "text": "x"})
    assert sent_by_other.status_code == 404


def test_listing_by_another_tenants_account_is_not_found_as_in_the_inbox(client: TestClient, account: str) -> None:
    other_key = client.post("/v1/tenants", json={"name": "Other"},
                            headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
    other = {"Authorization": f"Bearer {other_key}"}
    answers = set()
    for path in ("/v1/messages", "/v1/inbox/messages"):
        for account_id in (account, "acc_doesnotexist"):
            resp = client.get(path, params={"account": account_id}, headers=other)
            assert resp.status_code == 404, (path, account_id, resp.text)
            answers.add(resp.text)
    assert len(answers) == 1, answers  # the same problem, whether the account exists elsewhere or not
    # The owner's own account, the platform, and a removed account with history stay listable.
    assert client.get("/v1/messages", params={"account": account}).json() == []
    assert client.get("/v1/messages", params={"account": "platform"}).status_code == 200
    client.post("/v1/messages", json={"account": account, "to": ["a@example.org"], "text": "x"})
    assert client.delete(f"/v1/accounts/{account}").status_code == 204
    assert len(client.get("/v1/messages", params={"account": account}).json()) == 1


def test_webhook_crud_and_test_delivery(client: TestClient) -> None:
    with socket.socket() as probe:  # a port nobody listens on (a webhook may not use port 9, discard)
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    created = client.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{free}/hook",
                                                "event_types": ["message.sent"]})
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["enabled"] is True
    assert "secret" not in client.get(f"/v1/webhooks/{hook['id']}").json()
    assert [w["id"] for w in client.get("/v1/webhooks").json()] == [hook["id"]]
    patched = client.patch(f"/v1/webhooks/{hook['id']}", json={"event_types": [], "description": "ERP"})
    assert patched.json()["event_types"] == [] and patched.json()["description"] == "ERP"
    rotated = client.post(f"/v1/webhooks/{hook['id']}/rotate-secret").json()["secret"]
    assert rotated != hook["secret"]

    test = client.post(f"/v1/webhooks/{hook['id']}/test")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    deadline = time.monotonic() + 10
    while (log := client.get(f"/v1/webhooks/{hook['id']}/deliveries").json())[0]["attempts"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert log[0]["state"] == "pending" and log[0]["last_error"]  # nobody listens; retried later

    bad = client.post("/v1/webhooks", json={"url": "ftp://example.org/"})
    assert bad.status_code == 422
    for url, code in (("https://hooks.example.org:25/x", "webhook.url_invalid"),
                      ("https://u:p@hooks.example.org/x", "webhook.url_invalid"),
                      ("https://hooks.example.org:6667/x", "webhook.url_invalid")):
        refused = client.post("/v1/webhooks", json={"url": url}, headers={"Accept-Language": "nl"})
        assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
        assert refused.json()["title"] != "The webhook address is not valid"  # said in Dutch
        assert client.patch(f"/v1/webhooks/{hook['id']}", json={"url": url}).status_code == 422
    assert client.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    assert client.get(f"/v1/webhooks/{hook['id']}").status_code == 404


@pytest.mark.parametrize(("lang", "title", "step"), [
    ("en", "This webhook address may not be used",
     "Enter the public https address at which your application receives the events"),
    ("nl", "Dit webhookadres mag niet worden gebruikt",
     "Vul het openbare https-adres in waarop je applicatie de gebeurtenissen ontvangt"),
])
def test_a_webhook_on_a_private_host_is_refused_in_words_about_webhooks(
        api: Any, admin_headers: dict[str, str], lang: str, title: str, step: str) -> None:
    """The network rule is the mail servers' one; its words were too ("This server address may not
    be used", "your email provider's help pages"), which sent a developer looking in the wrong place."""
    key = api.post("/v1/tenants", json={"name": "Bakkerij"}, headers=admin_headers).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": lang}
    hook = api.post("/v1/webhooks", json={"url": "https://hooks.example.org/x"}, headers=headers).json()
    for url in ("https://127.0.0.1/hook", "https://localhost:8443/hook", "https://10.0.0.8/hook", "https://erp/hook"):
        for resp in (api.post("/v1/webhooks", json={"url": url}, headers=headers),
                     api.patch(f"/v1/webhooks/{hook['id']}", json={"url": url}, headers=headers)):
            assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
            body = resp.json()
            assert (body["code"], body["field"]) == ("webhook.host_not_allowed", "url"), resp.text
            assert body["diagnosis"]["code"] == "webhook.host_not_allowed"
            assert body["diagnosis"]["title"] == title, resp.text
            assert any(s.startswith(step) for s in body["diagnosis"]["steps"]), resp.text
            if lang == "en":
                assert "webhook URL" in body["title"], resp.text
            else:
                assert body["title"] == title and "webhook URL" in body["detail"], resp.text
            said = json.dumps(body, ensure_ascii=False).lower()
            assert not any(w in said for w in ("mail server", "server name", "serveradres", "servernaam")), said
    assert [w["url"] for w in api.get("/v1/webhooks", headers=headers).json()] == ["https://hooks.example.org/x"]


def test_metrics(client: TestClient, account: str) -> None:
    message_id = client.post("/v1/messages", json={"account": account, "to": ["a@example.org"],
                                                   "text": "x"}).json()["id"]
    _wait(client, message_id, {"sent"})
    # The worker counts an attempt once its outcome has committed, so the process-local
    # counters may trail the message's state by a moment.
    deadline = time.monotonic() + 10
    while 'mailport_send_attempts_total{code="",state="sent"}' not in (text := client.get("/metrics").text):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    assert 'mailport_messages{state="sent"} 1.0' in text
    assert 'mailport_queue_jobs{kind="send",state="done"} 1.0' in text
    assert 'mailport_recipient_outcomes{code="",status="accepted"} 1.0' in text
    assert "mailport_send_attempt_seconds_count 1.0" in text
    assert 'mailport_send_attempts_total{code="",state="sent"} 1.0' in text


def test_other_media_types_are_refused(client: TestClient, account: str) -> None:
    resp = client.post("/v1/messages", content=b"to=a@example.org", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415 and resp.json()["code"] == "request.unsupported_media_type"
