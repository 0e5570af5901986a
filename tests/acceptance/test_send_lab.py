"""Issue 6 against the lab's real Postfix (submission, STARTTLS, AUTH) and Dovecot (IMAPS):
a 3-attachment invoice sent through the HTTP API arrives byte-correct, and its Sent copy exists
exactly once — also when the Sent-copy step is repeated after a crash."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.adapters.queue import ClaimedJob
from mailport.adapters.storage.tables_outbox import SentCopy
from mailport.api.app import create_app
from mailport.core.jobs import Done
from mailport.runtime import Runtime

pytestmark = pytest.mark.lab

PASSWORD = "Lab-Send-Passw0rd"
FILES = {
    "factuur-2026-0042.pdf": b"%PDF-1.7\n" + secrets.token_bytes(150_000) + b"\n%%EOF\n",
    "factuur-2026-0042.xml": b"<?xml version='1.0'?><Invoice>" + b"<Line/>" * 5000 + b"</Invoice>",
    "algemene voorwaarden – 2026.pdf": b"%PDF-1.4\n" + secrets.token_bytes(40_000),
}


@pytest.fixture
def sender(mail_lab: Any) -> str:
    email = f"shop{secrets.token_hex(3)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    return email


@pytest.fixture
def runtime(tmp_path: Path, mail_lab: Any) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path),
                      connect_timeout=10.0)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, embedded_worker=True), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


def _wait_state(client: TestClient, message_id: str, states: set[str], timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/messages/{message_id}").json()
        if body["state"] in states:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def _sent_copy_done(client: TestClient, message_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/messages/{message_id}").json()
        if (body.get("sent_copy") or {}).get("state") in ("done", "skipped", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_invoice_arrives_byte_correct_with_one_sent_copy(
    client: TestClient, runtime: Runtime, mail_lab: Any, sender: str
) -> None:
    account = client.post("/v1/accounts", json={
        "email": sender, "display_name": "Bakkerij Jansen", "password": PASSWORD,
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    }).json()
    resp = client.post("/v1/messages", headers={"Idempotency-Key": "inv-2026-0042"}, json={
        "account": account["id"],
        "to": [{"email": "user2@example.test", "name": "Debiteur, BV"}],
        "subject": "Factuur 2026-0042 — €1.234,56",
        "text": "Beste klant,\n\nIn de bijlage vindt u factuur 2026-0042.\n",
        "html": "<p>Beste klant,</p><p>In de bijlage vindt u factuur <b>2026-0042</b>.</p>",
        "attachments": [{"filename": name, "content": base64.b64encode(data).decode()}
                        for name, data in FILES.items()],
        "metadata": {"invoice_id": "2026-0042"},
    })
    assert resp.status_code == 202, resp.text
    message_id = resp.json()["id"]

    sent = _wait_state(client, message_id, {"sent", "failed"})
    assert sent["state"] == "sent", sent
    header_id = sent["message_id_header"]
    delivered = mail_lab.wait_for_message("user2@example.test", headers={"Message-ID": header_id})
    got = {part.get_filename(): hashlib.sha256(part.get_content()).hexdigest()
           for part in delivered.iter_attachments()}
    assert got == {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
    assert delivered["Subject"] == "Factuur 2026-0042 — €1.234,56"

    view = _sent_copy_done(client, message_id)
    assert view["sent_copy"]["state"] == "done" and view["sent_copy"]["folder"] == "Sent"
    copies = [m for m in mail_lab.messages(sender, "Sent") if m["Message-ID"] == header_id]
    assert len(copies) == 1
    assert {p.get_filename() for p in copies[0].iter_attachments()} == set(FILES)

    # A repeated request replays; the same key with another body is refused.
    again = client.post("/v1/messages", headers={"Idempotency-Key": "inv-2026-0042"}, json={
        "account": account["id"], "to": ["user2@example.test"], "subject": "other", "text": "x"})
    assert again.status_code == 409 and again.json()["code"] == "request.idempotency_mismatch"

    # A worker that died between "started" and "done" of the APPEND: the next attempt searches the
    # folder by Message-ID and finds the copy instead of appending a second one.
    with runtime.db.session() as s:
        s.execute(sa.update(SentCopy).where(SentCopy.message_id == message_id).values(state="started"))
    job = ClaimedJob(id=0, kind="sent_copy", tenant_id=None, payload={"message_id": message_id},
                     attempts=2, created_at=datetime.now(UTC))
    assert isinstance(client.portal.call(runtime.outbox.handle_sent_copy, job), Done)  # type: ignore[union-attr]
    assert len([m for m in mail_lab.messages(sender, "Sent") if m["Message-ID"] == header_id]) == 1
    assert client.get(f"/v1/messages/{message_id}").json()["sent_copy"]["detail"] == \
        "found after an interrupted attempt"


def test_gmail_and_microsoft_accounts_get_no_appended_copy(
    client: TestClient, mail_lab: Any, sender: str
) -> None:
    # The lab plays the role of the provider; the decision is made from the provider id.
    account = client.post("/v1/accounts", json={
        "email": sender, "password": PASSWORD, "provider_id": "microsoft365",
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    }).json()
    message_id = client.post("/v1/messages", json={
        "account": account["id"], "to": ["user2@example.test"], "subject": "M365", "text": "x",
    }).json()["id"]
    view = _sent_copy_done(client, message_id)
    assert view["state"] == "sent"
    assert view["sent_copy"] == {"state": "skipped", "folder": None, "uid": None, "attempts": 0,
                                 "detail": "the server files sent mail itself"}
    assert mail_lab.messages(sender, "Sent") == []


async def test_oauth_account_sends_and_files_its_copy_with_tokens(tmp_path: Path, oauth_lab: Any) -> None:
    """XOAUTH2 against real Postfix + Dovecot: the first token is refused, the outbox asks its
    token source for a fresh one once and sends; the Sent copy is APPENDed with the token too."""
    from integration.outbox_helpers import run_worker_until
    from integration.test_oauth_sasl import _token
    from mailport.services.accounts import AccountInput
    from mailport.services.oauth import Credentials
    from mailport.services.send import SendRequest

    rt = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(oauth_lab.ca_pem_path), connect_timeout=10.0)
    tenant = rt.tenants.create(name="OAuth").tenant.id
    account = rt.accounts.create(tenant, AccountInput(
        email="user@example.test", auth_kind="oauth2",
        smtp={"host": "127.0.0.1", "port": oauth_lab.submission_port, "security": "starttls"},
        imap={"host": "127.0.0.1", "port": oauth_lab.imaps_port, "security": "tls"},
    )).id
    good = await _token(oauth_lab)
    asked: list[str | None] = []

    async def tokens(tenant_id: str, account_id: str, *, rejected_token: str | None = None) -> Credentials:
        asked.append(rejected_token)
        config, _ = rt.accounts.connection(tenant_id, account_id)
        return Credentials(config=config, password=None, token=good if rejected_token else "expired-token")

    rt.outbox.credentials = tokens
    subject = f"OAuth factuur {secrets.token_hex(3)}"
    message_id = rt.outbox.submit(tenant, SendRequest(account_id=account, to=["user2@example.test"],
                                                      subject=subject, text="Zie bijlage.")).message.id

    def copied() -> bool:
        view = rt.outbox.get(tenant, message_id)
        return view.state in ("sent", "failed") and (view.sent_copy or {}).get("state") in ("done", "failed")

    await run_worker_until(rt, copied, timeout=60)
    view = rt.outbox.get(tenant, message_id)
    assert view.state == "sent", view
    assert asked == [None, "expired-token", None, "expired-token"]  # send, then the Sent copy
    oauth_lab.wait_for_message("user2@example.test", subject=subject)
    assert view.sent_copy is not None and view.sent_copy["state"] == "done", view.sent_copy
    assert len([m for m in oauth_lab.messages("user@example.test", "Sent") if m["Subject"] == subject]) == 1
    rt.close()
