"""The inbox and contacts API over HTTP, against mail synced from the lab's Dovecot (SQLite and
PostgreSQL): listing and filters, one message, raw bytes and attachments fetched on demand and
cached, contacts bulk upsert and their mail both ways, tenant isolation."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.adapters.storage.tables_inbox import InboxBody
from mailport.api.app import create_app
from mailport.runtime import Runtime

pytestmark = pytest.mark.lab

PASSWORD = "Api-Inbox-Passw0rd"
PDF = b"%PDF-1.4\n" + b"0" * 3000 + b"\n%%EOF\n"


@pytest.fixture
def mailbox(mail_lab: Any) -> str:
    email = f"api{secrets.token_hex(4)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    return email


@pytest.fixture
def runtime(tmp_path: Path, mail_lab: Any, database_url: str) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, database_url, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path),
                      connect_timeout=5.0)
    yield rt
    rt.close()


def tenant_client(app: Any, name: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    key = client.post("/v1/tenants", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    client.headers["Authorization"] = "Bearer " + key.json()["api_key"]
    return client


def put_mail(mail_lab: Any, email: str) -> None:
    client = mail_lab.imap_client(email, PASSWORD)
    try:
        inbound = EmailMessage()
        inbound["From"] = "Jane Buyer <Jane.Buyer@Customer.Example>"
        inbound["To"] = email
        inbound["Cc"] = "boekhouding@customer.example"
        inbound["Subject"] = "Order 7781 with drawing"
        inbound["Message-ID"] = "<order-7781@customer.example>"
        inbound.set_content("Please deliver on Friday.")
        inbound.add_attachment(PDF, maintype="application", subtype="pdf", filename="tekening 7781.pdf")
        client.append("INBOX", inbound.as_bytes())
        other = EmailMessage()
        other["From"] = "newsletter@shop-tools.example"
        other["To"] = email
        other["Subject"] = "Weekly deals"
        other.set_content("Nothing for you.")
        client.append("INBOX", other.as_bytes())
        outbound = EmailMessage()
        outbound["From"] = email
        outbound["To"] = "jane.buyer@customer.example"
        outbound["Subject"] = "Re: Order 7781 with drawing"
        outbound["In-Reply-To"] = "<order-7781@customer.example>"
        outbound["References"] = "<order-7781@customer.example>"
        outbound.set_content("Friday is fine.")
        client.append("Sent", outbound.as_bytes())
    finally:
        client.logout()


def test_inbox_and_contacts_api(runtime: Runtime, mail_lab: Any, mailbox: str) -> None:
    app = create_app(runtime)
    with tenant_client(app, "Bakkerij") as a, tenant_client(app, "Concurrent") as b:
        account = a.post("/v1/accounts", json={
            "email": mailbox, "password": PASSWORD,
            "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
            "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
        })
        assert account.status_code == 201, account.text
        account_id = account.json()["id"]
        assert a.get(f"/v1/inbox/accounts/{account_id}/sync").json()["state"] == "pending"
        put_mail(mail_lab, mailbox)

        synced = a.post(f"/v1/inbox/accounts/{account_id}/sync")
        assert synced.status_code == 200, synced.text
        assert synced.json()["state"] == "idle" and synced.json()["last_sync_at"] and synced.json()["error"] is None

        listed = a.get("/v1/inbox/messages", params={"account": account_id}).json()
        assert sorted(m["subject"] for m in listed) == ["Order 7781 with drawing", "Re: Order 7781 with drawing",
                                                        "Weekly deals"]
        order = next(m for m in listed if m["subject"] == "Order 7781 with drawing")
        reply = next(m for m in listed if m["direction"] == "out")
        assert order["from"] == {"name": "Jane Buyer", "email": "Jane.Buyer@Customer.Example"}
        assert order["message_id_header"] == "<order-7781@customer.example>"
        assert order["snippet"].startswith("Please deliver on Friday.") and order["seen"] is False
        assert reply["thread_id"] == order["thread_id"]  # threaded by References
        # Known at sync time from BODYSTRUCTURE (parsed only where it names a file or an attachment).
        assert order["has_attachments"] and [(x["filename"], x["content_type"]) for x in order["attachments"]] == [
            ("tekening 7781.pdf", "application/pdf")]
        assert not any(m["has_attachments"] for m in listed if m["id"] != order["id"])
        assert [m["subject"] for m in a.get("/v1/inbox/messages", params={"q": "weekly"}).json()] == ["Weekly deals"]
        newest = max(m["received_at"] for m in listed)
        older = a.get("/v1/inbox/messages", params={"before": newest}).json()
        assert all(m["received_at"] < newest for m in older)
        assert len(a.get("/v1/inbox/messages", params={"before": "2000-01-01T00:00:00Z"}).json()) == 0
        assert a.get("/v1/inbox/messages", params={"before": "yesterday"}).status_code in (400, 422)

        one = a.get(f"/v1/inbox/messages/{order['id']}")
        assert one.status_code == 200 and one.json()["id"] == order["id"]

        # Body and attachment on demand, cached after the first fetch.
        with runtime.db.session() as s:
            assert s.get(InboxBody, order["id"]) is None
        raw = a.get(f"/v1/inbox/messages/{order['id']}/raw")
        assert raw.status_code == 200 and raw.headers["content-type"].startswith("message/rfc822")
        assert b"Please deliver on Friday." in raw.content
        with runtime.db.session() as s:
            assert s.get(InboxBody, order["id"]) is not None
        attachment = a.get(f"/v1/inbox/messages/{order['id']}/attachments/0")
        assert attachment.status_code == 200 and attachment.content == PDF
        assert attachment.headers["content-type"] == "application/pdf"
        assert 'filename="tekening 7781.pdf"' in attachment.headers["content-disposition"]
        assert a.get(f"/v1/inbox/messages/{order['id']}/attachments/1").status_code == 404

        # Contacts: bulk upsert by the host's ids; mail both ways, any participant, any case.
        put = a.put("/v1/contacts", json=[
            {"id": "crm-42", "name": "Jane Buyer", "addresses": ["jane.buyer@customer.example"]},
            {"id": "crm-43", "name": "Accounts", "addresses": ["BOEKHOUDING@customer.example"]},
            {"id": "crm-44", "name": "Nobody", "addresses": []},
        ])
        assert put.status_code == 200, put.text
        assert (put.json()["created"], put.json()["updated"]) == (3, 0)
        jane = a.get("/v1/contacts/crm-42/messages").json()
        assert sorted(m["subject"] for m in jane) == ["Order 7781 with drawing", "Re: Order 7781 with drawing"]
        assert {m["direction"] for m in jane} == {"in", "out"}
        assert [m["subject"] for m in a.get("/v1/contacts/crm-43/messages").json()] == ["Order 7781 with drawing"]
        assert a.get("/v1/contacts/crm-44/messages").json() == []
        assert [m["subject"] for m in a.get("/v1/inbox/messages", params={"contact": "crm-42", "q": "re:"}).json()] \
            == ["Re: Order 7781 with drawing"]
        assert sorted(a.get(f"/v1/inbox/messages/{order['id']}").json()["contacts"]) == ["crm-42", "crm-43"]
        again = a.put("/v1/contacts", json=[{"id": "crm-42", "name": "Jane B.", "addresses": ["other@x.example"]}])
        assert (again.json()["created"], again.json()["updated"]) == (0, 1)
        assert a.get("/v1/contacts/crm-42/messages").json() == []  # re-linked at once
        bad = a.put("/v1/contacts", json=[{"id": "crm-9", "addresses": ["not an address"]}])
        assert bad.status_code in (400, 422)
        dup = a.put("/v1/contacts", json=[{"id": "x", "addresses": []}, {"id": "x", "addresses": []}])
        assert dup.status_code in (400, 422)

        # Tenant isolation: the other tenant sees none of it.
        assert b.get("/v1/inbox/messages").json() == []
        assert b.get(f"/v1/inbox/messages/{order['id']}").status_code == 404
        assert b.get(f"/v1/inbox/messages/{order['id']}/raw").status_code == 404
        assert b.get(f"/v1/inbox/messages/{order['id']}/attachments/0").status_code == 404
        assert b.get("/v1/contacts/crm-43/messages").status_code == 404
        assert b.get(f"/v1/inbox/accounts/{account_id}/sync").status_code == 404
        assert b.post(f"/v1/inbox/accounts/{account_id}/sync").status_code == 404
        assert b.get("/v1/inbox/messages", params={"account": account_id}).status_code == 404
        b.put("/v1/contacts", json=[{"id": "crm-43", "name": "Theirs", "addresses": ["boekhouding@customer.example"]}])
        assert b.get("/v1/contacts/crm-43/messages").json() == []
        assert [c["name"] for c in a.get("/v1/contacts").json() if c["id"] == "crm-43"] == ["Accounts"]
        assert a.get("/v1/inbox/messages").status_code == 200
        assert TestClient(app, raise_server_exceptions=False).get("/v1/inbox/messages").status_code == 401

    with runtime.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(InboxBody)) == 1


def test_cli_inbox_sync_and_status(tmp_path: Path, mail_lab: Any, mailbox: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from mailport.cli import app as cli
    from mailport.services.accounts import AccountInput

    rt = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path))
    tenant = rt.tenants.create(name="Bakkerij").tenant.id
    account = rt.accounts.create(tenant, AccountInput(
        email=mailbox, password=PASSWORD,
        smtp={"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        imap={"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    )).id
    rt.close()
    put_mail(mail_lab, mailbox)
    for name, value in {"MAILPORT_ENV": "test", "MAILPORT_DATA_DIR": str(tmp_path / "var"),
                        "MAILPORT_ADMIN_KEY": ADMIN_KEY, "MAILPORT_SECRET_KEY": rt.settings.secret_key,
                        "MAILPORT_ALLOW_PRIVATE_HOSTS": "1", "MAILPORT_CA_FILE": str(mail_lab.ca_pem_path),
                        "MAILPORT_TENANT": tenant}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    synced = runner.invoke(cli, ["inbox", "sync", account, "--json"])
    assert synced.exit_code == 0, synced.output
    folders = {f["role"]: f for f in json.loads(synced.stdout)["folders"]}
    assert folders["inbox"]["added"] == 2 and folders["sent"]["added"] == 1 and folders["inbox"]["reset"]
    status = runner.invoke(cli, ["inbox", "status", account, "--json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["state"] == "idle"
    missing = runner.invoke(cli, ["inbox", "status", "acc_nope"])
    assert missing.exit_code == 2 and "not_found" in missing.output
