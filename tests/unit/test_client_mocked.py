"""mailport.client over a mock transport: errors from problem+json, retries that cannot send
twice, idempotency keys, JSON vs multipart bodies, paging."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from mailport import errors
from mailport.client import (
    Answered,
    AsyncClient,
    Attachment,
    Client,
    Mailbox,
    RateLimited,
    diagnosis_of,
    problem_of,
)

MESSAGE = {
    "id": "msg_1", "state": "queued", "account_id": "acc_1", "from": "shop@example.nl", "subject": "Factuur",
    "message_id_header": "<a@b>", "size": 10, "attachment_count": 0, "metadata": {"invoice_id": "42"},
    "send_at": None, "next_attempt_at": None, "attempts": 0, "reason": None,
    "created_at": "2026-11-23T12:00:00Z", "updated_at": "2026-11-23T12:00:00Z", "sent_at": None,
    "recipients": [],
}


def client(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Client:
    options.setdefault("retry_backoff", 0.0)
    return Client("http://mp.test/", api_key="mpk_secret", http_client=httpx.Client(
        transport=httpx.MockTransport(handler)), **options)


def problem(status: int, code: str, **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"type": "about:blank", "title": f"title of {code}", "status": status,
                                        "code": code, **extra},
                          headers={"content-type": "application/problem+json"})


@pytest.mark.parametrize(("status", "code", "cls"), [
    (401, "auth.missing_key", errors.Unauthenticated),
    (403, "auth.forbidden", errors.Forbidden),
    (404, "not_found", errors.NotFound),
    (409, "conflict", errors.Conflict),
    (422, "request.invalid", errors.ValidationError),
    (422, "request.invalid_address", errors.AddressError),
    (413, "request.message_too_large", errors.ValidationError),
    (502, "net.timeout", errors.RemoteTimeout),
    (502, "net.connection_refused", errors.NetworkError),
    (502, "tls.certificate_invalid", errors.TLSError),
    (502, "auth.app_password_required", errors.RemoteAuthError),
    (502, "send.recipient_rejected", errors.RemoteError),
    (503, "storage.unavailable", errors.StorageError),
    (500, "internal", errors.MailportError),
])
def test_error_answers_raise_the_package_errors_with_their_code(status: int, code: str, cls: type) -> None:
    mp = client(lambda _: problem(status, code), max_retries=0)
    with pytest.raises(cls) as caught:
        mp.accounts.get("acc_1")
    # Exactly that class (not a broader one), with what the answer said mixed in.
    assert type(caught.value).__bases__ == (cls, Answered)
    assert caught.value.code == code
    assert caught.value.status == status
    assert str(caught.value) == f"title of {code}"


def test_a_remote_failure_keeps_the_localized_diagnosis_and_the_server_text() -> None:
    diagnosis = {"code": "auth.app_password_required", "title": "Je e-mailprovider vereist een app-wachtwoord",
                 "steps": ["Open …"], "provider": "gmail", "retryable": False,
                 "server_text": "534-5.7.9 Application-specific password required"}
    mp = client(lambda _: problem(502, "auth.app_password_required", stage="smtp.auth", diagnosis=diagnosis,
                                  server_text=diagnosis["server_text"]))
    with pytest.raises(errors.RemoteAuthError) as caught:
        mp.accounts.verify("acc_1")
    exc = caught.value
    assert exc.stage == "smtp.auth" and exc.server_text.startswith("534-5.7.9")
    explained = diagnosis_of(exc)
    assert explained is not None and explained.title.startswith("Je e-mailprovider") and explained.provider == "gmail"
    assert problem_of(exc) is not None and problem_of(exc).code == "auth.app_password_required"  # type: ignore[union-attr]


def test_rate_limited_carries_retry_after() -> None:
    mp = client(lambda _: httpx.Response(429, json={"status": 429, "code": "domain.check_rate_limited",
                                                    "title": "wait"}, headers={"Retry-After": "17"}))
    with pytest.raises(RateLimited) as caught:
        mp.domains.check("dom_1")
    assert caught.value.retry_after == 17 and caught.value.code == "domain.check_rate_limited"


def test_a_non_problem_error_page_keeps_only_the_status() -> None:
    mp = client(lambda _: httpx.Response(404, text="<html>nginx</html>"))
    with pytest.raises(errors.NotFound) as caught:
        mp.tenants.me()
    assert caught.value.code == "http.404" and "nginx" not in str(caught.value)


def test_the_api_key_never_shows_in_errors_or_repr() -> None:
    mp = client(lambda _: problem(401, "auth.missing_key"))
    with pytest.raises(errors.Unauthenticated) as caught:
        mp.tenants.me()
    assert "mpk_secret" not in repr(caught.value) + str(vars(caught.value)) + repr(mp)


def test_a_send_is_retried_with_the_same_idempotency_key_after_a_dropped_connection() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) < 3:
            raise httpx.ConnectError("connection reset")
        return httpx.Response(202, json=MESSAGE, headers={"Idempotent-Replayed": "true"})

    message = client(handler).messages.send(to=["a@example.nl"], text="x")
    assert len(keys) == 3 and len(set(keys)) == 1 and len(keys[0]) >= 32
    assert message.id == "msg_1" and message.replayed is True and message.metadata == {"invoice_id": "42"}


def test_the_callers_idempotency_key_is_sent_as_given() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json=MESSAGE)

    message = client(handler).messages.send(to=["a@example.nl"], text="x", idempotency_key="invoice-42-v1")
    assert seen[0].headers["Idempotency-Key"] == "invoice-42-v1" and message.replayed is False


def test_a_post_that_is_not_idempotent_is_not_retried() -> None:
    calls = 0

    def handler(_: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused")

    with pytest.raises(errors.NetworkError) as caught:
        client(handler).webhooks.test("wh_1")
    assert calls == 1 and caught.value.stage == "api"


def test_gateway_errors_are_retried_but_a_mail_servers_502_is_not() -> None:
    answers = [httpx.Response(502, text="bad gateway"), httpx.Response(200, json={"status": "ok"})]
    assert client(lambda _: answers.pop(0)).health() == {"status": "ok"}

    calls = 0

    def remote(_: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return problem(502, "net.connection_refused")

    with pytest.raises(errors.NetworkError):
        client(remote).accounts.get("acc_1")
    assert calls == 1


def test_timeouts_become_remote_timeout_after_the_retries() -> None:
    calls = 0

    def handler(_: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("slow")

    with pytest.raises(errors.RemoteTimeout):
        client(handler, max_retries=2).messages.get("msg_1")
    assert calls == 3


def test_small_attachments_go_as_base64_json() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/json"
        bodies.append(json.loads(request.content))
        return httpx.Response(202, json=MESSAGE)

    client(handler).messages.send(
        account="acc_1", from_=Mailbox(email="shop@example.nl", name="Shop"),
        to=["a@example.nl", Mailbox(email="b@example.nl", name="B BV")], subject="Factuur",
        text="x", attachments=[Attachment(filename="f.pdf", content=b"%PDF-1.4 tiny")],
        metadata={"invoice_id": "42"}, send_at=datetime.fromisoformat("2026-12-01T09:00:00+01:00"))
    body = bodies[0]
    assert body["to"] == ["a@example.nl", {"email": "b@example.nl", "name": "B BV"}]
    assert body["from"] == {"email": "shop@example.nl", "name": "Shop"}
    assert base64.b64decode(body["attachments"][0]["content"]) == b"%PDF-1.4 tiny"
    assert body["send_at"] == "2026-12-01T09:00:00+01:00" and body["metadata"] == {"invoice_id": "42"}


def test_large_attachments_go_as_multipart_without_base64() -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 2000
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json=MESSAGE)

    client(handler).messages.send(to=["a@example.nl"], text="x",
                                  attachments=[Attachment(filename="big.pdf", content=pdf,
                                                          content_type="application/pdf")])
    request = seen[0]
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert pdf in request.content  # raw bytes, not base64
    assert b'name="message"' in request.content and b'filename="big.pdf"' in request.content
    message_part = request.content.split(b'name="message"')[1].split(b"\r\n\r\n", 1)[1].split(b"\r\n--")[0]
    assert "attachments" not in json.loads(message_part)  # the files travel as their own parts


def test_bad_arguments_are_refused_before_any_request() -> None:
    mp = client(lambda _: pytest.fail("no request expected"))
    with pytest.raises(errors.ValidationError):
        mp.messages.send(to="a@example.nl", text="x")  # type: ignore[arg-type]
    with pytest.raises(errors.ValidationError):
        mp.messages.send(to=["a@example.nl"], send_at=datetime(2026, 12, 1, 9))
    with pytest.raises(errors.ValidationError):
        Client("mp.test")
    with pytest.raises(errors.ValidationError):
        mp.messages.get("")


def test_ids_cannot_change_the_route() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(204)

    client(handler).contacts.delete("../tenants?x=1")
    assert paths == ["/v1/contacts/..%2Ftenants%3Fx%3D1"]


def test_messages_iterate_page_by_page_with_the_before_cursor() -> None:
    pages = {None: ["m5", "m4"], "m4": ["m3", "m2"], "m2": ["m1"]}
    befores: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        before = request.url.params.get("before")
        befores.append(before)
        assert request.url.params["limit"] == "2" and request.url.params["status"] == "sent,failed"
        return httpx.Response(200, json=[{**MESSAGE, "id": i} for i in pages[before]])

    ids = [m.id for m in client(handler).messages.iter(status=["sent", "failed"], page_size=2)]
    assert ids == ["m5", "m4", "m3", "m2", "m1"] and befores == [None, "m4", "m2"]


async def test_the_async_client_behaves_the_same() -> None:
    keys: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/messages":
            keys.append(request.headers["Idempotency-Key"])
            if len(keys) == 1:
                raise httpx.ConnectError("reset")
            return httpx.Response(202, json=MESSAGE)
        if request.url.path == "/v1/contacts":
            offset = int(request.url.params["offset"])
            items = [{"id": f"c{offset + i}", "name": None, "addresses": [],
                      "updated_at": "2026-11-23T12:00:00Z"} for i in range(2 if offset < 4 else 1)]
            return httpx.Response(200, json=items)
        return problem(404, "not_found")

    async with AsyncClient("http://mp.test", api_key="k", retry_backoff=0,
                           http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))) as mp:
        message = await mp.messages.send(to=["a@example.nl"], text="x")
        assert message.id == "msg_1" and len(keys) == 2 and keys[0] == keys[1]
        assert [c.id async for c in mp.contacts.iter(page_size=2)] == ["c0", "c1", "c2", "c3", "c4"]
        with pytest.raises(errors.NotFound):
            await mp.webhooks.get("wh_1")
