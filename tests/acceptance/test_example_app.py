"""The example invoicing app end to end, in a real browser, against the lab's Postfix + Dovecot:

create customers (pushed to mailport as contacts) → connect the mailbox through mailport's
Settings › E-mail page, opened from the app's button → send an invoice (PDF, idempotency key) →
"sent" arrives by signed webhook → an invoice to an unknown local user comes back as Postfix's
real DSN; inbox sync links it and the app shows "bounced" with the reason.
"""

from __future__ import annotations

import re
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pageguard
from dbfixtures import ADMIN_KEY, make_runtime
from lab.ports import free_port
from mailport.api.app import create_app
from mailport.client import Client
from testenv import unavailable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "invoicing"))

from invoicing.app import create_app as create_example_app
from invoicing.config import Config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "Example-Lab-Secret-42"


class Served:
    """An ASGI app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any, *, port: int | None = None) -> None:
        import uvicorn

        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@dataclass
class World:
    mailport: Served
    app: Served
    config: Config


@pytest.fixture
def world(tmp_path: Path, mail_lab: Any, dns_lab_server: Any) -> Iterator[World]:
    mailport_port = free_port()
    base = f"http://127.0.0.1:{mailport_port}"
    runtime = make_runtime(
        tmp_path / "mailport", allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path), connect_timeout=5.0,
        public_url=base, discovery_probe=False, discovery_deadline=2.0, ispdb_url="http://127.0.0.1:9/",
        dns_nameservers=[dns_lab_server.nameserver], dns_timeout=1.0,
    )
    mailport = Served(create_app(runtime, embedded_worker=True), port=mailport_port).start()
    admin_key_file = tmp_path / "admin.key"
    admin_key_file.write_text(ADMIN_KEY + "\n")
    app_port = free_port()
    config = Config(mailport_url=base, mailport_admin_key_file=admin_key_file,
                    public_url=f"http://127.0.0.1:{app_port}", db_path=tmp_path / "invoicing.db",
                    company="Bakkerij Jansen BV", user_name="Anna de Vries", language="en")
    app = Served(create_example_app(config), port=app_port).start()
    try:
        yield World(mailport=mailport, app=app, config=config)
    finally:
        app.stop()
        mailport.stop()


@pytest.fixture
def page() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        unavailable("Debian chromium is not installed (make lab-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        errors = pageguard.watch_context(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            browser.close()
        pageguard.assert_clean(errors)  # no CSP violation or script error on any page


def wait_for_status(page: Any, number: str, status: str | tuple[str, ...], *, timeout: float,
                    mp: Client) -> str:
    deadline = time.monotonic() + timeout
    while not (shown := invoice_status(page, number)).startswith(status):
        if time.monotonic() > deadline:
            messages = [(m.id, m.state, m.reason) for m in mp.messages.list()]
            deliveries = [(d.event_type, d.state, d.last_status_code, d.last_error)
                          for w in mp.webhooks.list() for d in mp.webhooks.deliveries(w.id)]
            pytest.fail(f"invoice {number} shows {shown!r}, not {status!r}; messages {messages}; "
                        f"webhook deliveries {deliveries}")
        time.sleep(0.5)
    return shown


def submit(page: Any, button: Any) -> None:
    """Click a form's button and wait until the page its POST leads to (303 to ``/``) has loaded.

    A ``page.reload()`` issued while that navigation is under way races it: Chromium answers
    "Not attached to an active page" when the reload reaches the frame between two documents
    (more likely the slower the app answers the POST, i.e. under load), or the reload cancels
    the navigation the test meant to watch."""
    with page.expect_navigation(timeout=60_000):
        button.click()


def invoice_status(page: Any, number: str) -> str:
    page.reload()
    return str(page.locator(f"tr.invoice[data-number='{number}'] td:nth-child(5)").inner_text())


def create_invoice(page: Any, customer: str, description: str, amount: str) -> str:
    page.get_by_label("Customer").select_option(label=customer)
    page.get_by_label("Description").fill(description)
    page.get_by_label("Amount").fill(amount)
    page.get_by_role("button", name="Create invoice").click()
    row = page.locator("tr.invoice", has_text=description)
    return str(row.get_attribute("data-number"))


@pytest.mark.browser
@pytest.mark.lab
@pytest.mark.slow
def test_invoice_sent_by_webhook_and_bounce_shown_with_its_reason(world: World, page: Any, mail_lab: Any) -> None:
    tag = secrets.token_hex(3)
    shop, good, bad = f"shop{tag}@example.test", f"cafe{tag}@example.test", f"nobody{tag}@example.test"
    mail_lab.add_users({shop: PASSWORD, good: "password"})  # `bad` has no mailbox: Postfix bounces

    # 1. Customers, pushed to mailport as contacts.
    page.goto(world.app.base + "/")
    for name, email in (("Café Noord", good), ("Verkeerd Adres BV", bad)):
        page.get_by_label("Name").fill(name)
        page.get_by_label("E-mail").fill(email)
        page.get_by_role("button", name="Add customer").click()
        page.locator("#customers", has_text=email).wait_for()
    api_key = world.app.server.config.app.state.mailport.client._config.api_key
    mp = Client(world.mailport.base, api_key=api_key)
    contacts = {c.id: c for c in mp.contacts.list()}
    assert contacts["customer-1"].addresses == [good] and contacts["customer-1"].name == "Café Noord"
    assert contacts["customer-2"].addresses == [bad]
    [webhook] = mp.webhooks.list()
    assert webhook.url == f"{world.app.base}/webhooks/mailport" and webhook.enabled

    # Sending before a mailbox is connected explains what to do.
    number = create_invoice(page, "Café Noord <" + good + ">", "Brood en banket november", "123,45")
    page.locator(f"tr.invoice[data-number='{number}']").get_by_role("button", name="Send").click()
    page.get_by_role("alert").get_by_text("Connect a mailbox first").wait_for()

    # 2. The "E-mail settings" button opens mailport's page for this user; connect the mailbox.
    page.get_by_role("button", name="E-mail settings").click()
    page.wait_for_url(world.mailport.base + "/ui/settings/email")
    page.get_by_role("link", name=re.compile("Own mailbox")).click()
    page.get_by_role("link", name="Connect a mailbox").click()
    page.get_by_label(re.compile("E-mail address")).fill(shop)
    page.locator("button[formaction$='/discover']").click()
    page.locator("#proposal .proposal.not-found").wait_for()
    page.locator("#f-smtp_host").fill("127.0.0.1")
    page.locator("#f-smtp_port").fill(str(mail_lab.submission_port))
    page.locator("#f-smtp_security").select_option("starttls")
    page.locator("#f-imap_host").fill("127.0.0.1")
    page.locator("#f-imap_port").fill(str(mail_lab.imaps_port))
    page.locator("#f-imap_security").select_option("tls")
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="Save").click()
    # Saved without a test mail: mailport says so rather than showing a green "saved".
    page.get_by_text("The mailbox was saved, but it has not been tested yet.").wait_for()
    page.get_by_role("link", name="Back to the program").click()
    page.wait_for_url(world.app.base + "/")
    [account] = mp.accounts.list()
    assert account.email == shop

    # 3. Send the invoice; "sent" arrives by webhook (nothing polls: the page only reloads).
    submit(page, page.locator(f"tr.invoice[data-number='{number}']").get_by_role("button", name="Send"))
    wait_for_status(page, number, "sent", timeout=60, mp=mp)
    delivered = mail_lab.wait_for_message(good, subject=f"Invoice {number}", timeout=30)
    [pdf] = [p for p in delivered.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content().startswith(b"%PDF-") and pdf.get_filename() == f"invoice-{number}.pdf"
    deliveries = mp.webhooks.deliveries(webhook.id, limit=200)
    assert any(d.event_type == "message.sent" and d.state == "delivered" for d in deliveries)
    # The idempotency key was stored before the call: sending it again returns the same message.
    sent = mp.messages.list(status=["sent"])
    assert [m.metadata["invoice_number"] for m in sent] == [number]

    # 4. An invoice to an address with no mailbox: sent, then Postfix's DSN comes back.
    bad_number = create_invoice(page, "Verkeerd Adres BV <" + bad + ">", "Taart", "30")
    submit(page, page.locator(f"tr.invoice[data-number='{bad_number}']").get_by_role("button", name="Send"))
    # The page may already show the bounce: the lab's DSN can be synced within one page poll.
    wait_for_status(page, bad_number, ("sent", "bounced"), timeout=60, mp=mp)
    [bad_message] = [m for m in mp.messages.list() if m.metadata.get("invoice_number") == bad_number]
    assert "message.sent" in [e.type for e in mp.messages.get(bad_message.id).events or []]
    mail_lab.wait_for_message(shop, subject="Undelivered Mail Returned to Sender", timeout=30)
    # "Refresh delivery status" syncs the mailbox now; mailport links the DSN to the invoice and
    # the message.bounced event reaches the app by webhook.
    submit(page, page.get_by_role("button", name="Refresh delivery status"))
    status = wait_for_status(page, bad_number, "bounced", timeout=60, mp=mp)
    assert "the mailbox does not exist" in status and "5.1.1" in status, status
    assert invoice_status(page, number).startswith("sent")  # the good one is untouched
    deliveries = mp.webhooks.deliveries(webhook.id, limit=200)
    assert any(d.event_type == "message.bounced" and d.state == "delivered" for d in deliveries)
    mp.close()


# ---- the receiver alone (no browser, no lab): mailport in a thread, the example app in-process ----


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[Any, Any, Client]]:
    from fastapi.testclient import TestClient

    port = free_port()
    runtime = make_runtime(tmp_path / "mailport", public_url=f"http://127.0.0.1:{port}", allow_private_hosts=True)
    mailport = Served(create_app(runtime), port=port).start()
    admin_key_file = tmp_path / "admin.key"
    admin_key_file.write_text(ADMIN_KEY)
    config = Config(mailport_url=mailport.base, mailport_admin_key_file=admin_key_file,
                    public_url=f"http://127.0.0.1:{free_port()}", db_path=tmp_path / "invoicing.db", language="nl")
    try:
        with TestClient(create_example_app(config)) as app:
            integration = app.app.state.mailport  # type: ignore[attr-defined]
            yield app, integration, integration.client
    finally:
        mailport.stop()


def _deliver(app: Any, secret: str, payload: Any, *, event_id: str, signature_secret: str | None = None) -> Any:
    from datetime import UTC, datetime

    from mailport.core.events import Event
    from mailport.core.webhooks import delivery_request

    event = Event(id=event_id, type=payload.type, created_at=datetime.now(UTC), tenant_id="ten_x",
                  data=payload.to_data())
    body, headers = delivery_request(event, secrets=[signature_secret or secret], timestamp=datetime.now(UTC))
    return app.post("/webhooks/mailport", content=body, headers=headers)


def test_the_receiver_verifies_dedupes_never_goes_backwards_and_explains_failures(
        receiver: tuple[Any, Any, Client]) -> None:
    from mailport.core import events
    from mailport.core.outbox import RecipientOutcome, RecipientStatus

    app, integration, _ = receiver
    store = integration.store
    customer = store.add_customer(name="Klant", email="klant@example.nl")
    sent = store.add_invoice(customer_id=customer.id, description="Brood", amount_cents=1000)
    failed = store.add_invoice(customer_id=customer.id, description="Taart", amount_cents=2000)
    store.set_message(sent.id, message_id="msg_sent", status="queued")
    store.set_message(failed.id, message_id="msg_failed", status="queued")
    [secret] = integration.webhook_secrets()  # registered with mailport at start-up
    assert secret.startswith("whsec_")

    ok = _deliver(app, secret, events.MessageSent(message_id="msg_sent", account_id="a", attempt=1),
                  event_id="evt_1")
    assert ok.status_code == 204 and store.invoice(sent.id).status == "sent"
    # A late "queued" does not move it back; a forged delivery is refused.
    _deliver(app, secret, events.MessageQueued(message_id="msg_sent", account_id="a"), event_id="evt_0")
    assert store.invoice(sent.id).status == "sent"
    forged = _deliver(app, secret, events.MessageBounced(
        message_id="msg_sent", account_id="a", recipient="klant@example.nl", status="5.1.1", diagnosis="x",
        hard=True), event_id="evt_2", signature_secret="whsec_" + "f" * 32)
    assert forged.status_code == 401 and store.invoice(sent.id).status == "sent"

    failure = events.MessageFailed(message_id="msg_failed", account_id="a", attempt=1,
                                   reason="send.recipient_rejected", recipients=[RecipientOutcome(
                                       recipient="klant@example.nl", status=RecipientStatus.FAILED,
                                       smtp_code=535, enhanced_code="5.7.8",
                                       text="535-5.7.8 Username and Password not accepted",
                                       diagnosis="auth.invalid_credentials")])
    assert _deliver(app, secret, failure, event_id="evt_3").status_code == 204
    shown = store.invoice(failed.id)
    # The diagnosis comes from mailport in the app's language (Dutch here), not a raw code.
    assert shown.status == "failed" and shown.status_detail and "535" not in shown.status_detail, shown
    assert shown.status_detail == integration.client.explain(failure.recipients[0].text, language="nl").title
    # The same event delivered twice is applied once.
    store.set_status(failed.id, status="failed", detail="changed by hand")
    assert _deliver(app, secret, failure, event_id="evt_3").status_code == 204
    assert store.invoice(failed.id).status_detail == "changed by hand"
    assert "failed" in app.get("/").text
