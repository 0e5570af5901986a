"""Issue 3 end to end through the HTTP API against the lab's real Postfix + Dovecot.

Connect a mailbox, verify it with a round trip, see failures as stable codes, and find no password
in the database file or in the log output of the whole flow.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.api.app import create_app
from mailport.logs import JsonFormatter, RedactingFilter

pytestmark = pytest.mark.lab

PASSWORD = "Lab-Secret-4b1d-Passw0rd"


@pytest.fixture
def lab_user(mail_lab: Any) -> str:
    import secrets

    email = f"shop{secrets.token_hex(3)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    return email


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Every log record of the test, as the service writes it (JSON lines, redaction on)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture
def client(tmp_path: Path, mail_lab: Any) -> Iterator[TestClient]:
    runtime = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path),
                           verify_roundtrip_timeout=20.0, connect_timeout=5.0)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


def _body(mail_lab: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    return {
        "email": email,
        "display_name": "Bakkerij Test",
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
        "password": password,
    }


def test_connect_and_verify_with_round_trip(client: TestClient, mail_lab: Any, lab_user: str,
                                            log_stream: io.StringIO, tmp_path: Path) -> None:
    account = client.post("/v1/accounts", json=_body(mail_lab, lab_user)).json()
    resp = client.post(f"/v1/accounts/{account['id']}/verify")
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["ok"] is True and report["outcome"] == "verified", report
    assert all(s["status"] == "ok" for s in report["stages"]), report["stages"]
    assert all(isinstance(s["duration_ms"], int) for s in report["stages"])
    assert report["roundtrip"]["landed_in"] == "inbox"
    # The verifier found the test mail in the Dovecot INBOX (landed_in above) and then deleted it,
    # so it never ends up in the business's mailbox or the CRM: none with its Message-ID is left.
    test_mail = report["roundtrip"]["message_id"]
    assert test_mail.startswith("<mailport-verify.")
    assert [m for m in mail_lab.messages(lab_user) if m["Message-ID"] == test_mail] == []
    stored = client.get(f"/v1/accounts/{account['id']}").json()
    assert stored["status"] == "verified" and stored["last_verification"]["outcome"] == "verified"

    # Nothing of the password anywhere: not in the API, the raw database, or the logs.
    plain_forms = [PASSWORD, base64.b64encode(f"\0{lab_user}\0{PASSWORD}".encode()).decode(),
                   base64.b64encode(PASSWORD.encode()).decode()]
    client.app.state.runtime.db.dispose()
    raw = b"".join(p.read_bytes() for p in (tmp_path / "var").glob("mailport.db*"))
    logs = log_stream.getvalue()
    assert logs, "expected log output from the flow"
    for form in plain_forms:
        assert form.encode() not in raw
        assert form not in logs
        assert form not in resp.text


def test_wrong_password_gives_stable_code_and_keeps_account(client: TestClient, mail_lab: Any, lab_user: str) -> None:
    account = client.post("/v1/accounts", json=_body(mail_lab, lab_user, password="not-the-password")).json()
    report = client.post(f"/v1/accounts/{account['id']}/verify").json()
    assert report["ok"] is False and report["code"] == "auth.invalid_credentials", report
    failed = [s for s in report["stages"] if s["status"] == "failed"]
    assert [s["stage"] for s in failed] == ["smtp.auth"]
    assert all(s["status"] == "skipped" for s in report["stages"][report["stages"].index(failed[0]) + 1:])
    after = client.get(f"/v1/accounts/{account['id']}").json()
    assert after["smtp"] == account["smtp"] and after["imap"] == account["imap"] and after["status"] == "failed"


def test_verify_without_imap_reports_sent_unconfirmed(client: TestClient, mail_lab: Any, lab_user: str) -> None:
    body = _body(mail_lab, lab_user)
    body.pop("imap")
    account = client.post("/v1/accounts", json=body).json()
    report = client.post(f"/v1/accounts/{account['id']}/verify").json()
    assert report["outcome"] == "sent_unconfirmed" and report["ok"] is True, report
    assert report["roundtrip"]["sent"] is True and report["roundtrip"]["arrived"] is None
    assert client.get(f"/v1/accounts/{account['id']}").json()["status"] == "sent_unconfirmed"


def test_wrong_password_is_explained_in_dutch(client: TestClient, mail_lab: Any, lab_user: str) -> None:
    account = client.post("/v1/accounts", json=_body(mail_lab, lab_user, password="wrong-password-99")).json()
    report = client.post(f"/v1/accounts/{account['id']}/verify", headers={"Accept-Language": "nl-BE,nl;q=0.9"}).json()
    diagnosis = report["diagnosis"]
    assert diagnosis["code"] == "auth.invalid_credentials"
    assert diagnosis["title"] and diagnosis["steps"]
    from mailport.diagnosis_text import explain_code

    english = explain_code("auth.invalid_credentials", "en")
    assert english is not None and diagnosis["title"] != english.title  # really translated
