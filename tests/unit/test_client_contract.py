"""The client against the server's own OpenAPI document: every operation has a client method
(sync and async) that calls exactly it, every response model knows every documented field, and
the generated sync client is current."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from dbfixtures import make_runtime
from mailport.api.app import create_app
from mailport.client import AsyncClient, Client, ContactInput, models
from mailport.errors import MailportError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    runtime = make_runtime(tmp_path_factory.mktemp("spec"))
    try:
        return create_app(runtime).openapi()
    finally:
        runtime.close()


# One call per operation; the arguments are placeholders (the transport answers {}).
CALLS: list[Callable[[Any], Any]] = [
    lambda c: c.health(), lambda c: c.ready(), lambda c: c.metrics(),
    lambda c: c.discover("a@example.nl"), lambda c: c.explain("535 5.7.8 no"),
    lambda c: c.tenants.create(name="A"), lambda c: c.tenants.list(), lambda c: c.tenants.me(),
    lambda c: c.tenants.update_settings(time_zone="Europe/Amsterdam"),
    lambda c: c.tenants.create_key("ten_1", label="x"), lambda c: c.tenants.keys("ten_1"),
    lambda c: c.tenants.revoke_key("ten_1", "k1"),
    lambda c: c.accounts.create(email="a@example.nl"), lambda c: c.accounts.list(),
    lambda c: c.accounts.get("acc_1"), lambda c: c.accounts.update("acc_1", display_name="A"),
    lambda c: c.accounts.delete("acc_1"), lambda c: c.accounts.verify("acc_1"),
    lambda c: c.accounts.add_alias("acc_1", email="b@example.nl"),
    lambda c: c.accounts.confirm_alias("acc_1", email="b@example.nl", code="123456"),
    lambda c: c.accounts.remove_alias("acc_1", email="b@example.nl"),
    lambda c: c.accounts.start_oauth("google", login_hint="a@gmail.com"),
    lambda c: c.accounts.switch_transport("acc_1", return_url="https://app.test/back"),
    lambda c: c.ui_sessions.create(user_name="Anna"), lambda c: c.ui_sessions.revoke(user_name="Anna"),
    lambda c: c.messages.send(to=["a@example.nl"], text="x"), lambda c: c.messages.list(),
    lambda c: c.messages.get("msg_1"), lambda c: c.messages.cancel("msg_1"), lambda c: c.messages.retry("msg_1"),
    lambda c: c.messages.send_batch([models.OutgoingMessage(to=["a@example.nl"], text="x")]),
    lambda c: c.webhooks.create(url="https://h.example/x"), lambda c: c.webhooks.list(),
    lambda c: c.webhooks.get("wh_1"), lambda c: c.webhooks.update("wh_1", enabled=False),
    lambda c: c.webhooks.delete("wh_1"), lambda c: c.webhooks.rotate_secret("wh_1"),
    lambda c: c.webhooks.deliveries("wh_1"), lambda c: c.webhooks.test("wh_1"),
    lambda c: c.inbox.list(), lambda c: c.inbox.get("im_1"), lambda c: c.inbox.raw("im_1"),
    lambda c: c.inbox.attachment("im_1", 0), lambda c: c.inbox.sync_state("acc_1"),
    lambda c: c.inbox.sync("acc_1"),
    lambda c: c.contacts.upsert([ContactInput(id="c1")]), lambda c: c.contacts.list(),
    lambda c: c.contacts.get("c1"), lambda c: c.contacts.delete("c1"), lambda c: c.contacts.messages("c1"),
    lambda c: c.suppressions.list(), lambda c: c.suppressions.get("a@b.example"),
    lambda c: c.suppressions.add("a@b.example"), lambda c: c.suppressions.remove("a@b.example"),
    lambda c: c.domains.list(), lambda c: c.domains.add(name="example.nl"), lambda c: c.domains.get("dom_1"),
    lambda c: c.domains.update("dom_1", fallback="platform"), lambda c: c.domains.delete("dom_1"),
    lambda c: c.domains.records("dom_1"), lambda c: c.domains.check("dom_1"),
    lambda c: c.platform.sender(), lambda c: c.platform.update_sender(alias="acme"),
    lambda c: c.platform.request_reply_to(email="a@example.nl"),
    lambda c: c.platform.confirm_reply_to(token="t" * 20), lambda c: c.platform.captured(),
    lambda c: c.platform.captured_raw("cap_1"),
]


def _operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def _template_of(path: str, templates: set[str]) -> str | None:
    """The operation's path template; a literal segment wins over a parameter (as in routing)."""
    matches = [t for t in templates
               if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)), path)]
    return min(matches, key=lambda t: t.count("{")) if matches else None


def _record(calls: list[Callable[[Any], Any]], run: Callable[[Callable[[Any], Any], httpx.MockTransport], None]
            ) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(handler)
    for call in calls:
        run(call, transport)
    return seen


def _run_sync(call: Callable[[Any], Any], transport: httpx.MockTransport) -> None:
    with Client("http://mp.test", api_key="k", http_client=httpx.Client(transport=transport)) as client:
        try:
            call(client)
        except (ValueError, KeyError, TypeError, MailportError):
            pass  # {} is not a valid answer; only the request matters here


def _run_async(call: Callable[[Any], Any], transport: httpx.MockTransport) -> None:
    import asyncio

    async def go() -> None:
        async with AsyncClient("http://mp.test", api_key="k",
                               http_client=httpx.AsyncClient(transport=transport)) as client:
            try:
                await call(client)
            except (ValueError, KeyError, TypeError, MailportError):
                pass

    asyncio.run(go())


