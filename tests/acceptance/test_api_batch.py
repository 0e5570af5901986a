"""``POST /v1/messages/batch`` through HTTP, on SQLite and PostgreSQL, with the embedded worker
sending to an aiosmtpd sink: one result per item in order, partial success, per-item keys."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY
from integration.outbox_helpers import outbox_runtime
from lab import SmtpSink
from mailport.api.app import create_app
from mailport.runtime import Runtime

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 16


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = outbox_runtime(tmp_path, database_url, max_message_bytes=200_000)
    yield runtime
    runtime.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, embedded_worker=True), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


@pytest.fixture
def account(client: TestClient, smtp_sink: SmtpSink) -> str:
    resp = client.post("/v1/accounts", json={
        "email": "user@example.test", "password": "password",
        "smtp": {"host": "127.0.0.1", "port": smtp_sink.port, "security": "none"},
    })
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _invoice(account: str, n: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": account, "to": [f"klant{n}@example.org"], "subject": f"Factuur {n}",
        "text": "Zie bijlage.", "idempotency_key": f"inv-{n}",
        "attachments": [{"filename": f"factuur-{n}.pdf", "content": base64.b64encode(PDF).decode()}],
        "metadata": {"invoice_id": str(n)},
    }
    body.update(changes)
    return body


def test_batch_accepts_the_good_items_and_reports_each_in_order(
        client: TestClient, account: str, smtp_sink: SmtpSink) -> None:
    single = client.post("/v1/messages", json={"account": account, "to": ["x@example.org"], "subject": "s",
                                               "text": "t", "attachments": [{"filename": "a.pdf", "content": "!!"}]})
    items = [
        _invoice(account, 0),
        _invoice(account, 1, to=["not an address"]),                   # the single call: 422
        _invoice(account, 2, attachments=[{"filename": "a.pdf", "content": "!!"}]),  # bad base64
        _invoice(account, 3, unknown_field=True),                      # schema: 422 request.invalid
        _invoice("acc_nope", 4),                    # 404, as the single call
        _invoice(account, 5),
        _invoice(account, 0),                                          # same key, same body: replay
        _invoice(account, 6, idempotency_key="inv-5"),                 # same key, other body: 409
    ]
    resp = client.post("/v1/messages/batch", json={"messages": items})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    statuses = [r["status"] for r in body["results"]]
    assert [r["index"] for r in body["results"]] == list(range(8))
    assert statuses == [202, 422, 422, 422, 404, 202, 200, 409]
    assert (body["accepted"], body["replayed"], body["failed"]) == (2, 1, 5)
    results = body["results"]
    assert results[6]["message"]["id"] == results[0]["message"]["id"]
    assert results[2]["error"]["code"] == single.json()["code"] == "request.invalid"
    assert results[2]["error"]["field"] == single.json()["field"] == "attachments[0].content"
    assert results[1]["error"]["code"] == "request.invalid_address"
    assert results[3]["error"]["code"] == "request.invalid"
    assert results[3]["error"]["field"] == "unknown_field"  # the one field at fault, named in the item
    assert results[7]["error"]["code"] == "request.idempotency_mismatch"

    # Committed before the answer, and sent: exactly the two accepted invoices, once each.
    deadline = time.monotonic() + 20
    while len(smtp_sink.messages) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages) == ["klant0@example.org", "klant5@example.org"]

    # The whole batch again: every accepted item is a replay, nothing new is queued.
    again = client.post("/v1/messages/batch", json={"messages": items}).json()
    assert [r["status"] for r in again["results"]][:1] == [200] and again["results"][5]["status"] == 200
    assert again["accepted"] == 0
    listed = client.get("/v1/messages", params={"limit": 200}).json()
    assert len(listed) == 2


def test_batch_limits_and_shape(client: TestClient, account: str) -> None:
    tiny = {"account": account, "to": ["klant@example.org"], "text": "x"}
    too_many = client.post("/v1/messages/batch", json={"messages": [tiny] * 501})
    assert too_many.status_code == 422 and too_many.json()["code"] == "request.invalid"
    empty = client.post("/v1/messages/batch", json={"messages": []})
    assert empty.status_code == 422
    broken = client.post("/v1/messages/batch", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == "request.invalid_json"
    not_object = client.post("/v1/messages/batch", json={"messages": ["x"]})
    assert not_object.status_code == 200 and not_object.json()["results"][0]["status"] == 422
