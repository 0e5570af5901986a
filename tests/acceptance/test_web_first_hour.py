"""What a small business hits in its first hour on the pages (issue 16), in a real browser.

Same service, browser and page fixtures as ``test_web_browser.py`` — the page fixture fails a test
on any console error (a CSP violation included). ``MAILPORT_SCREENSHOTS=1`` rewrites screenshots.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import test_web_browser as web
from test_web_browser import PASSWORD, Service

# The same fixtures (pytest finds them by attribute).
service, browser, page, lab_user = web.service, web.browser, web.page, web.lab_user

pytestmark = [pytest.mark.browser, pytest.mark.lab]

SERVER_FIELDS = ("smtp_host", "smtp_port", "smtp_username", "imap_host", "imap_port", "imap_username")


def _values(page: Any) -> dict[str, str]:
    return {name: page.locator(f"#f-{name}").input_value() for name in SERVER_FIELDS} | {
        "provider_id": page.locator("input[name=provider_id]").input_value()}


def _find(page: Any, email: str, expect: str) -> None:
    page.get_by_label(re.compile("E-mail address|E-mailadres")).fill(email)
    page.locator("button[formaction$='/discover']").click()
    page.locator(f"#proposal .proposal.{expect}", has_text="").wait_for()
    # A locator, not wait_for_function: that polls by eval, which the pages' CSP refuses.
    page.locator(".proposal:focus").wait_for()


def test_a_new_lookup_clears_what_the_old_one_filled(service: Service, page: Any) -> None:
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    _find(page, "someone@ziggo.nl", "found")
    page.locator("#advanced summary").click()
    filled = _values(page)
    assert filled["smtp_host"] == "smtp.ziggo.nl" and filled["provider_id"] == "ziggo", filled

    # Another address that nothing is known about: none of Ziggo's servers may stay behind.
    _find(page, "info@bakkerij-jansen.test", "not-found")
    after = _values(page)
    assert after == dict.fromkeys(after, ""), after
    # A test now asks for the servers instead of sending this user's password to Ziggo.
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="Send a test mail to myself").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "smtp.ziggo.nl" not in page.content()

    # What the user typed by hand survives a lookup; a found provider replaces only its own fields.
    page.locator("#f-smtp_host").fill("mail.bakkerij-jansen.test")
    _find(page, "info@bakkerij-jansen.test", "not-found")
    assert page.locator("#f-smtp_host").input_value() == "mail.bakkerij-jansen.test"


def test_four_lookups_without_a_console_error(service: Service, page: Any) -> None:
    """Each click swaps the proposal and the server fields; none may trip the CSP (the page
    fixture fails the test on any console error)."""
    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    for email, expect in (("a@ziggo.nl", "found"), ("b@bakkerij.test", "not-found"),
                          ("c@kpnmail.nl", "found"), ("d@bakkerij.test", "not-found")):
        _find(page, email, expect)


def _account(service: Service, mail_lab: Any, email: str, password: str) -> str:
    import httpx

    created = httpx.post(f"{service.base}/v1/accounts", headers={"Authorization": f"Bearer {service.api_key}"},
                         json={"email": email, "password": password,
                               "smtp": {"host": "127.0.0.1", "port": mail_lab.submission_port,
                                        "security": "starttls"},
                               "imap": {"host": "127.0.0.1", "port": mail_lab.imaps_port, "security": "tls"}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _send(service: Service, account: str, subject: str) -> str:
    import httpx

    headers = {"Authorization": f"Bearer {service.api_key}"}
    sent = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "account": account, "to": ["user2@example.test"], "subject": subject, "text": "Beste klant,"})
    assert sent.status_code == 202, sent.text
    message_id = str(sent.json()["id"])
    _wait(lambda: httpx.get(f"{service.base}/v1/messages/{message_id}", headers=headers).json()["state"]
          in ("failed", "deferred", "sent"))
    return message_id


def _wait(predicate: Any, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_one_state_per_mailbox_on_every_page(service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    """A send that finds the password rejected: Settings, Outbox and Inbox all say so, with the
    diagnosis and a way to the mailbox's settings; the API says the same."""
    import httpx

    account = _account(service, mail_lab, lab_user, "not-the-password")
    _send(service, account, "Factuur 2026-0050")
    listed = httpx.get(f"{service.base}/v1/accounts", headers={"Authorization": f"Bearer {service.api_key}"})
    mine = next(a for a in listed.json() if a["id"] == account)
    assert mine["state"] == "needs_attention" and mine["attention"]["code"] == "auth.invalid_credentials", mine

    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email?method=smtp")
    row = page.locator(".account", has_text=lab_user)
    assert row.locator(".badge").inner_text() == "Vraagt aandacht"
    assert row.locator(".diagnosis").count() == 1
    web.shot(page, "mailbox-needs-attention-nl")
    web.in_language(page, "en")
    assert row.locator(".badge").inner_text() == "Needs attention"
    web.shot(page, "mailbox-needs-attention-en")
    web.in_language(page, "nl")
    for path in ("/ui/outbox", "/ui/inbox"):
        page.goto(service.base + path)
        notice = page.locator(".notice.attention", has_text=lab_user)
        assert notice.count() == 1, path
        assert notice.get_by_role("link").get_attribute("href") == f"/ui/settings/email/mailbox/{account}"
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/outbox")
    web.shot(page, "outbox-needs-attention-en")
    web.in_language(page, "nl")
    assert page.locator(".notice.attention", has_text=lab_user).count() == 1
    web.shot(page, "outbox-needs-attention-nl")


