"""Render ``docs/api.md`` from the app's OpenAPI document: every operation with its parameters,
request and response shapes, and an example (curl and ``mailport.client``).

    python scripts/render_api_docs.py           # write docs/api.md
    python scripts/render_api_docs.py --check   # exit 1 if docs/api.md is out of date

Examples come from the document's own ``examples`` where a schema has them, else from the types.
The Python line of each operation comes from ``PYTHON`` below; a new operation without one fails
the rendering, so the reference cannot silently fall behind the API.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "api.md"
BASE = "https://mail.example.net"

PYTHON: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "mp.health()",
    ("GET", "/readyz"): "mp.ready()",
    ("GET", "/v1/tenants"): "admin.tenants.list()",
    ("POST", "/v1/tenants"): 'admin.tenants.create(name="Acme Bookkeeping BV")',
    ("GET", "/v1/tenant"): "mp.tenants.me()",
    ("PATCH", "/v1/tenant"): 'mp.tenants.update_settings(default_method="account", default_account="acc_…")',
    ("POST", "/v1/tenants/{tenant_id}/keys"): 'admin.tenants.create_key("ten_…", label="production 2027")',
    ("GET", "/v1/tenants/{tenant_id}/keys"): 'admin.tenants.keys("ten_…")',
    ("DELETE", "/v1/tenants/{tenant_id}/keys/{key_id}"): 'admin.tenants.revoke_key("ten_…", "k…")',
    ("DELETE", "/v1/ui-sessions"): 'mp.ui_sessions.revoke(user_name="Anna de Vries")',
    ("POST", "/v1/accounts/oauth/{provider}/start"):
        'mp.accounts.start_oauth("google", login_hint="anna@example.com", return_url="https://app.example.nl/back")',
    ("GET", "/v1/accounts"): "mp.accounts.list()",
    ("POST", "/v1/accounts"):
        'mp.accounts.create(email="info@bakkerij-jansen.nl", password="app-password-here",\n'
        '                   smtp=EndpointSettings(host="smtp.example.nl", port=465, security="tls"),\n'
        '                   imap=EndpointSettings(host="imap.example.nl", port=993, security="tls"))',
    ("GET", "/v1/accounts/{account_id}"): 'mp.accounts.get("acc_…")',
    ("PATCH", "/v1/accounts/{account_id}"): 'mp.accounts.update("acc_…", password="new-app-password")',
    ("DELETE", "/v1/accounts/{account_id}"): 'mp.accounts.delete("acc_…")',
    ("POST", "/v1/accounts/{account_id}/verify"): 'mp.accounts.verify("acc_…")',
    ("POST", "/v1/accounts/{account_id}/switch-transport"):
        'mp.accounts.switch_transport("acc_…", return_url="https://app.example.nl/back")',
    ("POST", "/v1/accounts/{account_id}/aliases"):
        'mp.accounts.add_alias("acc_…", email="facturen@bakkerij-jansen.nl")',
    ("POST", "/v1/accounts/{account_id}/aliases/confirm"):
        'mp.accounts.confirm_alias("acc_…", email="facturen@bakkerij-jansen.nl", code="483920")',
    ("DELETE", "/v1/accounts/{account_id}/aliases/{email}"):
        'mp.accounts.remove_alias("acc_…", email="facturen@bakkerij-jansen.nl")',
    ("GET", "/v1/discover"): 'mp.discover("bestellung@bäckerei-müller.de")',
    ("POST", "/v1/diagnostics/explain"):
        'mp.explain("534-5.7.9 Application-specific password required", email="facturen@gmail.com", language="nl")',
    ("POST", "/v1/ui-sessions"):
        'mp.ui_sessions.create(user_name="Anna de Vries", language="nl", return_url="https://app.example.nl/settings")',
    ("POST", "/v1/messages"):
        'mp.messages.send(account="acc_…", to=[Mailbox(email="debiteur@example.nl", name="Debiteur BV")],\n'
        '                 subject="Factuur 2026-0042", text="Beste klant, …",\n'
        '                 attachments=[Attachment(filename="factuur-2026-0042.pdf", content=pdf_bytes)],\n'
        '                 metadata={"invoice_id": "2026-0042"}, idempotency_key="invoice-2026-0042")',
    ("POST", "/v1/messages/batch"):
        'batch = mp.messages.send_batch([OutgoingMessage(account="acc_…", to=["klant@example.nl"], '
        'subject="Factuur 42", text="…", idempotency_key="invoice-42"), …])   # ≤ 500; batch.results[i].ok',
    ("GET", "/v1/messages"): 'mp.messages.list(status=["failed"], limit=50)   # or: for m in mp.messages.iter(): …',
    ("GET", "/v1/messages/{message_id}"): 'mp.messages.get("msg_…")',
    ("POST", "/v1/messages/{message_id}/cancel"): 'mp.messages.cancel("msg_…")',
    ("POST", "/v1/messages/{message_id}/retry"): 'mp.messages.retry("msg_…")',
    ("GET", "/v1/webhooks"): "mp.webhooks.list()",
    ("POST", "/v1/webhooks"):
        'mp.webhooks.create(url="https://erp.example.nl/hooks/mailport", '
        'event_types=["message.sent", "message.failed"])',
    ("GET", "/v1/webhooks/{webhook_id}"): 'mp.webhooks.get("whk_…")',
    ("PATCH", "/v1/webhooks/{webhook_id}"): 'mp.webhooks.update("whk_…", enabled=True)',
    ("DELETE", "/v1/webhooks/{webhook_id}"): 'mp.webhooks.delete("whk_…")',
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): 'mp.webhooks.rotate_secret("whk_…")',
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): 'mp.webhooks.deliveries("whk_…", limit=50)',
    ("POST", "/v1/webhooks/{webhook_id}/test"): 'mp.webhooks.test("whk_…")',
    ("GET", "/v1/inbox/messages"): 'mp.inbox.list(contact="customer-42", q="factuur")',
    ("GET", "/v1/inbox/messages/{message_id}"): 'mp.inbox.get("inm_…")',
    ("GET", "/v1/inbox/messages/{message_id}/raw"): 'mp.inbox.raw("inm_…")',
    ("GET", "/v1/inbox/messages/{message_id}/attachments/{n}"): 'content_type, data = mp.inbox.attachment("inm_…", 0)',
    ("GET", "/v1/inbox/accounts/{account_id}/sync"): 'mp.inbox.sync_state("acc_…")',
    ("POST", "/v1/inbox/accounts/{account_id}/sync"): 'mp.inbox.sync("acc_…")',
    ("PUT", "/v1/contacts"):
        'mp.contacts.upsert([ContactInput(id="customer-42", name="Debiteur BV", addresses=("debiteur@example.nl",))])',
    ("GET", "/v1/contacts"): "mp.contacts.list(limit=200, offset=0)   # or: for c in mp.contacts.iter(): …",
    ("GET", "/v1/contacts/{contact_id}"): 'mp.contacts.get("customer-42")',
    ("DELETE", "/v1/contacts/{contact_id}"): 'mp.contacts.delete("customer-42")',
    ("GET", "/v1/contacts/{contact_id}/messages"): 'mp.contacts.messages("customer-42")',
    ("GET", "/v1/suppressions"): "mp.suppressions.list(limit=100)",
    ("GET", "/v1/suppressions/{address}"): 'mp.suppressions.get("debiteur@example.nl")',
    ("POST", "/v1/suppressions"): 'mp.suppressions.add("debiteur@example.nl")',
    ("DELETE", "/v1/suppressions/{address}"): 'mp.suppressions.remove("debiteur@example.nl")',
    ("GET", "/v1/domains"): "mp.domains.list()",
    ("POST", "/v1/domains"): 'mp.domains.add(name="bakkerij-jansen.nl")',
    ("GET", "/v1/domains/{domain_id}"): 'mp.domains.get("dom_…")',
    ("PATCH", "/v1/domains/{domain_id}"): 'mp.domains.update("dom_…", fallback="platform")',
    ("DELETE", "/v1/domains/{domain_id}"): 'mp.domains.delete("dom_…")',
    ("GET", "/v1/domains/{domain_id}/records"): 'mp.domains.records("dom_…")',
    ("POST", "/v1/domains/{domain_id}/check"): 'mp.domains.check("dom_…")',
    ("GET", "/v1/platform/sender"): "mp.platform.sender()",
    ("PATCH", "/v1/platform/sender"):
        'mp.platform.update_sender(alias="bakkerij-jansen", display_name="Bakkerij Jansen")',
    ("POST", "/v1/platform/reply-to"): 'mp.platform.request_reply_to(email="info@bakkerij-jansen.nl")',
    ("POST", "/v1/platform/reply-to/confirm"): 'mp.platform.confirm_reply_to(token="…")',
    ("GET", "/v1/platform/captured"): "mp.platform.captured(limit=50)",
    ("GET", "/v1/platform/captured/{capture_id}"): 'mp.platform.captured_raw("cap_…")',
}

# Request bodies the schema cannot give a useful example of (a list of free-form items, a token).
CURL_BODIES = {
    ("POST", "/v1/messages/batch"): {"messages": [
        {"idempotency_key": "invoice-2026-0042", "to": ["klant@example.nl"], "subject": "Factuur 2026-0042",
         "text": "In de bijlage vindt u de factuur."},
        {"idempotency_key": "invoice-2026-0043", "to": ["debiteur@example.nl"], "subject": "Factuur 2026-0043",
         "text": "In de bijlage vindt u de factuur."}]},
    ("POST", "/v1/platform/reply-to/confirm"): {"token": "…"},
}

SAMPLE_STRINGS = {"date-time": "2026-11-23T12:00:00Z", "email": "anna@example.com", "uri": "https://example.com/"}
SAMPLE_PARAMS = {"account_id": "acc_…", "message_id": "msg_…", "webhook_id": "whk_…", "contact_id": "customer-42",
                 "domain_id": "dom_…", "capture_id": "cap_…", "tenant_id": "ten_…", "key_id": "…",
                 "provider": "google", "n": "0",
                 "email": "facturen@bakkerij-jansen.nl", "address": "debiteur@example.nl"}


def load_spec() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    from dbfixtures import make_runtime
    from mailport.api.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        runtime = make_runtime(Path(tmp))
        try:
            spec: dict[str, Any] = create_app(runtime).openapi()
        finally:
            runtime.close()
    return spec


class Renderer:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def type_name(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            return schema["$ref"].rsplit("/", 1)[-1]
        if "anyOf" in schema:
            return " | ".join(self.type_name(s) for s in schema["anyOf"])
        if schema.get("type") == "array":
            return f"list[{self.type_name(schema.get('items', {}))}]"
        if "enum" in schema:
            return " | ".join(json.dumps(v) for v in schema["enum"])
        return str(schema.get("type", "any"))

    def example(self, schema: dict[str, Any], depth: int = 0) -> Any:
        if "$ref" in schema:
            return self.example(self.resolve(schema), depth)
        if schema.get("examples"):
            return schema["examples"][0]
        if "default" in schema and schema["default"] not in (None, [], {}):
            return schema["default"]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"]
            return self.example(options[0], depth) if options else None
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if depth > 4:
                return {}
            props = schema.get("properties", {})
            return {name: self.named_example(name, sub, depth + 1) for name, sub in props.items()}
        if kind == "array":
            return [self.example(schema.get("items", {}), depth + 1)]
        if kind == "integer":
            return schema.get("minimum", 1) if schema.get("minimum", 0) > 0 else 1
        if kind == "number":
            return 1.0
        if kind == "boolean":
            return True
        if kind == "string":
            return SAMPLE_STRINGS.get(schema.get("format", ""), "string")
        return None

    def named_example(self, name: str, schema: dict[str, Any], depth: int) -> Any:
        """A plain string field gets a value that fits its name (an id, a time, an address)."""
        value = self.example(schema, depth)
        if value != "string":
            return value
        if name == "id" or name.endswith("_id"):
            return f"{name.removesuffix('_id')}_…" if name != "id" else "…"
        if name.endswith("_at") or name in ("date", "at"):
            return SAMPLE_STRINGS["date-time"]
        if name in ("email", "from", "address", "recipient", "mail_from"):
            return "anna@example.com"
        if name.endswith("url"):
            return "https://example.com/…"
        return value

    def curl(self, method: str, path: str, operation: dict[str, Any]) -> str:
        url_path = path
        for name, value in SAMPLE_PARAMS.items():
            url_path = url_path.replace("{" + name + "}", value)
        query = [p for p in operation.get("parameters", []) if p["in"] == "query" and p.get("required")]
        pairs = [f"{p['name']}={self.example(p['schema'])}" for p in query]
        if pairs and not all(pair.isascii() for pair in pairs):
            # curl sends a URL as typed, and a raw non-ASCII byte in it is a malformed request:
            # let curl percent-encode the parameters.
            lines = [f"curl -X {method} -G '{BASE}{url_path}' \\"]
            lines += [f"  --data-urlencode '{pair}' \\" for pair in pairs]
            lines.append('  -H "Authorization: Bearer $MAILPORT_API_KEY"')
        else:
            if pairs:
                url_path += "?" + "&".join(pairs)
            lines = [f"curl -X {method} '{BASE}{url_path}' \\", '  -H "Authorization: Bearer $MAILPORT_API_KEY"']
        for param in operation.get("parameters", []):
            if param["in"] == "header":
                lines[-1] += " \\"
                lines.append(f'  -H "{param["name"]}: invoice-2026-0042"')
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            payload = json.dumps(CURL_BODIES.get((method, path)) or self.example(body["schema"]), ensure_ascii=False)
            lines[-1] += " \\"
            lines.append("  -H 'Content-Type: application/json' \\")
            lines.append(f"  -d '{payload}'")
        return "\n".join(lines)

    def operation(self, method: str, path: str, operation: dict[str, Any]) -> list[str]:
        out = [f"### `{method} {path}`", ""]
        if operation.get("summary"):
            out += [operation["summary"] + ".", ""]
        if operation.get("description"):
            out += [operation["description"].strip(), ""]
        params = operation.get("parameters", [])
        if params:
            out += ["| parameter | in | type | required | meaning |", "|---|---|---|---|---|"]
            for p in params:
                desc = (p.get("description") or p["schema"].get("description") or "").replace("|", "\\|")
                out.append(f"| `{p['name']}` | {p['in']} | `{self.type_name(p['schema']).replace('|', '/')}` | "
                           f"{'yes' if p.get('required') else 'no'} | {desc} |")
            out.append("")
        content = operation.get("requestBody", {}).get("content", {})
        if content:
            kinds = ", ".join(f"`{k}`" for k in content)
            shape = content.get("application/json", {}).get("schema", {})
            named = f" — `{self.type_name(shape)}`" if "$ref" in shape else ""
            out += [f"Request body: {kinds}{named}.", ""]
            if "$ref" not in shape and shape.get("properties"):
                # An inline body (POST /v1/messages) has no schema section below: its fields here.
                out += self.fields_table(shape)
        answers = []
        for status, response in operation.get("responses", {}).items():
            if status == "default":
                continue
            schema = next(iter(response.get("content", {}).values()), {}).get("schema")
            shape = f" `{self.type_name(schema)}`" if schema else ""
            answers.append(f"`{status}`{shape}")
        out += ["Answers: " + ", ".join(answers) + "; errors are `application/problem+json` (`Problem`).", ""]
        key = (method, path)
        if key not in PYTHON:
            raise SystemExit(f"no Python example for {method} {path}: add one to PYTHON in {__file__}")
        out += ["```sh", self.curl(method, path, operation), "```", "", "```python", PYTHON[key], "```", ""]
        ok = next((r for s, r in operation.get("responses", {}).items() if s.startswith("2")), None)
        schema = next(iter((ok or {}).get("content", {}).values()), {}).get("schema") if ok else None
        if schema and self.example(schema) not in (None, {}, "string"):
            sample = json.dumps(self.example(schema), ensure_ascii=False, indent=2)
            out += ["<details><summary>Example answer</summary>", "", "```json", sample, "```", "", "</details>", ""]
        return out

    def render(self) -> str:
        info = self.spec["info"]
        out = [
            "# mailport HTTP API reference",
            "",
            "<!-- Generated by scripts/render_api_docs.py from the app's OpenAPI document; do not edit. -->",
            "",
            f"{info.get('summary', '')} Version {info['version']}.",
            "",
            "Every request carries `Authorization: Bearer <key>`: a tenant's API key (`mpk_…`), or the",
            "operator key for `/v1/tenants`. Errors are RFC 9457 `application/problem+json` with a stable",
            "`code` and a `title` in the caller's language — `?lang=` or `Accept-Language` (en, nl, de,",
            "it, fr; the English message then in `detail`) — and, for a mail server's failure, a",
            "`diagnosis` (title and steps) in that language. The Python lines use `mailport.client`:",
            "",
            "```python",
            "from mailport.client import Attachment, Client, ContactInput, EndpointSettings, Mailbox",
            "",
            f'mp = Client("{BASE}", api_key="mpk_…")      # a tenant',
            f'admin = Client("{BASE}", api_key="mpa_…")   # the operator',
            "```",
            "",
        ]
        groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for path, operations in self.spec["paths"].items():
            for method, operation in operations.items():
                tag = (operation.get("tags") or ["service"])[0]
                groups.setdefault(tag, []).append((method.upper(), path, operation))
        out += ["## Contents", ""]
        out += [f"- [{tag}](#{tag.replace(' ', '-')}): " + ", ".join(f"`{m} {p}`" for m, p, _ in ops)
                for tag, ops in groups.items()]
        out.append("")
        for tag, ops in groups.items():
            out += [f"## {tag}", ""]
            for method, path, operation in ops:
                out += self.operation(method, path, operation)
        out += ["## Schemas", ""]
        for name, schema in sorted(self.schemas.items()):
            if not schema.get("properties", {}):
                continue
            out += [f"### {name}", "", *self.fields_table(schema)]
        return "\n".join(out).rstrip() + "\n"

    def fields_table(self, schema: dict[str, Any]) -> list[str]:
        required = set(schema.get("required", []))
        out = ["| field | type | required | meaning |", "|---|---|---|---|"]
        for field, sub in schema.get("properties", {}).items():
            desc = (sub.get("description") or "").replace("|", "\\|").replace("\n", " ")
            out.append(f"| `{field}` | `{self.type_name(sub).replace('|', '/')}` | "
                       f"{'yes' if field in required else 'no'} | {desc} |")
        out.append("")
        return out


def main(argv: list[str]) -> int:
    text = Renderer(load_spec()).render()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print("docs/api.md is out of date: run python scripts/render_api_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
