"""Accounts through the HTTP API: CRUD, secrets never returned, tenant isolation — SQLite and PostgreSQL."""

from typing import Any

import pytest

PASSWORD = "Corr3ct-Horse-Battery-Staple!"


def _tenant(api: Any, admin_headers: dict[str, str], name: str) -> dict[str, str]:
    key = api.post("/v1/tenants", json={"name": name}, headers=admin_headers).json()["api_key"]
    return {"Authorization": f"Bearer {key}"}


def _account_body(email: str = "info@bakkerij.example.com") -> dict[str, Any]:
    return {
        "email": email,
        "display_name": "Bakkerij Jansen",
        "smtp": {"host": "smtp.example.com", "port": 465, "security": "tls"},
        "imap": {"host": "imap.example.com", "port": 993, "security": "tls"},
        "password": PASSWORD,
    }


def test_create_read_update_delete(api: Any, admin_headers: dict[str, str]) -> None:
    a = _tenant(api, admin_headers, "A")
    created = api.post("/v1/accounts", json=_account_body(), headers=a)
    assert created.status_code == 201, created.text
    account = created.json()
    assert PASSWORD not in created.text and "password" not in account
    assert account["has_password"] is True and account["status"] == "unverified"
    assert account["smtp"]["username"] == "info@bakkerij.example.com"
    listed = api.get("/v1/accounts", headers=a).json()
    assert [x["id"] for x in listed] == [account["id"]]
    changed = api.patch(f"/v1/accounts/{account['id']}", json={"smtp": {"port": 587, "security": "starttls"},
                                                                 "display_name": "Jansen", "password": PASSWORD},
                        headers=a)
    assert changed.status_code == 200, changed.text
    assert changed.json()["smtp"]["port"] == 587 and changed.json()["smtp"]["host"] == "smtp.example.com"
    assert changed.json()["display_name"] == "Jansen"
    assert api.delete(f"/v1/accounts/{account['id']}", headers=a).status_code == 204
    assert api.get(f"/v1/accounts/{account['id']}", headers=a).status_code == 404


def test_duplicate_address_is_a_conflict(api: Any, admin_headers: dict[str, str]) -> None:
    a = _tenant(api, admin_headers, "A")
    assert api.post("/v1/accounts", json=_account_body(), headers=a).status_code == 201
    dup = api.post("/v1/accounts", json=_account_body("INFO@Bakkerij.Example.com"), headers=a)
    assert dup.status_code == 409 and dup.json()["code"] == "account.exists"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"email": "not an address"}, "request.invalid_address"),
        ({"email": "a@b.com\r\nBcc: evil@x.com"}, "request.header_injection"),
        ({"smtp": {"host": "smtp.example.com", "port": 25, "security": "none"}}, "request.insecure_auth"),
        ({"smtp": {"host": "10.0.0.5", "port": 465, "security": "tls"}}, "net.host_not_allowed"),
        ({"smtp": {"host": "169.254.169.254", "port": 465, "security": "tls"}}, "net.host_not_allowed"),
        ({"smtp": {"host": "smtp.example.com", "port": 465, "security": "ssl"}}, "request.invalid"),
        ({"password": None}, "request.invalid"),
        # What a message refuses in the From name: saved, it made every later message fail.
        ({"display_name": "Bakkerij\u2028Bcc: evil@x.com"}, "request.header_injection"),
        ({"display_name": "Bakkerij\x85Jansen"}, "request.header_injection"),
    ],
)
def test_bad_account_input(api: Any, admin_headers: dict[str, str], change: dict[str, Any], code: str) -> None:
    a = _tenant(api, admin_headers, "A")
    resp = api.post("/v1/accounts", json={**_account_body(), **change}, headers=a)
    assert resp.status_code in (400, 422), resp.text
    assert resp.json()["code"] == code
    assert api.get("/v1/accounts", headers=a).json() == []


def test_a_display_name_no_message_could_carry_is_refused_when_changed(api: Any, admin_headers: dict[str, str]) -> None:
    a = _tenant(api, admin_headers, "A")
    account_id = api.post("/v1/accounts", json=_account_body(), headers=a).json()["id"]
    for name in ("Bakkerij\u2028Bcc: evil@x.com", "Bakkerij\u2029", "Bakkerij\x9b"):
        resp = api.patch(f"/v1/accounts/{account_id}", json={"display_name": name}, headers=a)
        assert resp.status_code == 422 and resp.json()["field"] == "display_name", resp.text
    assert api.get(f"/v1/accounts/{account_id}", headers=a).json()["display_name"] == "Bakkerij Jansen"