def test_saving_an_untested_mailbox_does_not_say_all_is_well(service: Service, page: Any, mail_lab: Any,
                                                              lab_user: str) -> None:
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    web.fill_mailbox(page, mail_lab, lab_user, "not-the-password")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"saved=untested"))
    flash = page.locator(".flash")
    assert "not been tested" in flash.inner_text() and "success" not in (flash.get_attribute("class") or "")
    assert page.locator(".account", has_text=lab_user).locator(".badge").inner_text() == "Not tested yet"


def test_send_again_after_fixing_the_password(service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {service.api_key}"}
    account = _account(service, mail_lab, lab_user, "not-the-password")
    message_id = _send(service, account, "Factuur 2026-0077")
    assert httpx.get(f"{service.base}/v1/messages/{message_id}", headers=headers).json()["state"] == "failed"

    page.goto(service.link(language="en"))
    page.goto(f"{service.base}/ui/outbox/{message_id}")
    # The diagnosis once (not again under the recipient), with the way to fix it.
    assert page.locator(".diagnosis-title, .outcome h2").count() == 1
    fix = page.get_by_role("link", name="Check the mailbox settings")
    assert fix.get_attribute("href") == f"/ui/settings/email/mailbox/{account}"
    web.shot(page, "outbox-failed-en")
    web.in_language(page, "nl")
    assert page.locator(".diagnosis-title, .outcome h2").count() == 1
    assert page.get_by_role("link", name="Controleer de instellingen van de mailbox").count() == 1
    web.shot(page, "outbox-failed-nl")
    web.in_language(page, "en")

    fixed = httpx.patch(f"{service.base}/v1/accounts/{account}", headers=headers, json={"password": PASSWORD})
    assert fixed.status_code == 200, fixed.text
    page.get_by_role("button", name="Send again").click()
    page.wait_for_url(re.compile(r"done=retried"))
    _wait(lambda: httpx.get(f"{service.base}/v1/messages/{message_id}", headers=headers).json()["state"] == "sent")
    assert mail_lab.wait_for_message("user2@example.test", headers={"Subject": "Factuur 2026-0077"}, timeout=10)
    page.reload()
    assert page.locator("dl.facts .badge").first.inner_text() == "Sent"
    assert page.get_by_role("button", name="Send again").count() == 0


def test_choosing_how_invoices_are_sent(service: Service, page: Any, mail_lab: Any) -> None:
    """"How do you want to send?" is a choice: the page stores it, shows it, and a message that
    names no sender goes that way."""
    import secrets

    import httpx

    headers = {"Authorization": f"Bearer {service.api_key}"}
    first, second = (f"keuze{secrets.token_hex(3)}@example.test" for _ in range(2))
    for email in (first, second):
        mail_lab.add_user(email, PASSWORD)
    _account(service, mail_lab, first, PASSWORD)
    chosen = _account(service, mail_lab, second, PASSWORD)

    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email?method=smtp")
    page.locator(".account", has_text=second).get_by_role("button", name=re.compile("Send from this")).click()
    page.wait_for_url(re.compile(r"default_saved=1"))
    assert page.locator(".default-sender .default-address").inner_text() == second
    assert "Sends your documents" in page.locator(".account", has_text=second).inner_text()
    web.shot(page, "settings-email-default-en")
    tenant = httpx.get(f"{service.base}/v1/tenant", headers=headers).json()
    assert tenant["default_method"] == "account" and tenant["default_account"] == chosen

    sent = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "to": ["user2@example.test"], "subject": "Factuur 2026-0090", "text": "Beste klant,"})
    assert sent.status_code == 202, sent.text
    assert sent.json()["account_id"] == chosen and sent.json()["from"] == second

    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email")
    assert page.locator(".default-sender .default-address").inner_text() == second
    web.shot(page, "settings-email-default-nl")


