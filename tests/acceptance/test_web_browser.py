"""The web pages in a real browser (Debian's headless Chromium, driven by Playwright) against the
running service (uvicorn on a free port) and the lab's real Postfix + Dovecot.

Set ``MAILPORT_SCREENSHOTS=1`` to (re)write the screenshots under ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import pageguard
from dbfixtures import ADMIN_KEY, make_runtime
from lab.ports import free_port
from mailport.api.app import create_app
from mailport.core.diagnostics import CODES, Diagnosis
from mailport.diagnosis_text import explain
from testenv import unavailable

pytestmark = [pytest.mark.browser, pytest.mark.lab]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "Web-Lab-Secret-77-Passw0rd"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Service:
    base: str
    api_key: str
    runtime: Any

    def link(self, *, language: str, user: str = "Anna de Vries",
             return_url: str = "https://app.example-invoicing.test/settings") -> str:
        resp = httpx.post(f"{self.base}/v1/ui-sessions", headers={"Authorization": f"Bearer {self.api_key}"},
                          json={"user_name": user, "language": language, "return_url": return_url})
        assert resp.status_code == 201, resp.text
        url: str = resp.json()["url"]
        assert url.startswith(self.base + "/ui/enter?token=")
        return url


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, mail_lab: Any, dns_lab_server: Any,
            oauth_lab: Any) -> Iterator[Service]:
    """mailport served by uvicorn in a thread, on a free port, over the mail, DNS and OAuth labs."""
    import uvicorn

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    oauth_lab.oauth.allow_redirect(oauth_lab.client_id, f"{base}/oauth/callback")
    oauth = {f"oauth_{name}_{key}": value for name in ("google", "microsoft")
             for key, value in {"client_id": oauth_lab.client_id, "client_secret": oauth_lab.client_secret,
                                **oauth_lab.oauth.endpoints()}.items()}
    runtime = make_runtime(
        tmp_path_factory.mktemp("web"), allow_private_hosts=True, ca_file=str(mail_lab.ca_pem_path),
        verify_roundtrip_timeout=20.0, connect_timeout=5.0, public_url=base,
        # example.test has no DNS: keep discovery quick and off the internet.
        discovery_probe=False, discovery_deadline=2.0, ispdb_url="http://127.0.0.1:9/",
        # Every lookup (and the own-domain checks' authoritative queries) goes to the lab DNS.
        dns_nameservers=[dns_lab_server.nameserver], dns_authoritative_port=dns_lab_server.port,
        dns_timeout=1.0, platform_domain="platform.test", platform_bounce_host="bounces.platform.test",
        domain_check_min_interval=0.0, platform_smtp_url="capture", **oauth,
    )
    server = uvicorn.Server(uvicorn.Config(create_app(runtime, embedded_worker=True), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    tenant = httpx.post(f"{base}/v1/tenants", json={"name": "Bakkerij"},
                        headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert tenant.status_code == 201, tenant.text
    try:
        yield Service(base=base, api_key=tenant.json()["api_key"], runtime=runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        unavailable("Debian chromium is not installed (make lab-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    errors = pageguard.watch_context(context)  # every page of the context, pop-ups included
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
    # A CSP violation or a script error shows up here: the pages must run without either.
    pageguard.assert_clean(errors)


@pytest.fixture
def lab_user(mail_lab: Any) -> str:
    email = f"shop{secrets.token_hex(3)}@example.test"
    mail_lab.add_user(email, PASSWORD)
    return email


def shot(page: Any, name: str) -> None:
    """Write ``docs/screenshots/<name>.png`` when MAILPORT_SCREENSHOTS=1 (256 colours if Pillow
    is installed: a third of the size, no visible difference for these flat pages)."""
    if os.environ.get("MAILPORT_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # caret="initial": Playwright's default hides the caret with an injected style, which our CSP blocks.
    page.screenshot(path=str(path), full_page=True, caret="initial")
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def in_language(page: Any, lang: str) -> None:
    """Switch the session's language with the footer's selector (as a user would), then show the
    same address again (the selector returns to the path; this keeps the query too)."""
    url = page.url
    page.locator("#lang-select").select_option(lang)
    page.locator("form.language button[type=submit]").click()
    page.locator(f"html[lang='{lang}']").wait_for(state="attached")
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == lang


def phone(page: Any) -> None:
    """A phone-width screen: everything must fit, nothing may scroll sideways."""
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def desktop(page: Any) -> None:
    page.set_viewport_size({"width": 1100, "height": 900})


def fill_mailbox(page: Any, mail_lab: Any, email: str, password: str) -> None:
    """Address → discovery (finds nothing for example.test) → advanced settings → password."""
    page.get_by_label(re.compile("E-mail address|E-mailadres")).fill(email)
    page.locator("#f-display_name").fill("Bakkerij Test")
    page.locator("button[formaction$='/discover']").click()
    proposal = page.locator("#proposal .proposal.not-found")
    proposal.wait_for()
    # Discovery's answer is announced and focused; the advanced settings are open for manual entry.
    # A locator, not wait_for_function: that polls by eval, which the pages' CSP refuses.
    page.locator(".proposal:focus").wait_for()
    assert page.locator("#advanced").get_attribute("open") is not None
    page.locator("#f-smtp_host").fill("127.0.0.1")
    page.locator("#f-smtp_port").fill(str(mail_lab.submission_port))
    page.locator("#f-smtp_security").select_option("starttls")
    page.locator("#f-imap_host").fill("127.0.0.1")
    page.locator("#f-imap_port").fill(str(mail_lab.imaps_port))
    page.locator("#f-imap_security").select_option("tls")
    page.locator("#f-password").fill(password)


def test_connect_a_mailbox_end_to_end(service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    page.goto(service.link(language="en"))
    # The token left the address bar; the session is a cookie the page's scripts cannot read.
    assert page.url == service.base + "/ui/settings/email"
    cookie = next(c for c in page.context.cookies() if c["name"] == "mailport_ui")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/ui"
    assert page.evaluate("document.cookie") == ""
    page.get_by_role("heading", name="How do you want to send?").wait_for()  # visible
    assert page.get_by_role("link", name="Back to the program").get_attribute("href") == \
        "https://app.example-invoicing.test/settings"
    shot(page, "settings-email-en")
    # Keyboard: the first Tab reaches the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.locator("#main:focus").wait_for()

    page.get_by_role("link", name=re.compile("Own mailbox")).click()
    page.get_by_role("link", name="Connect a mailbox").click()
    page.get_by_role("heading", name="Connect a mailbox", level=1).wait_for()  # visible
    fill_mailbox(page, mail_lab, lab_user, "not-the-password")
    shot(page, "mailbox-advanced-en")

    # A wrong password first: explained, on a desktop and a phone screen.
    page.get_by_role("button", name="Send a test mail to myself").click()
    page.locator("#test-result .outcome.bad").wait_for(timeout=60_000)
    assert page.locator(".stage-failed").count() == 1
    shot(page, "mailbox-test-failed-en")
    phone(page)
    shot(page, "mailbox-test-failed-phone-en")
    desktop(page)

    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="Send a test mail to myself").click()
    outcome = page.locator("#test-result .outcome.ok")
    outcome.wait_for(timeout=60_000)
    assert "It works" in outcome.inner_text(), outcome.inner_text()
    # Every stage ran, live; the result was announced and received the focus.
    statuses = page.locator(".stages .stage").evaluate_all("els => els.map(e => e.className)")
    assert statuses and all("stage-ok" in s for s in statuses), statuses
    page.locator("#test-status", has_text=re.compile(r"^\s*Test finished: it works\.\s*$")).wait_for()
    page.locator(".outcome:focus").wait_for()
    shot(page, "mailbox-test-ok-en")

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/ui/settings/email\?method=smtp&saved=1"))
    page.get_by_text("The mailbox was saved.").wait_for()  # visible
    row = page.locator(".account", has_text=lab_user)
    assert row.locator(".badge").inner_text() == "Working"  # the test became its verification
    shot(page, "mailbox-list-en")
    phone(page)
    shot(page, "settings-email-phone-en")
    desktop(page)
    in_language(page, "nl")
    assert page.locator(".account", has_text=lab_user).locator(".badge").inner_text() == "Werkt"
    shot(page, "mailbox-list-nl")
    in_language(page, "en")
    # The password is nowhere in the page.
    stored = service.runtime.accounts.find_by_email(service.runtime.tenants.authenticate(service.api_key), lab_user)
    trip = stored.last_verification["roundtrip"]
    # It arrived in the Dovecot INBOX, and was deleted once found (it must not reach the CRM).
    assert trip["arrived"] and trip["folder"] == "INBOX" and trip["removed"], trip
    assert mail_lab.messages(lab_user) == []
    assert PASSWORD not in page.content()

    # Edit: the password is not shown; leaving it empty keeps the saved one.
    row.get_by_role("link", name=re.compile("Edit")).click()
    assert page.locator("#f-password").input_value() == ""
    page.locator("#f-display_name").fill("Bakkerij Jansen")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert "Bakkerij Jansen" in page.locator(".account", has_text=lab_user).inner_text()
    account = service.runtime.accounts.find_by_email(
        service.runtime.tenants.authenticate(service.api_key), lab_user)
    assert account is not None and account.display_name == "Bakkerij Jansen" and account.has_password

    # Remove, with a confirmation page first.
    page.locator(".account", has_text=lab_user).get_by_role("link", name=re.compile("Remove")).click()
    page.get_by_role("heading", name=f"Remove {lab_user}?").wait_for()  # visible
    page.get_by_role("button", name="Yes, remove this mailbox").click()
    page.wait_for_url(re.compile(r"removed=1"))
    assert page.locator(".account", has_text=lab_user).count() == 0


def test_wrong_password_is_explained_in_dutch(service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    page.goto(service.link(language="nl-BE"))
    assert page.locator("html").get_attribute("lang") == "nl"
    shot(page, "settings-email-nl")
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    fill_mailbox(page, mail_lab, lab_user, "not-the-password")
    shot(page, "mailbox-advanced-nl")
    page.locator("button[formaction$='/test']").click()
    outcome = page.locator("#test-result .outcome.bad")
    outcome.wait_for(timeout=60_000)
    info = CODES["auth.invalid_credentials"]
    expected = explain(Diagnosis(code=info.code, severity=info.severity, retryable=info.retryable,
                                 provider=None, server_text=None), "nl")
    english = explain(Diagnosis(code=info.code, severity=info.severity, retryable=info.retryable,
                                provider=None, server_text=None), "en")
    assert expected.title != english.title
    text = outcome.inner_text()
    assert expected.title in text, text
    assert all(step in text for step in expected.steps), text
    assert "Traceback" not in page.content() and "not-the-password" not in page.content()
    failed = page.locator(".stage-failed")
    assert failed.count() == 1 and "aanmelden" in failed.inner_text().lower(), failed.inner_text()
    shot(page, "mailbox-test-failed-nl")
    # A phone-width screen: everything fits, nothing scrolls sideways.
    phone(page)
    shot(page, "mailbox-test-failed-phone-nl")
    desktop(page)
    # The password corrected: the same form's test now works.
    page.locator("#f-password").fill(PASSWORD)
    page.locator("button[formaction$='/test']").click()
    page.locator("#test-result .outcome.ok").wait_for(timeout=60_000)
    assert "Het werkt" in page.locator("#test-result .outcome").inner_text()
    shot(page, "mailbox-test-ok-nl")
    page.goto(service.base + "/ui/settings/email?method=smtp")
    phone(page)
    shot(page, "settings-email-phone-nl")


def test_a_live_test_keeps_polling_through_a_lost_connection(service: Service, page: Any, mail_lab: Any,
                                                             lab_user: str) -> None:
    """The server restarting (or the network dropping) while a test runs: the page says the
    connection was lost, keeps asking, and shows the result once the server answers again —
    instead of replacing the test with a generic error and never asking again."""
    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    fill_mailbox(page, mail_lab, lab_user, PASSWORD)
    refused = []

    def drop(route: Any) -> None:
        refused.append(route.request.url)
        route.abort("connectionrefused")

    page.route("**/ui/settings/email/runs/*", drop)
    page.locator("button[formaction$='/test']").click()
    notice = page.locator("#test-result .poll-error")
    notice.wait_for()  # visible
    assert notice.inner_text() == "De verbinding met de server is verbroken. We proberen het opnieuw…"
    assert page.locator("#test-result .run[hx-trigger]").count() == 1  # the poller is still there
    while len(refused) < 2:  # it asked again, and was refused again
        page.wait_for_timeout(200)
    assert page.locator("#test-result .poll-error").count() == 1  # one notice, not one per failure
    page.unroute("**/ui/settings/email/runs/*")
    page.locator("#test-result .outcome.ok").wait_for(timeout=60_000)
    assert page.locator("#test-result .poll-error").count() == 0
    assert "Het werkt" in page.locator("#test-result .outcome").inner_text()
    # the refused polls, as the browser and htmx report them; nothing else is excused
    for needle in ("ERR_CONNECTION_REFUSED", "htmx:sendError", "htmx:afterRequest"):
        pageguard.expect(page, needle)


def test_the_imap_fields_show_and_are_required_only_while_imap_is_ticked(service: Service, page: Any) -> None:
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    page.locator("#advanced summary").click()
    imap = page.locator("fieldset.imap-fields")
    box = page.locator("#f-use_imap")

    def marked() -> tuple[int, list[str | None]]:
        marks = imap.locator(".required")
        shown = sum(1 for i in range(marks.count()) if marks.nth(i).get_attribute("hidden") is None)
        return shown, [page.locator(f"#f-{n}").get_attribute("aria-required") for n in ("imap_host", "imap_port")]

    assert box.is_checked() and imap.is_visible() and marked() == (2, ["true", "true"])
    page.locator("#f-imap_host").fill("imap.bakkerij.example")
    box.uncheck()
    assert imap.is_hidden() and marked() == (0, [None, None])
    box.check()  # what was typed is still there
    assert imap.is_visible() and marked() == (2, ["true", "true"])
    assert page.locator("#f-imap_host").input_value() == "imap.bakkerij.example"
    assert page.locator("#f-smtp_host").get_attribute("aria-required") == "true"  # SMTP's never change


def test_outbox_lists_sent_documents_with_status(service: Service, page: Any, mail_lab: Any,
                                                 lab_user: str) -> None:
    headers = {"Authorization": f"Bearer {service.api_key}"}
    account = httpx.post(f"{service.base}/v1/accounts", headers=headers, json={
        "email": lab_user, "display_name": "Bakkerij Test", "password": PASSWORD,
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
    })
    assert account.status_code == 201, account.text
    sent = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "account": account.json()["id"], "to": [{"email": "user2@example.test", "name": "Debiteur BV"}],
        # a subject as long as real ones: it squeezes the other columns of the table
        "subject": "Factuur 2026-0042 voor de levering van brood en banket in november en december",
        "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.",
        "attachments": [{"filename": "factuur-2026-0042.pdf", "content": "JVBERi0xLjQK"}],
    })
    assert sent.status_code in (201, 202), sent.text
    message_id = sent.json()["id"]
    deadline = time.monotonic() + 30
    while httpx.get(f"{service.base}/v1/messages/{message_id}", headers=headers).json()["state"] != "sent":
        assert time.monotonic() < deadline, "the message was not sent"
        time.sleep(0.3)

    for lang, sent_label in (("en", "Sent"), ("nl", None)):
        page.goto(service.link(language=lang))
        page.locator("nav.tabs").get_by_role("link", name=re.compile("Outbox|Postvak UIT")).click()
        row = page.locator("tbody tr", has_text="Factuur 2026-0042")
        assert "user2@example.test" in row.inner_text()
        badge = row.locator(".badge").inner_text()
        # the status on one line, not "Sen" over "t" beside a long subject
        lines = row.locator(".badge").evaluate(
            "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }")
        assert lines == 1, f"the status badge {badge!r} wraps over {lines} lines"
        if sent_label:
            assert badge == sent_label
        else:
            assert badge != "Sent"  # translated
        shot(page, f"outbox-{lang}")
        row.get_by_role("link", name="Factuur 2026-0042").click()
        page.get_by_role("heading", name="Factuur 2026-0042", level=1).wait_for()  # visible
        assert "user2@example.test" in page.locator(".recipients").inner_text()
        shot(page, f"outbox-message-{lang}")


def test_long_addresses_wrap_instead_of_widening_the_pages_on_a_small_phone(
        service: Service, page: Any, mail_lab: Any) -> None:
    """320 px (the smallest phones in use), German (the longest words): a mailbox's and a
    recipient's long addresses wrap inside their cards and panels; no page scrolls sideways. A
    tenant of its own, and a scheduled document that is never sent."""
    tenant = httpx.post(f"{service.base}/v1/tenants", json={"name": "Holding"},
                        headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert tenant.status_code == 201, tenant.text
    headers = {"Authorization": f"Bearer {tenant.json()['api_key']}"}
    account = httpx.post(f"{service.base}/v1/accounts", headers=headers, json={
        "email": "debiteurenadministratie@voorbeeldbedrijf-holding-groep.example.org", "password": PASSWORD,
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"}})
    assert account.status_code == 201, account.text
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    made = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "account": account.json()["id"], "to": ["debiteurenadministratie.zuid@voorbeeldbedrijf-holding.example.org"],
        "subject": "Herinnering factuur 2026-0042", "text": "Beste klant,", "send_at": later})
    assert made.status_code in (201, 202), made.text
    message_id = made.json()["id"]
    try:
        link = httpx.post(f"{service.base}/v1/ui-sessions", headers=headers, json={
            "user_name": "Anna", "language": "de", "return_url": "https://app.example-invoicing.test/settings"})
        page.set_viewport_size({"width": 320, "height": 700})
        page.goto(link.json()["url"])
        for path in ("/ui/settings/email", "/ui/outbox", f"/ui/outbox/{message_id}"):
            page.goto(service.base + path)
            page.get_by_text("debiteurenadministratie").first.wait_for()
            assert page.evaluate("document.documentElement.scrollWidth") == 320, path
    finally:
        httpx.post(f"{service.base}/v1/messages/{message_id}/cancel", headers=headers)


def _zone(domain: str, records: list[dict[str, Any]]) -> str:
    """The zone a user would publish after copying the records from the page."""
    by_kind = {r["kind"]: r for r in records}

    def quoted(strings: list[str]) -> str:
        return " ".join(f'"{part}"' for part in strings)

    return "\n".join([
        f"$ORIGIN {domain}.", "$TTL 60", f"@ NS ns1.{domain}.", "ns1 A 127.0.0.1",
        f"{by_kind['dkim']['name']}. TXT {quoted(by_kind['dkim']['strings'])}",
        f"{by_kind['return_path']['name']}. CNAME {by_kind['return_path']['value']}.",
        f"{by_kind['dmarc']['name']}. TXT {quoted(by_kind['dmarc']['strings'])}",
        '@ TXT "v=spf1 mx -all"',
    ]) + "\n"


def test_add_a_domain_and_see_each_records_verdict(service: Service, page: Any, dns_lab: Any) -> None:
    domain = f"bakkerij{secrets.token_hex(2)}.test"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.base)
    page.goto(service.link(language="en"))
    page.get_by_role("link", name=re.compile("Own domain")).click()
    shot(page, "domain-add-en")
    in_language(page, "nl")
    shot(page, "domain-add-nl")
    in_language(page, "en")
    page.get_by_label("Your domain name").fill(domain)
    page.get_by_role("button", name="Add domain").click()
    page.get_by_role("heading", name=domain, level=1).wait_for()  # visible
    records = page.locator(".records .dns-record")
    assert records.count() == 4  # DKIM, return path, DMARC, and the optional SPF

    # Copy buttons put exactly the value on the clipboard, and say so.
    first_value = page.locator("#rec-1-value").inner_text()
    page.locator("button[data-copy='rec-1-value']").click()
    assert page.evaluate("navigator.clipboard.readText()") == first_value
    assert records.first.locator(".copy-status").last.inner_text() == "Copied"
    shot(page, "domain-records-en")
    in_language(page, "nl")
    assert page.locator(".records .dns-record").count() == 4
    shot(page, "domain-records-nl")
    in_language(page, "en")

    # Nothing published yet: each required record gets its own verdict and fix.
    page.get_by_role("button", name="Check and activate").click()
    page.locator("#check-result .verdicts").wait_for()
    verdicts = page.locator(".verdict")
    assert verdicts.count() == 4
    assert page.locator(".verdict-fail").count() >= 3, page.locator("#check-result").inner_text()
    assert "DKIM record missing" in page.locator("#check-result").inner_text()
    assert page.locator(".domain-state .badge").inner_text() == "Waiting for the records"
    shot(page, "domain-check-failed-en")
    in_language(page, "nl")  # the page shows its last check again
    assert page.locator(".domain-state .badge").inner_text() == "Wacht op de records"
    assert page.locator(".verdict-fail").count() >= 3
    shot(page, "domain-check-failed-nl")
    in_language(page, "en")

    # The user publishes the records; the next check activates the domain.
    tenant = service.runtime.tenants.authenticate(service.api_key)
    view = next(d for d in service.runtime.domains.list_domains(tenant) if d.name == domain)
    dns_lab.load_zone(_zone(domain, view.to_dict()["records"]))
    page.get_by_role("button", name="Check and activate").click()
    page.locator(".domain-state .badge", has_text="Active").wait_for()
    assert page.locator(".verdict-pass").count() == 4, page.locator("#check-result").inner_text()
    page.get_by_text("Your domain is active").wait_for()  # visible
    shot(page, "domain-active-en")

    # The same page in Dutch.
    page.goto(service.link(language="nl"))
    page.goto(f"{service.base}/ui/settings/email/domains/{view.id}")
    assert page.locator(".domain-state .badge").inner_text() == "Actief"
    shot(page, "domain-active-nl")


def test_inbox_shows_contact_names_search_and_a_message_with_its_attachment(
        service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    from email.message import EmailMessage

    headers = {"Authorization": f"Bearer {service.api_key}"}
    account = httpx.post(f"{service.base}/v1/accounts", headers=headers, json={
        "email": lab_user, "password": PASSWORD,
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    })
    assert account.status_code == 201, account.text
    contacts = httpx.put(f"{service.base}/v1/contacts", headers=headers, json=[
        {"id": "crm-42", "name": "Debiteur BV (Jan Smit)", "addresses": ["jan@debiteur.test"]}])
    assert contacts.status_code == 200, contacts.text
    long_word = "Betalingsherinnering" + "X" * 280  # one word, as some senders' systems write them
    for subject, sender in (("Vraag over factuur 2026-0042", "jan@debiteur.test"),
                            ("Nieuwsbrief november", "news@elders.test"), (long_word, "robot@elders.test")):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, lab_user, subject
        msg.set_content("Goedemiddag,\n\nKlopt het bedrag op regel 3?\n\nJan")
        if "factuur" in subject:
            msg.add_attachment(b"%PDF-1.4 lab", maintype="application", subtype="pdf", filename="bon-17.pdf")
        if subject == long_word:
            msg.add_attachment(b"%PDF-1.4 lab", maintype="application", subtype="pdf",
                               filename="overzicht-" + "a" * 200 + ".pdf")
        mail_lab.inject(msg, mail_from=sender, rcpt_to=[lab_user])
    for _ in range(2):
        assert mail_lab.wait_for_message(lab_user, headers={"Subject": "Nieuwsbrief november"}, timeout=10)
    synced = httpx.post(f"{service.base}/v1/inbox/accounts/{account.json()['id']}/sync", headers=headers,
                        timeout=30)
    assert synced.status_code == 200 and synced.json()["state"] == "idle", synced.text

    page.goto(service.link(language="en"))
    page.locator("nav.tabs").get_by_role("link", name="Inbox").click()
    assert page.locator(".sync-states", has_text=lab_user).locator(".badge").first.inner_text() == "Up to date"
    row = page.locator("tbody tr", has_text="Vraag over factuur")
    assert "Debiteur BV (Jan Smit)" in row.inner_text()  # the host's contact name, not the bare address
    shot(page, "inbox-en")

    page.get_by_role("searchbox").fill("Nieuwsbrief")
    page.get_by_role("button", name="Search").click()
    assert page.locator("tbody tr").count() == 1 and "Nieuwsbrief" in page.locator("tbody").inner_text()

    page.goto(service.base + "/ui/inbox")
    page.get_by_role("link", name="Vraag over factuur 2026-0042").click()
    page.get_by_role("heading", name="Vraag over factuur 2026-0042", level=1).wait_for()  # visible
    assert "Klopt het bedrag op regel 3?" in page.locator(".mail-body").inner_text()
    link = page.get_by_role("link", name="bon-17.pdf")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == b"%PDF-1.4 lab"
    shot(page, "inbox-message-en")

    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/inbox")
    assert page.locator("h1").inner_text() == "Postvak IN"
    page.get_by_role("button", name="Zoeken").wait_for()  # visible
    shot(page, "inbox-nl")
    page.get_by_role("link", name="Vraag over factuur 2026-0042").click()
    shot(page, "inbox-message-nl")

    # A subject or file name that is one long word wraps: the page never scrolls sideways, and the
    # list's other columns keep their words whole ("Datu/m" once) and the date on one line.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(service.base + "/ui/inbox")
    lines = page.evaluate("""() => Array.from(document.querySelectorAll("thead th, td.when"), (cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return [cell.innerText, new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size];
    })""")
    assert lines and all(n == 1 for _, n in lines), lines
    page.locator("tbody a", has_text="Betalingsherinnering").click()
    page.locator("h1", has_text="Betalingsherinnering").wait_for()
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width


def test_platform_address_sender_name_and_reply_address(service: Service, page: Any) -> None:
    page.goto(service.link(language="en"))
    page.get_by_role("link", name=re.compile("Platform address")).click()
    tenant = service.runtime.tenants.authenticate(service.api_key)
    address = service.runtime.platform.sender(tenant).address
    assert address.endswith("@platform.test") and address in page.locator("#chosen").inner_text()
    page.get_by_label("Sender name").fill("Bakkerij Jansen")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The sender name was saved.").wait_for()  # visible
    assert service.runtime.platform.sender(tenant).display_name == "Bakkerij Jansen"
    page.get_by_label("Reply address").fill("info@bakkerij-jansen.test")
    page.get_by_role("button", name="Send confirmation link").click()
    page.get_by_text("We sent a confirmation link").wait_for()  # visible
    assert "Waiting for confirmation: info@bakkerij-jansen.test" in page.locator("#chosen").inner_text()
    assert service.runtime.platform.sender(tenant).reply_to is None  # not before it is confirmed
    # Without a confirmed reply address the platform cannot become the way documents go out:
    # customers' replies to an invoice would be lost. No button, a reason, and the form refused.
    assert page.get_by_role("button", name="Send from this").count() == 0
    page.get_by_text("Confirm a reply address first").wait_for()  # visible
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    refused = page.request.post(service.base + "/ui/settings/email/default",
                                form={"csrf": csrf or "", "method": "platform"}, max_redirects=0)
    assert refused.status == 303 and "platform_error=no_reply_to" in refused.headers["location"], refused.headers
    assert service.runtime.tenants.get(tenant).default_method != "platform"
    import httpx

    api = httpx.Client(base_url=service.base, headers={"Authorization": f"Bearer {service.api_key}"})
    mail = next(c for c in api.get("/v1/platform/captured").json() if "info@bakkerij-jansen.test" in c["rcpt_to"])
    body = api.get(f"/v1/platform/captured/{mail['id']}").text
    page.goto(re.search(re.escape(service.base) + r"/\S+", body).group(0))  # type: ignore[union-attr]
    page.get_by_role("button", name="Confirm").click()
    page.goto(service.base + "/ui/settings/email?method=platform")
    assert service.runtime.platform.sender(tenant).reply_to == "info@bakkerij-jansen.test"
    # "Send from this" stands apart from the reply-address form's button, not stacked against it
    # as if it were part of that form (two primary buttons touching).
    confirm = page.get_by_role("button", name="Send confirmation link").bounding_box()
    choose = page.get_by_role("button", name="Send from this").bounding_box()
    assert confirm and choose and choose["y"] - (confirm["y"] + confirm["height"]) >= 12, (confirm, choose)
    shot(page, "platform-en")
    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email?method=platform")
    shot(page, "platform-nl")


def test_connect_gmail_by_signing_in_with_google(service: Service, page: Any) -> None:
    page.goto(service.link(language="en"))
    page.get_by_role("link", name=re.compile("Gmail")).click()
    page.get_by_label("E-mail address").fill("user@example.test")
    page.get_by_label("Sender name").fill("Bakkerij Gmail")
    shot(page, "gmail-en")
    in_language(page, "nl")  # the same section in Dutch, filled in the same way
    page.get_by_label("E-mailadres").fill("user@example.test")
    page.get_by_label("Afzendernaam").fill("Bakkerij Gmail")
    assert page.get_by_role("button", name="Aanmelden met Google").count() == 1
    shot(page, "gmail-nl")
    in_language(page, "en")
    page.get_by_label("E-mail address").fill("user@example.test")
    page.get_by_label("Sender name").fill("Bakkerij Gmail")
    page.get_by_role("button", name="Sign in with Google").click()
    # The provider's own page (the lab's account chooser), then back through the callback.
    page.locator("button[data-email='user@example.test']").click()
    page.wait_for_url(re.compile(r"/ui/settings/email\?method=smtp&saved=1"))
    row = page.locator(".account", has_text="user@example.test")
    assert "Bakkerij Gmail" in row.inner_text()
    tenant = service.runtime.tenants.authenticate(service.api_key)
    account = service.runtime.accounts.find_by_email(tenant, "user@example.test")
    assert account is not None and account.auth_kind == "oauth2" and not account.has_password

    # Its edit page asks for no password; its test runs with the stored tokens and is recorded.
    row.get_by_role("link", name=re.compile("Edit")).click()
    assert page.locator("#f-password").count() == 0
    page.get_by_role("button", name="Send a test mail to myself").click()
    page.locator("#test-result .outcome").wait_for(timeout=60_000)
    # (Google's real servers are not reachable from the lab: the first stage fails, explained.)
    assert page.locator(".stage-failed").count() == 1 and page.locator("#test-result .diagnosis").count() == 1
    stored = service.runtime.accounts.get(tenant, account.id)
    assert stored.last_verification is not None and stored.status == "failed"

    # "Sign in again" goes through the provider for the same account and keeps the mailbox.
    page.goto(service.base + "/ui/settings/email?method=smtp")
    page.locator(".account", has_text="user@example.test").get_by_role("button",
                                                                       name=re.compile("Sign in again")).click()
    page.locator("button[data-email='user@example.test']").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert [a.email for a in service.runtime.accounts.list_accounts(tenant)].count("user@example.test") == 1

    # Refusing access on the provider's page comes back as a diagnosis, in the user's language.
    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email?method=gmail")
    page.get_by_label("E-mailadres").fill("user2@example.test")
    page.locator("button[type=submit]", has_text="Google").click()
    page.locator("#cancel").click()
    page.wait_for_url(re.compile(r"oauth_error="))
    page.locator("#chosen .outcome.bad").wait_for()  # visible
    shot(page, "gmail-denied-nl")
    in_language(page, "en")
    assert page.locator("#chosen .outcome.bad").count() == 1
    shot(page, "gmail-denied-en")


def test_outbox_shows_a_bounce_with_its_diagnosis(service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    """An invoice to an address that does not exist: Postfix accepts it, delivery fails, the DSN
    comes back to the mailbox, inbox sync links it, and the outbox explains it."""
    headers = {"Authorization": f"Bearer {service.api_key}"}
    account = httpx.post(f"{service.base}/v1/accounts", headers=headers, json={
        "email": lab_user, "password": PASSWORD,
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    }).json()
    sent = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "account": account["id"], "to": ["nobody@example.test"], "subject": "Factuur 2026-0043",
        "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.",
    }).json()
    deadline = time.monotonic() + 60
    state = ""
    while state != "bounced":
        assert time.monotonic() < deadline, f"no bounce linked (state {state!r})"
        mail_lab.wait_for_message(lab_user, timeout=2)
        httpx.post(f"{service.base}/v1/inbox/accounts/{account['id']}/sync", headers=headers, timeout=30)
        state = httpx.get(f"{service.base}/v1/messages/{sent['id']}", headers=headers).json()["state"]

    page.goto(service.link(language="nl"))
    page.goto(f"{service.base}/ui/outbox/{sent['id']}")
    assert page.locator("dl.facts .badge").first.inner_text() == "Teruggestuurd"
    recipient = page.locator(".recipients li", has_text="nobody@example.test")
    assert recipient.locator(".diagnosis").count() == 1, recipient.inner_text()
    shot(page, "outbox-bounce-nl")
    in_language(page, "en")
    assert page.locator("dl.facts .badge").first.inner_text() == "Bounced"
    shot(page, "outbox-bounce-en")


def test_every_page_in_english_and_dutch(service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    """Each page renders in both languages without a script or CSP error (screenshots: both)."""
    headers = {"Authorization": f"Bearer {service.api_key}"}
    account = httpx.post(f"{service.base}/v1/accounts", headers=headers, json={
        "email": lab_user, "display_name": "Bakkerij Jansen", "password": PASSWORD,
        "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port, "security": "starttls"},
        "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"},
    }).json()
    tenant = service.runtime.tenants.authenticate(service.api_key)
    domain = next(iter(service.runtime.domains.list_domains(tenant)), None)
    if domain is None:  # the domain page is shown (and shot) whichever tests ran before
        added = httpx.post(f"{service.base}/v1/domains", headers=headers, json={"name": "bakkerij-jansen.test"})
        assert added.status_code == 201, added.text
        domain = service.runtime.domains.get(tenant, added.json()["id"])
    pages = {
        "settings-email-smtp": "/ui/settings/email?method=smtp",
        "mailbox-new": "/ui/settings/email/mailbox/new",
        "mailbox-edit": f"/ui/settings/email/mailbox/{account['id']}",
        "mailbox-remove": f"/ui/settings/email/mailbox/{account['id']}/remove",
        "settings-email-domain": "/ui/settings/email?method=domain",
        "outlook": "/ui/settings/email?method=outlook",
        "domain": f"/ui/settings/email/domains/{domain.id}",
    }
    # Rendered in both languages, not shot: test_connect_gmail_by_signing_in_with_google shoots
    # the section filled in (one test per screenshot, or the last to run would win).
    unshot = ("/ui/settings/email?method=gmail",)

    def show(path: str, lang: str) -> None:
        response = page.goto(service.base + path)
        assert response is not None and response.status == 200, (path, lang)
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("main h1").count() == 1, path

    for lang in ("en", "nl"):
        page.goto(service.link(language=lang))
        for name, path in pages.items():
            show(path, lang)
            shot(page, f"{name}-{lang}")
        for path in unshot:
            show(path, lang)
