"""Issue 17 item 10: every integer the API takes declares its bounds, and numbers beyond them are
a 422 — never an ``OverflowError`` from the database (HTTP 500)."""

from __future__ import annotations

from typing import Any

HUGE = 2**63  # one past SQLite's INTEGER


def _integers(schema: dict[str, Any], components: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    if "$ref" in schema:
        return _integers(components[schema["$ref"].rsplit("/", 1)[1]], components, path)
    found: list[tuple[str, dict[str, Any]]] = []
    if schema.get("type") == "integer":
        found.append((path, schema))
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _integers(option, components, path)
    for name, prop in schema.get("properties", {}).items():
        found += _integers(prop, components, f"{path}.{name}")
    if "items" in schema:
        found += _integers(schema["items"], components, f"{path}[]")
    return found


def test_every_integer_input_declares_both_bounds(api: Any) -> None:
    spec = api.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    unbounded, seen = [], 0
    for route, operations in spec["paths"].items():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                for where, schema in _integers(param.get("schema", {}), components, param["name"]):
                    seen += 1
                    if "maximum" not in schema or "minimum" not in schema:
                        unbounded.append(f"{method.upper()} {route} {param['in']} {where}")
            for media in op.get("requestBody", {}).get("content", {}).values():
                for where, schema in _integers(media.get("schema", {}), components, "body"):
                    seen += 1
                    if "maximum" not in schema or "minimum" not in schema:
                        unbounded.append(f"{method.upper()} {route} {where}")
    assert unbounded == [] and seen >= 10


def test_the_reported_overflows_are_422(api: Any, admin_headers: dict[str, str]) -> None:
    key = api.post("/v1/tenants", json={"name": "Bounds"}, headers=admin_headers).json()["api_key"]
    auth = {"Authorization": f"Bearer {key}"}
    resp = api.get(f"/v1/contacts?offset={HUGE}", headers=auth)
    assert resp.status_code == 422 and resp.json()["code"] == "request.invalid"
    assert resp.json()["field"] == "offset"
    body = {"email": "a@example.com", "password": "pw", "daily_limit": 1e23,
            "smtp": {"host": "smtp.example.com", "port": 465, "security": "tls"}}
    created = api.post("/v1/accounts", json=body, headers=auth)
    assert created.status_code == 422 and created.json()["code"] == "request.invalid"
    assert created.json()["field"] == "daily_limit"
    two = api.post("/v1/accounts", json={**body, "password": 7}, headers=auth).json()
    assert len(two["errors"]) == 2 and "field" not in two  # two fields at fault: each in errors[]
    ok = api.post("/v1/accounts", json={**body, "daily_limit": 500}, headers=auth)
    assert ok.status_code == 201, ok.text
    patched = api.patch(f"/v1/accounts/{ok.json()['id']}", json={"daily_limit": HUGE}, headers=auth)
    assert patched.status_code == 422


def test_huge_numbers_in_every_integer_parameter_are_never_a_500(api: Any, admin_headers: dict[str, str]) -> None:
    key = api.post("/v1/tenants", json={"name": "Sweep"}, headers=admin_headers).json()["api_key"]
    spec = api.get("/openapi.json").json()
    tried = 0
    for route, operations in spec["paths"].items():
        for method, op in operations.items():
            params = [p for p in op.get("parameters", []) if p.get("schema", {}).get("type") == "integer"]
            for param in params:
                for value in (HUGE, -HUGE, 10**30):
                    path = route
                    query = {}
                    for p in op.get("parameters", []):
                        if p["in"] == "path":
                            path = path.replace("{" + p["name"] + "}", str(value) if p is param else "x1")
                    if param["in"] == "query":
                        query[param["name"]] = str(value)
                    resp = api.request(method.upper(), path, params=query,
                                       headers={"Authorization": f"Bearer {key}"})
                    tried += 1
                    assert resp.status_code < 500, (method, path, query, resp.text)
    assert tried >= 10