def test_choosing_the_own_domain_to_send_invoices_from(service: Service, page: Any, dns_lab: Any) -> None:
    """The own domain is a choice like the others: offered once its records passed, the address
    at it typed on the page, shown as "Invoices are sent from", changed in Dutch, and used by a
    message that names no sender; the page says why an address is refused."""
    import secrets

    import httpx

    headers = {"Authorization": f"Bearer {service.api_key}"}
    domain = f"bakkerij{secrets.token_hex(2)}.test"
    added = httpx.post(f"{service.base}/v1/domains", headers=headers, json={"name": domain})
    assert added.status_code == 201, added.text
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email?method=domain")
    row = page.locator(".account", has_text=domain)
    # Not checked yet: no way to choose it, and the page says when there will be.
    assert row.locator("form.default-from").count() == 0
    assert "once its records have passed the check" in row.locator(".domain-not-sendable").inner_text()

    dns_lab.load_zone(web._zone(domain, added.json()["records"]))
    checked = httpx.post(f"{service.base}/v1/domains/{added.json()['id']}/check", headers=headers)
    assert checked.json()["state"] == "active", checked.text
    page.reload()
    row.get_by_role("button", name=re.compile("Send from this")).click()  # nothing typed before the @
    page.locator(".flash.error").wait_for()
    assert "Enter the part before the @" in page.locator(".flash.error").inner_text()
    row.get_by_label("Send invoices from this address").fill("facturen")
    row.get_by_role("button", name=re.compile("Send from this")).click()
    page.wait_for_url(re.compile(r"default_saved=1"))
    assert page.locator(".default-sender .default-address").inner_text() == f"facturen@{domain}"
    assert "your own domain" in page.locator(".default-sender").inner_text()
    assert "Sends your documents" in row.inner_text()
    assert page.locator(".method.chosen .badge").inner_text() == "In use"
    web.shot(page, "settings-email-default-domain-en")
    tenant = httpx.get(f"{service.base}/v1/tenant", headers=headers).json()
    assert (tenant["default_method"], tenant["default_from"]) == ("domain", f"facturen@{domain}")

    sent = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "to": ["klant@example.org"], "subject": "Factuur 2026-0300", "text": "Beste klant,"})
    assert sent.status_code == 202, sent.text
    assert sent.json()["from"] == f"facturen@{domain}" and sent.json()["account_id"] == added.json()["id"]

    # In Dutch, the address changed on the page.
    page.goto(service.link(language="nl"))
    page.goto(service.base + "/ui/settings/email?method=domain")
    assert "je eigen domein" in page.locator(".default-sender").inner_text()
    field = row.get_by_label("Facturen versturen vanaf dit adres")
    assert field.input_value() == "facturen"
    field.fill("boekhouding")
    row.get_by_role("button", name=re.compile("Adres wijzigen")).click()
    page.wait_for_url(re.compile(r"default_saved=1"))
    assert page.locator(".default-sender .default-address").inner_text() == f"boekhouding@{domain}"
    assert f"boekhouding@{domain}" in page.locator(".flash.success").inner_text()
    web.shot(page, "settings-email-default-domain-nl")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    web.shot(page, "settings-email-default-domain-phone-nl")
    web.in_language(page, "en")
    web.shot(page, "settings-email-default-domain-phone-en")

    # A domain that is not the business's is refused, said in the caller's language.
    refused = httpx.patch(f"{service.base}/v1/tenant", headers={**headers, "Accept-Language": "nl"},
                          json={"default_method": "domain", "default_from": "info@elders.test"})
    assert refused.status_code == 422 and refused.json()["code"] == "domain.unknown"
    assert refused.json()["title"] == "Dit domein is niet van jou; voeg het eerst toe"
    httpx.patch(f"{service.base}/v1/tenant", headers=headers, json={"default_method": None})


