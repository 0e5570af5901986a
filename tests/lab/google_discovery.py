"""Google's discovery document for Gmail v1, as a contract both mailport and the lab are held to.

The document is the one google-api-python-client ships in its discovery cache (a test
dependency). :func:`check_exchange` checks one recorded request/response of
:class:`lab.gmail_api.LabGmailApi`: the HTTP method and path match a method of the document
(plain, ``/upload/`` or ``/resumable/upload/`` media paths), every query parameter is declared
for that method (or globally) with a value of its type and enum, the JSON request body and the
JSON response use only the schema's field names with the schema's types (recursively through
``$ref``), and error answers have Google's error shape.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["check_exchange", "discovery_document", "method"]


@cache
def discovery_document() -> dict[str, Any]:
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "gmail.v1.json"
    return dict(json.loads(path.read_text()))


def _methods(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(resource.get("methods", {}).values())
    for child in resource.get("resources", {}).values():
        found.extend(_methods(child))
    return found


@cache
def _index() -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in _methods(discovery_document())}


def method(method_id: str) -> dict[str, Any]:
    return _index()[method_id]


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template.lstrip("/"))
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile("/" + regex)


def match_method(http_method: str, path: str) -> tuple[str, str]:
    """``(method id, kind)`` of the document's method at ``path``; kind ``plain`` or ``upload``."""
    for m in _index().values():
        if m["httpMethod"] != http_method:
            continue
        if _path_pattern(m["flatPath"]).fullmatch(path):
            return m["id"], "plain"
        for protocol in m.get("mediaUpload", {}).get("protocols", {}).values():
            if _path_pattern(protocol["path"]).fullmatch(path):
                return m["id"], "upload"
    raise AssertionError(f"{http_method} {path} is not a method of Gmail v1")


def _check_value(value: str, spec: dict[str, Any], name: str) -> None:
    kind = spec.get("type")
    if kind == "integer":
        assert re.fullmatch(r"-?\d+", value), f"{name}={value!r} is not an integer"
        if spec.get("format", "").startswith("uint"):
            assert int(value) >= 0, f"{name}={value!r} must not be negative"
    elif kind == "boolean":
        assert value in ("true", "false"), f"{name}={value!r} is not a boolean"
    if "enum" in spec:
        assert value in spec["enum"], f"{name}={value!r} is not one of {spec['enum']}"


def _check_schema(value: Any, spec: dict[str, Any], where: str) -> None:
    doc = discovery_document()
    if "$ref" in spec:
        spec = doc["schemas"][spec["$ref"]]
    kind = spec.get("type")
    if kind == "object" or "properties" in spec:
        assert isinstance(value, dict), f"{where}: expected an object, got {type(value).__name__}"
        properties = spec.get("properties", {})
        for key, item in value.items():
            assert key in properties, f"{where}: {key!r} is not a field of {spec.get('id', 'the schema')}"
            _check_schema(item, properties[key], f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), f"{where}: expected an array"
        for i, item in enumerate(value):
            _check_schema(item, spec["items"], f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), f"{where}: expected a string, got {value!r}"
        fmt = spec.get("format")
        if fmt in ("int64", "uint64"):
            assert re.fullmatch(r"\d+", value), f"{where}: {fmt} string expected, got {value!r}"
        if fmt == "byte":
            assert re.fullmatch(r"[A-Za-z0-9_\-+/]*=*", value), f"{where}: base64 expected"
        if "enum" in spec:
            assert value in spec["enum"], f"{where}: {value!r} not in {spec['enum']}"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: integer expected, got {value!r}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{where}: boolean expected"


def _check_error(body: Any, status: int) -> None:
    """Google's JSON error shape (https://cloud.google.com/apis/design/errors, v1 ``errors``)."""
    assert isinstance(body, dict) and set(body) == {"error"}, f"error body {body!r}"
    error = body["error"]
    assert error["code"] == status and isinstance(error["message"], str) and isinstance(error["status"], str)
    assert set(error) <= {"code", "message", "errors", "status", "details"}
    for item in error.get("errors", []):
        assert set(item) <= {"message", "domain", "reason", "location", "locationType"}
        assert isinstance(item["reason"], str) and isinstance(item["domain"], str)


def check_exchange(exchange: Any) -> str:
    """Check one :class:`lab.gmail_api.Exchange`; returns the method id."""
    doc = discovery_document()
    if exchange.path.startswith("/upload/sessions/"):  # a resumable session URL the server handed out
        method_id, kind = "gmail.users.messages.send", "upload"
    else:
        method_id, kind = match_method(exchange.method, exchange.path)
    spec = method(method_id)
    declared = {**doc["parameters"], **spec.get("parameters", {})}
    seen: dict[str, int] = {}
    for name, value in exchange.query:
        assert name in declared, f"{method_id}: query parameter {name!r} is not declared"
        param = declared[name]
        assert param.get("location", "query") == "query", f"{method_id}: {name} is not a query parameter"
        seen[name] = seen.get(name, 0) + 1
        assert seen[name] == 1 or param.get("repeated"), f"{method_id}: {name} is not repeated"
        _check_value(value, param, f"{method_id}.{name}")
    for name, param in spec.get("parameters", {}).items():
        if param.get("required") and param.get("location") == "query":
            assert name in seen, f"{method_id}: required {name} missing"
    if kind == "upload":
        assert spec.get("supportsMediaUpload"), f"{method_id} takes no media"
        assert dict(exchange.query).get("uploadType") in ("media", "multipart", "resumable", None)
    elif exchange.body is not None:
        assert "request" in spec, f"{method_id} takes no request body"
        _check_schema(exchange.body, spec["request"], f"{method_id} request")
    if exchange.status >= 400:
        _check_error(exchange.response, exchange.status)
    elif exchange.response is not None:
        assert "response" in spec, f"{method_id} has no response body"
        _check_schema(exchange.response, spec["response"], f"{method_id} response")
    return method_id
