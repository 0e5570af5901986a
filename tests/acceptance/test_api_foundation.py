"""The HTTP API's foundation: health, tenants, keys, and errors as problem+json — on SQLite and PostgreSQL."""

from typing import Any

PROBLEM = "application/problem+json"


def _problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["code"] == code and body["status"] == status
    assert "Traceback" not in resp.text
    return body


def test_health_and_readiness(api: Any) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json()["database"] == "ok"


def test_openapi_is_served(api: Any) -> None:
    spec = api.get("/openapi.json").json()
    assert "/v1/tenants" in spec["paths"]


def test_operator_creates_and_lists_tenants(api: Any, admin_headers: dict[str, str]) -> None:
    created = api.post("/v1/tenants", json={"name": "Acme BV"}, headers=admin_headers)
    assert created.status_code == 201
    body = created.json()
    assert body["api_key"].startswith("mpk_") and body["id"].startswith("ten_")
    listed = api.get("/v1/tenants", headers=admin_headers).json()
    assert [t["name"] for t in listed] == ["Acme BV"]
    assert all("api_key" not in t for t in listed)
    me = api.get("/v1/tenant", headers={"Authorization": f"Bearer {body['api_key']}"})
    assert me.json()["id"] == body["id"]


def test_keys_are_checked(api: Any, admin_headers: dict[str, str]) -> None:
    key = api.post("/v1/tenants", json={"name": "A"}, headers=admin_headers).json()["api_key"]
    _problem(api.get("/v1/tenants"), 401, "auth.missing_key")
    _problem(api.get("/v1/tenants", headers={"Authorization": "Bearer wrong"}), 403, "auth.forbidden")
    # A tenant key is not the operator key.
    _problem(api.get("/v1/tenants", headers={"Authorization": f"Bearer {key}"}), 403, "auth.forbidden")
    # A well-formed but unknown key, and a known key id with a wrong secret.
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    _problem(api.get("/v1/tenant", headers={"Authorization": f"Bearer {forged}"}), 401, "auth.missing_key")
    _problem(api.get("/v1/tenant"), 401, "auth.missing_key")


def test_bad_input_is_a_problem_not_a_trace(api: Any, admin_headers: dict[str, str]) -> None:
    _problem(api.get("/no/such/route"), 404, "not_found")
    _problem(api.delete("/healthz"), 405, "method_not_allowed")
    broken = api.post("/v1/tenants", content=b"{not json", headers={**admin_headers,
                                                                    "content-type": "application/json"})
    _problem(broken, 400, "request.invalid_json")
    body = _problem(api.post("/v1/tenants", json={"name": ""}, headers=admin_headers), 422, "request.invalid")
    assert body["errors"][0]["loc"][-1] == "name"
    _problem(api.post("/v1/tenants", json={"name": "x\nBcc: y"}, headers=admin_headers), 422, "request.invalid")


def test_readiness_reports_a_dead_database(api: Any) -> None:
    runtime = api.app.state.runtime
    runtime.db.engine.dispose()
    original = runtime.db.ping
    runtime.db.ping = lambda: False
    try:
        resp = api.get("/readyz")
        assert resp.status_code == 503 and resp.json()["database"] == "unreachable"
    finally:
        runtime.db.ping = original