def test_the_error_summary_names_the_server_and_a_connected_address_is_caught_before_testing(
        service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    _account(service, mail_lab, lab_user, PASSWORD)
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    page.locator("#f-email").fill(lab_user)
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="Send a test mail to myself").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    # Focus moves to the summary (the form was swapped whole; the old target is detached).
    page.locator(".error-summary:focus").wait_for(timeout=3000)
    items = summary.locator("li").all_inner_texts()
    assert items[0].startswith("This address is connected already"), items  # in the page's order
    assert "Outgoing server (SMTP): Enter the server name." in items, items
    assert "Incoming server (IMAP): Enter the server name." in items, items
    assert len(items) == len(set(items))  # no line twice
    assert any("connected already" in item for item in items), items
    assert page.locator("#test-result .stages").count() == 0  # no test mail went out
    web.shot(page, "mailbox-errors-en")
    # The same in Dutch (the summary is the answer to a POST: the form is sent again).
    web.in_language(page, "nl")
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    page.locator("#f-email").fill(lab_user)
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="Stuur een testmail naar mezelf").click()
    page.locator(".error-summary").wait_for()
    assert len(page.locator(".error-summary li").all_inner_texts()) == len(items)
    web.shot(page, "mailbox-errors-nl")


def test_times_in_the_users_time_zone(service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    """A Dutch user sees CET, not UTC: from the link's time zone, else the tenant's."""
    from datetime import UTC, datetime, timedelta

    import httpx

    headers = {"Authorization": f"Bearer {service.api_key}"}
    account = _account(service, mail_lab, lab_user, PASSWORD)
    send_at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=8, minute=30, second=0, microsecond=0)
    queued = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "account": account, "to": ["user2@example.test"], "subject": "Factuur 2026-0101", "text": "x",
        "send_at": send_at.isoformat()})
    assert queued.status_code == 202, queued.text

    def link(**extra: str) -> str:
        made = httpx.post(f"{service.base}/v1/ui-sessions", headers=headers,
                          json={"user_name": "Anna", "language": "nl", **extra})
        assert made.status_code == 201, made.text
        return str(made.json()["url"])

    page.goto(link(time_zone="Europe/Amsterdam"))
    page.goto(f"{service.base}/ui/outbox/{queued.json()['id']}")
    scheduled = page.locator("dt", has_text="Gepland voor").locator("xpath=following-sibling::dd[1]").inner_text()
    assert "09:30" in scheduled and "CET" in scheduled, scheduled  # 08:30 UTC in December
    assert "UTC" not in page.locator("dl.facts").inner_text()

    assert httpx.post(f"{service.base}/v1/ui-sessions", headers=headers, json={
        "user_name": "Anna", "time_zone": "Europe/Nowhere"}).status_code == 422
    assert httpx.patch(f"{service.base}/v1/tenant", headers=headers,
                       json={"time_zone": "Europe/Rome"}).status_code == 200
    page.goto(link())  # no time zone in the link: the tenant's
    page.goto(f"{service.base}/ui/outbox/{queued.json()['id']}")
    assert "CET" in page.locator("dl.facts").inner_text()
    httpx.patch(f"{service.base}/v1/tenant", headers=headers, json={"time_zone": None})


def test_a_typo_in_the_domain_gets_a_suggestion(service: Service, page: Any, dns_lab: Any) -> None:
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    _find(page, "bakkerij.jansen@gmial.com", "not-found")
    proposal = page.locator("#proposal")
    assert "Did you mean gmail.com?" in proposal.inner_text()
    web.shot(page, "mailbox-did-you-mean-en")
    web.in_language(page, "nl")
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    _find(page, "bakkerij.jansen@gmial.com", "not-found")
    assert "gmail.com" in page.locator("#proposal").inner_text()
    web.shot(page, "mailbox-did-you-mean-nl")
    web.in_language(page, "en")
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    _find(page, "bakkerij.jansen@gmial.com", "not-found")
    page.get_by_role("button", name="Use bakkerij.jansen@gmail.com").click()
    page.locator("#proposal .proposal.found").wait_for()
    assert page.locator("#f-email").input_value() == "bakkerij.jansen@gmail.com"
    assert "Gmail" in page.locator("#proposal").inner_text()

    # A domain that does not exist at all (the lab DNS answers NXDOMAIN) says so.
    _find(page, "info@bakkerij-jansen-nergens.test", "not-found")
    assert "does not exist" in page.locator("#proposal").inner_text()


