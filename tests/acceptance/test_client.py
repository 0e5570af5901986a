"""mailport.client against the real app (in-process, SQLite and PostgreSQL): each resource's
calls do what the API does, and the API's errors arrive as the package's error classes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dbfixtures import ADMIN_KEY
from mailport import errors
from mailport.api.app import create_app
from mailport.client import AsyncClient, Attachment, Client, ContactInput, Mailbox, OutgoingMessage
from mailport.runtime import Runtime


@pytest.fixture
def admin(api: Any) -> Client:
    return Client("http://testserver", api_key=ADMIN_KEY, http_client=api)


@pytest.fixture
def mp(api: Any, admin: Client) -> Iterator[Client]:
    tenant = admin.tenants.create(name="Bakkerij Jansen", display_name="Bakkerij Jansen BV")
    yield Client("http://testserver", api_key=tenant.api_key, http_client=api, language="nl")


@pytest.fixture
def account(mp: Client) -> str:
    return mp.accounts.create(email="facturen@bakkerij.example", password="app-password",
                              smtp={"host": "smtp.bakkerij.example", "port": 465, "security": "tls"}).id


def test_tenants_and_keys(admin: Client, mp: Client, api: Any) -> None:
    me = mp.tenants.me()
    assert me.name == "Bakkerij Jansen" and me.created_at.tzinfo is not None
    assert [t.id for t in admin.tenants.list()] == [me.id]
    with pytest.raises(errors.Forbidden) as caught:
        mp.tenants.list()
    assert caught.value.code == "auth.forbidden"
    with pytest.raises(errors.Unauthenticated):
        Client("http://testserver", http_client=api).tenants.me()


def test_accounts_round_trip(mp: Client, account: str) -> None:
    view = mp.accounts.get(account)
    assert view.smtp.host == "smtp.bakkerij.example" and view.has_password and view.status == "unverified"
    changed = mp.accounts.update(account, display_name="Bakkerij Jansen", daily_limit=400)
    assert changed.display_name == "Bakkerij Jansen" and changed.daily_limit == 400
    assert [a.id for a in mp.accounts.list()] == [account]
    mp.accounts.delete(account)
    with pytest.raises(errors.NotFound) as caught:
        mp.accounts.get(account)
    assert caught.value.code == "not_found" and caught.value.status == 404


def test_sending_queues_replays_and_refuses_a_reused_key(mp: Client, account: str) -> None:
    pdf = b"%PDF-1.4\n" + b"x" * 1000
    first = mp.messages.send(account=account, to=[Mailbox(email="klant@example.nl", name="Klant BV")],
                             subject="Factuur 2026-0042", text="Beste klant,",
                             attachments=[Attachment(filename="factuur.pdf", content=pdf)],
                             metadata={"invoice_id": "2026-0042"}, idempotency_key="invoice-42")
    assert first.state == "queued" and not first.replayed and first.attachment_count == 1
    again = mp.messages.send(account=account, to=[Mailbox(email="klant@example.nl", name="Klant BV")],
                             subject="Factuur 2026-0042", text="Beste klant,",
                             attachments=[Attachment(filename="factuur.pdf", content=pdf)],
                             metadata={"invoice_id": "2026-0042"}, idempotency_key="invoice-42")
    assert again.id == first.id and again.replayed
    with pytest.raises(errors.Conflict) as caught:
        mp.messages.send(account=account, to=["other@example.nl"], text="x", idempotency_key="invoice-42")
    assert caught.value.status == 409
    got = mp.messages.get(first.id)
    assert got.metadata == {"invoice_id": "2026-0042"} and got.recipients[0].address == "klant@example.nl"
    assert got.events and got.events[0].type == "message.queued"


def test_send_batch_one_result_per_message_in_order(mp: Client, account: str) -> None:
    items = [OutgoingMessage(account=account, to=[f"klant{n}@example.nl"], subject=f"Factuur {n}", text="…",
                             attachments=[Attachment(filename=f"f{n}.pdf", content=b"%PDF-1.4 " + bytes([n]))],
                             idempotency_key=f"invoice-{n}") for n in range(3)]
    items.insert(1, OutgoingMessage(account=account, to=["geen adres"], subject="kapot"))
    batch = mp.messages.send_batch(items)
    assert [r.status for r in batch.results] == [202, 422, 202, 202]
    assert (batch.accepted, batch.failed) == (3, 1) and not batch.results[1].ok
    assert batch.results[1].error is not None and batch.results[1].error.code == "request.invalid_address"
    assert [r.message.subject for r in batch.results if r.message] == ["Factuur 0", "Factuur 1", "Factuur 2"]
    again = mp.messages.send_batch(items)  # the same keys: replays, nothing new
    assert [r.status for r in again.results] == [200, 422, 200, 200]
    assert again.results[0].message is not None and batch.results[0].message is not None
    assert again.results[0].message.id == batch.results[0].message.id
    with pytest.raises(errors.ValidationError):
        mp.messages.send_batch([])


def test_a_large_attachment_goes_as_multipart_and_arrives_whole(mp: Client, account: str, runtime: Runtime) -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4096  # 1 MiB
    message = mp.messages.send(account=account, to=["klant@example.nl"], subject="Groot", text="bijlage",
                               attachments=[Attachment(filename="jaaroverzicht.pdf", content=pdf)])
    assert message.attachment_count == 1 and message.size > len(pdf)


def test_messages_list_iterate_and_cancel(mp: Client, account: str) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    ids = [mp.messages.send(account=account, to=[f"k{n}@example.nl"], text="x", send_at=later).id
           for n in range(5)]
    assert [m.id for m in mp.messages.iter(page_size=2)] == list(reversed(ids))
    assert [m.id for m in mp.messages.list(limit=2)] == list(reversed(ids))[:2]
    cancelled = mp.messages.cancel(ids[0])
    assert cancelled.state == "cancelled"
    assert [m.id for m in mp.messages.list(status=["cancelled"])] == [ids[0]]


def test_retry_refuses_a_message_that_did_not_fail(mp: Client, account: str) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    queued = mp.messages.send(account=account, to=["k@example.nl"], text="x", send_at=later)
    with pytest.raises(errors.Conflict) as caught:
        mp.messages.retry(queued.id)
    assert caught.value.code == "message.not_retryable"


def test_validation_errors_name_the_field(mp: Client, account: str) -> None:
    with pytest.raises(errors.AddressError) as caught:
        mp.messages.send(account=account, to=["not an address"], text="x")
    assert caught.value.code == "request.invalid_address" and caught.value.field == "to[0]"
    with pytest.raises(errors.ValidationError) as invalid:
        mp.messages.list(limit=500)
    assert invalid.value.code == "request.invalid"


def test_contacts_in_pages(mp: Client) -> None:
    upserted = mp.contacts.upsert([ContactInput(id=f"klant-{n:03d}", name=f"Klant {n}",
                                                addresses=(f"Klant{n}@Example.nl",)) for n in range(7)])
    assert upserted.created == 7
    assert [c.id for c in mp.contacts.iter(page_size=3)] == [f"klant-{n:03d}" for n in range(7)]
    assert mp.contacts.get("klant-003").addresses == ["klant3@example.nl"]
    assert mp.contacts.messages("klant-003") == []
    mp.contacts.delete("klant-003")
    with pytest.raises(errors.NotFound):
        mp.contacts.get("klant-003")


def test_webhooks_lifecycle(mp: Client, runtime: Runtime) -> None:
    runtime.settings.__dict__["allow_private_hosts"] = False  # the real default: https only
    with pytest.raises(errors.ValidationError) as caught:
        mp.webhooks.create(url="http://erp.example.nl/hooks")
    assert caught.value.field == "url"
    created = mp.webhooks.create(url="https://erp.example.nl/hooks/mailport", event_types=["message.sent"])
    assert created.secret.startswith("whsec_")
    assert mp.webhooks.get(created.id).event_types == ["message.sent"]
    assert mp.webhooks.update(created.id, enabled=False).enabled is False
    assert mp.webhooks.rotate_secret(created.id) not in ("", created.secret)
    assert [w.id for w in mp.webhooks.list()] == [created.id]
    assert mp.webhooks.deliveries(created.id) == []
    mp.webhooks.delete(created.id)
    assert mp.webhooks.list() == []


def test_explain_ui_session_inbox_and_health(mp: Client, account: str) -> None:
    explained = mp.explain("534-5.7.9 Application-specific password required", email="x@gmail.com")
    assert explained.code == "auth.app_password_required" and "app-wachtwoord" in explained.title
    session = mp.ui_sessions.create(user_name="Anna de Vries", return_url="https://app.example.nl/settings")
    assert "/ui/enter?token=" in session.url and session.expires_at > datetime.now(UTC)
    assert mp.inbox.list() == []
    state = mp.inbox.sync_state(account)
    assert state.account_id == account and state.last_sync_at is None
    assert mp.health() == {"status": "ok"} and mp.ready() is True
    assert "mailport_" in mp.metrics()


def test_a_private_host_is_refused_as_host_not_allowed(mp: Client, runtime: Runtime) -> None:
    runtime.settings.__dict__["allow_private_hosts"] = False
    with pytest.raises(errors.HostNotAllowed) as caught:
        mp.accounts.create(email="x@example.nl", password="pw",
                           smtp={"host": "127.0.0.1", "port": 465, "security": "tls"})
    assert caught.value.code == "net.host_not_allowed" and caught.value.status == 422
    assert caught.value.field == "smtp.host" or caught.value.field is None


async def test_the_async_client_against_the_app(runtime: Runtime) -> None:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with AsyncClient("http://testserver", api_key=ADMIN_KEY,
                           http_client=httpx.AsyncClient(transport=transport)) as admin:
        tenant = await admin.tenants.create(name="Async BV")
    async with AsyncClient("http://testserver", api_key=tenant.api_key,
                           http_client=httpx.AsyncClient(transport=transport)) as mp:
        account = await mp.accounts.create(email="a@async.example", password="pw",
                                           smtp={"host": "smtp.async.example", "port": 465, "security": "tls"})
        sent = await mp.messages.send(account=account.id, to=["b@example.nl"], text="x", idempotency_key="k")
        replay = await mp.messages.send(account=account.id, to=["b@example.nl"], text="x", idempotency_key="k")
        assert replay.id == sent.id and replay.replayed
        assert [m.id async for m in mp.messages.iter()] == [sent.id]
        with pytest.raises(errors.NotFound):
            await mp.domains.get("dom_missing")


def test_the_default_sender_is_used_when_a_message_names_none(mp: Client, account: str) -> None:
    other = mp.accounts.create(email="post@bakkerij.example", password="app-password",
                               smtp={"host": "smtp.bakkerij.example", "port": 465, "security": "tls"}).id
    later = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(errors.ValidationError):  # two mailboxes, no choice yet: which one?
        mp.messages.send(to=["k@example.nl"], text="x", send_at=later)
    tenant = mp.tenants.update_settings(default_method="account", default_account=other)
    assert tenant.default_account == other
    assert mp.messages.send(to=["k@example.nl"], text="x", send_at=later).account_id == other
    # Naming the account still wins.
    assert mp.messages.send(account=account, to=["k@example.nl"], text="x", send_at=later).account_id == account
    with pytest.raises(errors.NotFound):
        mp.tenants.update_settings(default_method="account", default_account="acc_nothere")
    with pytest.raises(errors.ValidationError):
        mp.tenants.update_settings(time_zone="Mars/Olympus")
    mp.accounts.delete(other)  # the default mailbox removed: no default left dangling
    assert mp.tenants.me().default_method is None