def test_tenant_b_cannot_see_change_verify_or_remove_tenant_a_account(api: Any, admin_headers: dict[str, str]) -> None:
    a = _tenant(api, admin_headers, "A")
    b = _tenant(api, admin_headers, "B")
    account_id = api.post("/v1/accounts", json=_account_body(), headers=a).json()["id"]
    assert api.get("/v1/accounts", headers=b).json() == []
    for method, path, body in [
        ("GET", f"/v1/accounts/{account_id}", None),
        ("PATCH", f"/v1/accounts/{account_id}", {"display_name": "hijacked"}),
        ("POST", f"/v1/accounts/{account_id}/verify", None),
        ("POST", f"/v1/accounts/{account_id}/aliases", {"email": "evil@example.org"}),
        ("DELETE", f"/v1/accounts/{account_id}", None),
    ]:
        resp = api.request(method, path, json=body, headers=b)
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["code"] == "not_found"
    still = api.get(f"/v1/accounts/{account_id}", headers=a).json()
    assert still["display_name"] == "Bakkerij Jansen" and still["aliases"] == []


@pytest.mark.parametrize(("lang", "title", "step"), [
    ("nl", "Dit serveradres mag niet worden gebruikt", "Vul de openbare servernaam in"),
    ("de", "Diese Serveradresse darf nicht verwendet werden", "Geben Sie den öffentlichen Servernamen"),
])
def test_a_private_host_is_refused_and_explained_in_the_callers_language(
        api: Any, admin_headers: dict[str, str], lang: str, title: str, step: str) -> None:
    a = {**_tenant(api, admin_headers, "A"), "Accept-Language": lang}
    for host in ("127.0.0.1", "[::1]", "10.1.2.3", "[::ffff:127.0.0.1]"):
        body = {**_account_body(), "smtp": {"host": host, "port": 465, "security": "tls"}}
        resp = api.post("/v1/accounts", json=body, headers=a)
        assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
        assert (resp.json()["code"], resp.json()["title"]) == ("net.host_not_allowed", title), (host, resp.text)
        assert any(s.startswith(step) for s in resp.json()["diagnosis"]["steps"]), resp.text
    assert api.get("/v1/accounts", headers=a).json() == []


LOCAL_NAMES = ["localhost", "localhost.", "LocalHost", "mail.localhost", "127.1", "0", "2130706433",
               "0x7f000001", "0177.0.0.1", "[::1]", "nas.local", "mail.internal", "mailserver"]


@pytest.mark.parametrize("host", LOCAL_NAMES)
def test_a_local_name_or_address_shorthand_is_refused_at_save_with_an_explanation(
        api: Any, admin_headers: dict[str, str], host: str) -> None:
    """What the spelling alone decides is refused when the settings are saved — for the SMTP and
    the IMAP server, created or changed — and the owner reads why, in their language, not first
    at the test ("something went wrong that we could not identify")."""
    a = {**_tenant(api, admin_headers, "A"), "Accept-Language": "nl"}
    for kind, port in (("smtp", 465), ("imap", 993)):
        body = {**_account_body(), kind: {"host": host, "port": port, "security": "tls"}}
        resp = api.post("/v1/accounts", json=body, headers=a)
        assert resp.status_code == 422, (kind, resp.text)
        assert resp.json()["code"] == "net.host_not_allowed", resp.text
        assert resp.json()["title"] == "Dit serveradres mag niet worden gebruikt"
        assert resp.json()["diagnosis"]["steps"][0].startswith("De servernaam leidt naar een adres in een lokaal")
    assert api.get("/v1/accounts", headers=a).json() == []
    account = api.post("/v1/accounts", json=_account_body(), headers=a).json()
    changed = api.patch(f"/v1/accounts/{account['id']}", headers=a,
                        json={"smtp": {"host": host}, "password": PASSWORD})
    assert changed.status_code == 422 and changed.json()["code"] == "net.host_not_allowed", changed.text
    assert api.get(f"/v1/accounts/{account['id']}", headers=a).json()["smtp"]["host"] == "smtp.example.com"


def test_an_operator_may_allow_local_hosts(tmp_path: Any, admin_headers: dict[str, str]) -> None:
    """MAILPORT_ALLOW_PRIVATE_HOSTS (a lab, a mail server inside the operator's own network)."""
    from fastapi.testclient import TestClient

    from dbfixtures import make_runtime
    from mailport.api.app import create_app

    rt = make_runtime(tmp_path, allow_private_hosts=True)
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            a = _tenant(client, admin_headers, "A")
            for n, host in enumerate(("localhost", "127.0.0.1", "mailserver", "nas.local")):
                body = {**_account_body(f"info{n}@bakkerij.example.com"),
                        "smtp": {"host": host, "port": 465, "security": "tls"}}
                resp = client.post("/v1/accounts", json=body, headers=a)
                assert resp.status_code == 201, (host, resp.text)
    finally:
        rt.close()