def test_only_allowed_security_and_the_imap_port_as_smtp_port_is_named(
        service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    from mailport.diagnosis_text import explain_code

    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email/mailbox/new")
    options = page.locator("#f-smtp_security option").evaluate_all("els => els.map(e => e.value)")
    assert options == ["tls", "starttls"]  # this installation forbids passwords in the clear
    web.fill_mailbox(page, mail_lab, lab_user, PASSWORD)
    page.locator("#f-smtp_port").fill(str(mail_lab.imaps_port))  # the IMAP port, typed as SMTP port
    page.locator("#f-smtp_security").select_option("tls")
    page.get_by_role("button", name="Send a test mail to myself").click()
    page.locator("#test-result .outcome.bad").wait_for(timeout=60_000)
    text = page.locator("#test-result").inner_text()
    assert explain_code("net.wrong_service", "en").title in text, text
    assert "could not recognise" not in text
    # The steps that worked say so; only those after the failure are skipped.
    classes = page.locator(".stages .stage").evaluate_all("els => els.map(e => e.className)")
    failed_at = next(i for i, c in enumerate(classes) if "stage-failed" in c)
    assert failed_at > 0 and all("stage-ok" in c for c in classes[:failed_at]), classes
    assert all("stage-skipped" in c for c in classes[failed_at + 1:]), classes


def test_outbox_tab_scheduled_cancel_and_replies_linked_both_ways(
        service: Service, page: Any, mail_lab: Any, lab_user: str) -> None:
    from datetime import UTC, datetime, timedelta
    from email.message import EmailMessage

    import httpx

    headers = {"Authorization": f"Bearer {service.api_key}"}
    account = _account(service, mail_lab, lab_user, PASSWORD)
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    scheduled = httpx.post(f"{service.base}/v1/messages", headers=headers, json={
        "account": account, "to": ["user2@example.test"], "subject": "Herinnering 2026-0200", "text": "x",
        "send_at": later}).json()
    sent_id = _send(service, account, "Factuur 2026-0201")
    header_id = httpx.get(f"{service.base}/v1/messages/{sent_id}", headers=headers).json()["message_id_header"]
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "user2@example.test", lab_user, "Re: Factuur 2026-0201"
    reply["In-Reply-To"] = header_id
    reply.set_content("Betaald, dank je.")
    mail_lab.inject(reply, mail_from="user2@example.test", rcpt_to=[lab_user])
    assert mail_lab.wait_for_message(lab_user, headers={"Subject": "Re: Factuur 2026-0201"}, timeout=10)
    synced = httpx.post(f"{service.base}/v1/inbox/accounts/{account}/sync", headers=headers, timeout=30)
    assert synced.status_code == 200, synced.text

    page.goto(service.link(language="nl"))
    page.locator("nav.tabs").get_by_role("link", name="Postvak UIT").click()  # not "Verzonden"
    row = page.locator("tbody tr", has_text="Herinnering 2026-0200")
    assert "Gepland voor" in row.inner_text()  # its send time, not only "queued"
    row.get_by_role("link", name="Herinnering 2026-0200").click()
    page.get_by_role("button", name="Versturen annuleren").click()
    page.wait_for_url(re.compile(r"done=cancelled"))
    assert httpx.get(f"{service.base}/v1/messages/{scheduled['id']}", headers=headers).json()["state"] == "cancelled"

    page.goto(f"{service.base}/ui/outbox/{sent_id}")
    replies = page.locator(".linked-mail li")
    assert replies.count() == 1 and "Re: Factuur 2026-0201" in replies.inner_text()
    web.shot(page, "outbox-message-replies-nl")
    web.in_language(page, "en")
    assert page.locator(".linked-mail li").count() == 1
    web.shot(page, "outbox-message-replies-en")
    web.in_language(page, "nl")
    replies.get_by_role("link").click()
    page.get_by_role("heading", name="Re: Factuur 2026-0201", level=1).wait_for()  # visible
    assert page.locator("a.sent-link").get_attribute("href") == f"/ui/outbox/{sent_id}"


def test_the_spf_suggestion_keeps_the_businesss_other_senders(service: Service, page: Any, dns_lab: Any) -> None:
    import secrets

    domain = f"bakkerij{secrets.token_hex(2)}.test"
    page.goto(service.link(language="en"))
    page.goto(service.base + "/ui/settings/email?method=domain")
    page.get_by_label("Your domain name").fill(domain)
    page.get_by_role("button", name="Add domain").click()
    page.get_by_role("heading", name=domain, level=1).wait_for()  # visible
    dns_lab.load_zone(f'$ORIGIN {domain}.\n$TTL 60\n@ NS ns1.{domain}.\nns1 A 127.0.0.1\n'
                      '@ TXT "v=spf1 include:_spf.google.com ~all"\n')
    page.get_by_role("button", name="Check and activate").click()
    page.locator("#check-result .verdicts").wait_for()
    page.reload()
    spf = page.locator(".dns-record").nth(3)
    assert spf.locator("code.record").nth(1).inner_text() == "v=spf1 include:_spf.google.com mx ~all"
    assert "v=spf1 include:_spf.google.com ~all" in spf.locator(".spf-merge").inner_text()
    web.shot(page, "domain-spf-merge-en")
    web.in_language(page, "nl")
    merge = page.locator(".dns-record").nth(3).locator(".spf-merge")
    assert "v=spf1 include:_spf.google.com ~all" in merge.inner_text()
    web.shot(page, "domain-spf-merge-nl")


def test_the_dutch_reply_address_confirmation_page_is_styled_and_says_je(service: Service, page: Any) -> None:
    """The page behind the link in the confirmation mail looks like the other pages (their
    stylesheet, header and panel; no CSP error, which the page fixture would report) and speaks
    Dutch with "je" (issue 16 item 10)."""
    import secrets
    from email import message_from_bytes
    from email.policy import default as default_policy

    import httpx

    api = httpx.Client(base_url=service.base, headers={"Authorization": f"Bearer {service.api_key}",
                                                        "Accept-Language": "nl"})
    tenant = service.runtime.tenants.authenticate(service.api_key)
    email = f"info{secrets.token_hex(3)}@bakkerij-jansen.test"
    assert api.patch("/v1/platform/sender", json={"display_name": "Bakkerij Jansen"}).status_code == 200
    requested = api.post("/v1/platform/reply-to", json={"email": email})
    assert requested.status_code == 202, requested.text
    latest = next(c for c in api.get("/v1/platform/captured").json() if email in c["rcpt_to"])
    mail = message_from_bytes(api.get(f"/v1/platform/captured/{latest['id']}").content, policy=default_policy)
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(re.escape(service.base) + r"/\S+", body).group(0)  # type: ignore[union-attr]
    page.set_extra_http_headers({"Accept-Language": "nl-NL,nl;q=0.9"})
    page.goto(link)
    page.locator("section.panel h1", has_text="Antwoordadres bevestigen").wait_for()
    styled = page.evaluate("""() => ({
        sheet: document.styleSheets.length && document.styleSheets[0].cssRules.length,
        button: getComputedStyle(document.querySelector('button.button.primary')).backgroundColor,
        header: !!document.querySelector('header.site-header .product')})""")
    assert styled["sheet"] and styled["header"], styled
    assert styled["button"] not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)", "rgb(240, 240, 240)"), styled
    text = page.locator("body").inner_text()
    assert "Klopt dat?" in text and not re.search(r"\b(?:U|Uw|uw)\b", text), text
    web.shot(page, "reply-address-confirm-nl")
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.reload()
    page.locator("section.panel h1", has_text="Confirm the reply address").wait_for()
    web.shot(page, "reply-address-confirm-en")
    page.set_extra_http_headers({"Accept-Language": "nl-NL,nl;q=0.9"})
    page.reload()
    page.get_by_role("button", name="Bevestigen").click()
    page.locator("section.panel h1", has_text="Antwoordadres bevestigd").wait_for()
    done = page.locator("body").inner_text()
    assert "Je kunt deze pagina sluiten" in done and not re.search(r"\b(?:U|Uw|uw)\b", done), done
    assert service.runtime.platform.sender(tenant).reply_to == email
