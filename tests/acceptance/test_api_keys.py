"""Issue 17 item 7: several API keys per tenant — create, list (with last use), revoke — and a
revoked key is refused at once by every API process (two apps over one database here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.api.app import create_app
from mailport.cli import app as cli_app

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def two_processes(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    first, second = make_runtime(tmp_path / "a", database_url), make_runtime(tmp_path / "b", database_url)
    with (TestClient(create_app(first), raise_server_exceptions=False) as a,
          TestClient(create_app(second), raise_server_exceptions=False) as b):
        yield a, b
    first.close()
    second.close()


def test_rotate_a_key_and_revoke_the_old_one_on_every_process(two_processes: tuple[TestClient, TestClient]) -> None:
    a, b = two_processes
    tenant = a.post("/v1/tenants", json={"name": "Rotating BV"}, headers=ADMIN).json()
    old_key = tenant["api_key"]
    assert a.get("/v1/tenant", headers=_bearer(old_key)).status_code == 200
    assert b.get("/v1/tenant", headers=_bearer(old_key)).status_code == 200

    created = b.post(f"/v1/tenants/{tenant['id']}/keys", json={"label": "2027"}, headers=ADMIN)
    assert created.status_code == 201, created.text
    new_key = created.json()["api_key"]
    assert new_key.startswith(created.json()["prefix"]) and created.json()["label"] == "2027"
    assert a.get("/v1/tenant", headers=_bearer(new_key)).json()["id"] == tenant["id"]

    listed = a.get(f"/v1/tenants/{tenant['id']}/keys", headers=ADMIN).json()
    assert [k["label"] for k in listed] == ["default", "2027"]
    assert all(k["last_used_at"] is not None for k in listed)  # both were used above
    assert old_key not in json.dumps(listed) and new_key not in json.dumps(listed)

    old_id = listed[0]["id"]
    revoked = a.delete(f"/v1/tenants/{tenant['id']}/keys/{old_id}", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    for process in (a, b):  # at once, on the process that revoked it and on the other one
        refused = process.get("/v1/accounts", headers=_bearer(old_key))
        assert refused.status_code == 401 and refused.json()["code"] == "auth.missing_key"
        assert process.get("/v1/accounts", headers=_bearer(new_key)).status_code == 200


def test_keys_need_the_operator_and_stay_within_their_tenant(api: Any) -> None:
    one = api.post("/v1/tenants", json={"name": "One"}, headers=ADMIN).json()
    two = api.post("/v1/tenants", json={"name": "Two"}, headers=ADMIN).json()
    for method, path in [("GET", f"/v1/tenants/{one['id']}/keys"), ("POST", f"/v1/tenants/{one['id']}/keys")]:
        resp = api.request(method, path, json={} if method == "POST" else None, headers=_bearer(one["api_key"]))
        assert resp.status_code == 403, resp.text
    one_key_id = api.get(f"/v1/tenants/{one['id']}/keys", headers=ADMIN).json()[0]["id"]
    # A key id of tenant One named under tenant Two is not found, and stays valid.
    assert api.delete(f"/v1/tenants/{two['id']}/keys/{one_key_id}", headers=ADMIN).status_code == 404
    assert api.get("/v1/tenant", headers=_bearer(one["api_key"])).status_code == 200


def test_cli_creates_lists_and_revokes_keys(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    tenant = runtime.tenants.create(name="Cli BV")
    runtime.close()
    env = {"MAILPORT_DATA_DIR": str(tmp_path / "var"), "MAILPORT_ENV": "test", "MAILPORT_ADMIN_KEY": ADMIN_KEY,
           "MAILPORT_SECRET_KEY": "t1:" + "A" * 43 + "="}
    runner = CliRunner()
    made = runner.invoke(cli_app, ["tenant", "key-create", tenant.tenant.id, "--label", "ci", "--json"], env=env)
    assert made.exit_code == 0, made.output
    new = json.loads(made.stdout)
    listed = runner.invoke(cli_app, ["tenant", "keys", tenant.tenant.id, "--json"], env=env)
    keys = json.loads(listed.stdout)
    assert [k["label"] for k in keys] == ["default", "ci"] and new["api_key"] not in listed.stdout
    gone = runner.invoke(cli_app, ["tenant", "key-revoke", tenant.tenant.id, new["id"], "--json"], env=env)
    assert gone.exit_code == 0 and json.loads(gone.stdout)["revoked_at"]
    unknown = runner.invoke(cli_app, ["tenant", "key-revoke", tenant.tenant.id, "key_nope"], env=env)
    assert unknown.exit_code == 2 and "not_found" in unknown.output
    runtime = make_runtime(tmp_path)
    try:
        from mailport.errors import Unauthenticated

        with pytest.raises(Unauthenticated):
            runtime.tenants.authenticate(new["api_key"])
        assert runtime.tenants.authenticate(tenant.api_key) == tenant.tenant.id
    finally:
        runtime.close()


def test_cli_key_commands_take_the_tenant_name_when_it_is_unambiguous(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    cli_bv = runtime.tenants.create(name="Cli BV")
    runtime.tenants.create(name="Twice")
    runtime.tenants.create(name="Twice")
    runtime.close()
    env = {"MAILPORT_DATA_DIR": str(tmp_path / "var"), "MAILPORT_ENV": "test", "MAILPORT_ADMIN_KEY": ADMIN_KEY,
           "MAILPORT_SECRET_KEY": "t1:" + "A" * 43 + "="}
    runner = CliRunner()
    made = runner.invoke(cli_app, ["tenant", "key-create", "cli bv", "--label", "by name", "--json"], env=env)
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["tenant_id"] == cli_bv.tenant.id
    listed = runner.invoke(cli_app, ["tenant", "keys", "Cli BV", "--json"], env=env)
    assert [k["label"] for k in json.loads(listed.stdout)] == ["default", "by name"]
    ambiguous = runner.invoke(cli_app, ["tenant", "key-create", "Twice"], env=env)
    assert ambiguous.exit_code == 2 and "2 tenants are named 'Twice'" in ambiguous.output
    assert "API key" not in ambiguous.output
    unknown = runner.invoke(cli_app, ["tenant", "key-create", "Nobody BV"], env=env)
    assert unknown.exit_code == 2 and "tenant.not_found" in unknown.output


def test_a_key_check_the_database_cannot_answer_is_a_503_not_a_500(
        two_processes: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard checks keys outside the app's exception handlers: a database that is away while
    it reads (a restart, sessions ended) answers 503 ``storage.unavailable`` as every route does —
    it was an "internal" 500 — and the next request, with the database back, is served."""
    from mailport.adapters.storage.repositories import ApiKeyRepository
    from mailport.errors import StorageError

    a, _ = two_processes
    tenant = a.post("/v1/tenants", json={"name": "Restarting BV"}, headers=ADMIN).json()

    def away(*_args: object) -> Any:
        raise StorageError("the database failed", transient=True)

    async def away_async(*_args: object) -> Any:
        away()

    with monkeypatch.context() as patched:
        patched.setattr(ApiKeyRepository, "find_active", staticmethod(away))
        patched.setattr(ApiKeyRepository, "find_active_async", staticmethod(away_async))
        refused = a.get("/v1/tenant", headers={**_bearer(tenant["api_key"]), "Accept-Language": "nl"})
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "storage.unavailable"
    assert a.get("/v1/tenant", headers=_bearer(tenant["api_key"])).status_code == 200