@pytest.mark.parametrize("run", [_run_sync, _run_async], ids=["sync", "async"])
def test_every_operation_in_the_openapi_document_has_a_client_method(
        spec: dict[str, Any], run: Callable[..., None]) -> None:
    operations = _operations(spec)
    called = set()
    for method, path in _record(CALLS, run):
        template = _template_of(path, {p for m, p in operations if m == method})
        if template is not None:
            called.add((method, template))
    missing = operations - called
    assert not missing, f"operations without a client method: {sorted(missing)}"


# Response schema -> client model.
MODELS: dict[str, type[BaseModel]] = {
    "TenantOut": models.Tenant, "TenantCreated": models.TenantCreated, "AccountOut": models.Account,
    "AttentionOut": models.MailboxAttention,
    "EndpointOut": models.Endpoint, "AliasOut": models.Alias, "StartOut": models.OAuthStart,
    "UiSessionOut": models.UiSession, "ExplainOut": models.Diagnosis, "MessageOut": models.Message,
    "RecipientOut": models.Recipient, "EventOut": models.MessageEvent, "SentCopyOut": models.SentCopy,
    "BatchOut": models.Batch, "BatchResultOut": models.BatchResult,
    "WebhookOut": models.Webhook, "WebhookCreated": models.WebhookCreated, "DeliveryOut": models.Delivery,
    "InboxMessageOut": models.InboxMessage, "AddressOut": models.Address, "BounceOut": models.Bounce,
    "AttachmentOut": models.InboxAttachment,
    "BounceRecipientOut": models.BounceRecipient, "SyncStateOut": models.SyncState,
    "ContactOut": models.Contact, "SuppressionOut": models.Suppression, "UpsertOut": models.ContactsUpserted,
    "DomainOut": models.Domain,
    "RecordOut": models.DnsRecord, "VerdictOut": models.RecordVerdict, "LastCheckOut": models.DomainLastCheck,
    "CheckOut": models.DomainCheck, "SenderOut": models.SenderSettings, "CapturedOut": models.CapturedMail,
    "KeyOut": models.ApiKey, "KeyCreated": models.ApiKeyCreated,
}


def _field_names(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def test_every_response_schema_has_a_client_model_with_all_its_fields(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    # SecretOut is one string: Webhooks.rotate_secret returns it as a str.
    # RevokedOut is one number: UiSessions.revoke returns it as an int.
    responses = {name for name in schemas if name.endswith(("Out", "Created"))} - {"SecretOut", "RevokedOut"}
    assert responses <= set(MODELS), f"response schemas without a client model: {responses - set(MODELS)}"
    for name, model in MODELS.items():
        documented = set(schemas[name].get("properties", {}))
        assert documented <= _field_names(model), f"{model.__name__} lacks {documented - _field_names(model)}"
        # The client may default a field the server always sends, but must not require one the
        # server may leave out.
        required = set(schemas[name].get("required", []))
        assert {(f.alias or n) for n, f in model.model_fields.items() if f.is_required()} <= required, name


def test_the_generated_sync_client_is_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "unasync_client.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# Client fields the server does not send: set by the client itself (from the Idempotent-Replayed header).
CLIENT_ONLY = {("MessageOut", "replayed")}


def _shape(schema: dict[str, Any], ref_name: Callable[[str], str]) -> Any:
    """A JSON schema reduced to what both sides must agree on: types (``null`` included), string
    formats, array items and which model an object is (``$ref`` named by the client's class)."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return ("ref", ref_name(schema["$ref"].rsplit("/", 1)[1]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = frozenset(_shape(s, ref_name) for s in schema[key])
            return parts if len(parts) > 1 else next(iter(parts))
    if len(schema.get("allOf", [])) == 1:
        return _shape(schema["allOf"][0], ref_name)
    kind = schema.get("type")
    if kind is None and ("const" in schema or "enum" in schema):  # a Literal: the type of its values
        value = schema["const"] if "const" in schema else schema["enum"][0]
        kind = {str: "string", int: "integer", bool: "boolean"}[type(value)]
    if isinstance(kind, list):
        return frozenset(_shape({**schema, "type": k}, ref_name) for k in kind)
    if kind == "array":
        return ("array", _shape(schema.get("items", {}), ref_name))
    if kind == "string":
        return ("string", schema.get("format", ""))
    return kind or "any"


def test_client_models_have_the_types_the_api_documents(spec: dict[str, Any]) -> None:
    """Field by field, the client model's type equals the response schema's (a timestamp is a
    date-time on both sides, an object is the same model), and the client has no field the server
    never sends — so the API models and the client models cannot drift apart unnoticed."""
    schemas = spec["components"]["schemas"]
    client_name = {name: model.__name__ for name, model in MODELS.items()}
    drift = []
    for name, model in MODELS.items():
        server = schemas[name].get("properties", {})
        client = model.model_json_schema(by_alias=True)["properties"]
        drift += [f"{name}.{field}: API {_shape(s, lambda r: client_name.get(r, r))} != "
                  f"client {_shape(client.get(field, {}), lambda r: r)}"
                  for field, s in server.items()
                  if _shape(s, lambda r: client_name.get(r, r)) != _shape(client.get(field, {}), lambda r: r)]
        drift += [f"{name}.{field}: only in the client" for field in set(client) - set(server)
                  if (name, field) not in CLIENT_ONLY]
    assert drift == []


def test_the_type_check_sees_a_difference() -> None:
    def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return bool(_shape(a, str) == _shape(b, str))

    stamp = {"type": "string", "format": "date-time"}
    assert not same({"type": "string"}, stamp)
    assert not same({"anyOf": [stamp, {"type": "null"}]}, stamp)
    assert not same({"type": "array", "items": {"type": "integer"}}, {"type": "array", "items": {"type": "string"}})
    assert same({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]},
                {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/X"}]})
