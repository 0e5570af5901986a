"""Issue 17 item 1: a tenant key cannot move a mailbox's stored password to a server of its choice.

The attack: ``PATCH /v1/accounts/{id}`` points SMTP (or IMAP) at the attacker's server — a new
port on the same host is enough, or a new pin — then ``POST …/verify`` would log in there with
the stored password. Rogue servers in the lab record every AUTH / LOGIN they receive: none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from lab import LabCA, SmtpSink
from lab.faults import FaultServers
from mailport.api.app import create_app

pytestmark = pytest.mark.lab

PASSWORD = "Stored-Secret-9f3a-never-leaves"


@pytest.fixture
def client(tmp_path: Path, lab_ca: LabCA) -> Iterator[TestClient]:
    runtime = make_runtime(tmp_path, allow_private_hosts=True, ca_file=str(lab_ca.ca_pem_path),
                           connect_timeout=5.0, verify_roundtrip_timeout=3.0)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Victim"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


def _account(client: TestClient, smtp: SmtpSink, imap: dict[str, Any] | None = None) -> str:
    resp = client.post("/v1/accounts", json={
        "email": "user@example.test",
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "tls"},
        "imap": imap, "password": PASSWORD,
    })
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _auth_lines(sink: SmtpSink) -> list[str]:
    return [f"{a.mechanism} {a.login}" for a in sink.auth_attempts]


@pytest.mark.parametrize("change", [
    pytest.param(lambda rogue: {"port": rogue.port}, id="new-port-same-host"),
    pytest.param(lambda rogue: {"host": "localhost", "port": rogue.port}, id="new-host"),
    pytest.param(lambda rogue: {"port": rogue.port, "username": "attacker@example.test"}, id="new-username"),
])
def test_smtp_change_without_password_is_refused_and_rogue_gets_no_auth(
    client: TestClient, smtp_sink_factory: Callable[..., SmtpSink],
    change: Callable[[SmtpSink], dict[str, Any]],
) -> None:
    legit = smtp_sink_factory(tls="implicit")
    rogue = smtp_sink_factory(tls="implicit")
    account_id = _account(client, legit)

    patched = client.patch(f"/v1/accounts/{account_id}", json={"smtp": change(rogue)})
    assert patched.status_code == 422, patched.text
    assert patched.json()["code"] == "account.secret_required"
    assert client.get(f"/v1/accounts/{account_id}").json()["smtp"]["port"] == legit.port

    client.post(f"/v1/accounts/{account_id}/verify")
    assert _auth_lines(rogue) == []
    # The verification did log in — at the server the password was given for.
    assert [a.login for a in legit.auth_attempts] == ["user@example.test"]


def test_new_pin_alone_is_a_new_server(client: TestClient, smtp_sink_factory: Callable[..., SmtpSink],
                                       faults: FaultServers) -> None:
    legit = smtp_sink_factory(tls="implicit")
    account_id = _account(client, legit)
    rogue = faults.selfsigned_smtps_server()
    resp = client.patch(f"/v1/accounts/{account_id}", json={
        "smtp": {"port": rogue.port, "pin_sha256": rogue.fingerprint_sha256}})
    assert resp.status_code == 422 and resp.json()["code"] == "account.secret_required"
    resp = client.patch(f"/v1/accounts/{account_id}", json={"smtp": {"pin_sha256": "ab" * 32}})
    assert resp.status_code == 422 and resp.json()["code"] == "account.secret_required"


def test_a_change_with_the_password_in_the_same_request_is_accepted(
    client: TestClient, smtp_sink_factory: Callable[..., SmtpSink],
) -> None:
    legit = smtp_sink_factory(tls="implicit")
    other = smtp_sink_factory(tls="implicit")
    account_id = _account(client, legit)
    resp = client.patch(f"/v1/accounts/{account_id}",
                        json={"smtp": {"port": other.port}, "password": "the-new-servers-password"})
    assert resp.status_code == 200, resp.text
    # A change that does not move the login (the display name) needs no password.
    assert client.patch(f"/v1/accounts/{account_id}", json={"display_name": "Shop"}).status_code == 200
    # Re-sending the same settings is not a move either.
    same = {"host": "127.0.0.1", "port": other.port, "security": "tls"}
    assert client.patch(f"/v1/accounts/{account_id}", json={"smtp": same}).status_code == 200


def test_imap_added_or_moved_without_password_is_refused_and_rogue_gets_no_login(
    client: TestClient, smtp_sink_factory: Callable[..., SmtpSink], faults: FaultServers, lab_ca: LabCA,
) -> None:
    legit = smtp_sink_factory(tls="implicit")
    rogue = faults.recording_imap_server(lab_ca.server_context())
    account_id = _account(client, legit)
    rogue_imap = {"host": "127.0.0.1", "port": rogue.port, "security": "tls"}

    added = client.patch(f"/v1/accounts/{account_id}", json={"imap": rogue_imap})
    assert added.status_code == 422 and added.json()["code"] == "account.secret_required"
    client.post(f"/v1/accounts/{account_id}/verify")
    assert rogue.logins == []

    # The same for an account that has IMAP already: a new port gets nothing.
    second = client.post("/v1/accounts", json={
        "email": "user2@example.test", "smtp": {"host": "127.0.0.1", "port": legit.port, "security": "tls"},
        "imap": {"host": "127.0.0.1", "port": faults.closed_port(), "security": "tls"}, "password": PASSWORD,
    }).json()["id"]
    moved = client.patch(f"/v1/accounts/{second}", json={"imap": {"port": rogue.port}})
    assert moved.status_code == 422 and moved.json()["code"] == "account.secret_required"
    client.post(f"/v1/accounts/{second}/verify")
    assert rogue.logins == []


def test_rogue_imap_server_records_a_login(faults: FaultServers, lab_ca: LabCA) -> None:
    """The recording server works: a client that does log in there is seen (so [] above means none)."""
    import imaplib

    rogue = faults.recording_imap_server(lab_ca.server_context())
    with (imaplib.IMAP4_SSL("127.0.0.1", rogue.port, ssl_context=lab_ca.client_context()) as imap,
          pytest.raises(imaplib.IMAP4.error)):
        imap.login("user@example.test", PASSWORD)
    assert len(rogue.logins) == 1 and PASSWORD.encode() in rogue.logins[0]
