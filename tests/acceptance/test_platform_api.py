"""The platform sender through the HTTP API with MAILPORT_PLATFORM_SMTP_URL=capture (development):
alias and display name, the reply address confirmed by the link in a captured (DKIM-signed) mail,
captured mail viewable per tenant."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit

import dkim
import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY
from integration.domain_fixtures import PLATFORM, dkim_dnsfunc, domain_runtime, quoted
from lab import DnsLab
from mailport.api.app import create_app
from mailport.runtime import Runtime

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def client(tmp_path: Path, dns_lab: DnsLab, database_url: str) -> Iterator[tuple[TestClient, Runtime]]:
    runtime = domain_runtime(tmp_path, dns_lab, database_url, platform_smtp_url="capture",
                             public_url="https://mailport.example")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        yield api, runtime


def _tenant(api: TestClient, name: str) -> dict[str, str]:
    key = api.post("/v1/tenants", json={"name": name}, headers=ADMIN).json()["api_key"]
    return {"Authorization": f"Bearer {key}"}


def test_sender_and_confirmed_reply_address(client: tuple[TestClient, Runtime], dns_lab: DnsLab) -> None:
    api, runtime = client
    auth = _tenant(api, "Bakkerij Jansen B.V.")
    sender = api.get("/v1/platform/sender", headers=auth).json()
    assert sender == {"alias": "bakkerij-jansen-b-v", "address": f"bakkerij-jansen-b-v@{PLATFORM}",
                      "display_name": "Bakkerij Jansen B.V.", "reply_to": None, "reply_to_pending": None}
    changed = api.patch("/v1/platform/sender", json={"alias": "jansen", "display_name": "Bakker Jansen"}, headers=auth)
    assert changed.status_code == 200 and changed.json()["address"] == f"jansen@{PLATFORM}"
    other = _tenant(api, "Other")
    taken = api.patch("/v1/platform/sender", json={"alias": "Jansen"}, headers=other)
    assert taken.status_code == 409 and taken.json()["code"] == "platform.alias_taken"
    assert api.patch("/v1/platform/sender", json={"alias": "postmaster"}, headers=other).status_code == 422
    injected = api.patch("/v1/platform/sender", json={"display_name": "x\r\nBcc: a@b.c"}, headers=other)
    assert injected.status_code == 422

    requested = api.post("/v1/platform/reply-to", json={"email": "info@jansen.example"},
                         headers={**auth, "Accept-Language": "fr"})
    assert requested.status_code == 202 and requested.json()["reply_to_pending"] == "info@jansen.example"
    again = api.post("/v1/platform/reply-to", json={"email": "someone@else.example"}, headers=auth)
    assert again.status_code == 429 and again.json()["code"] == "platform.reply_to_rate_limited"
    assert int(again.headers["Retry-After"]) == 60

    captured = api.get("/v1/platform/captured", headers=auth).json()
    assert [c["rcpt_to"] for c in captured] == [["info@jansen.example"]]
    assert api.get("/v1/platform/captured", headers=other).json() == []
    raw_response = api.get(f"/v1/platform/captured/{captured[0]['id']}", headers=auth)
    assert raw_response.headers["content-type"].startswith("message/rfc822")
    assert api.get(f"/v1/platform/captured/{captured[0]['id']}", headers=other).status_code == 404
    raw = raw_response.content
    msg = message_from_bytes(raw, policy=default_policy)
    assert "Confirmez" in str(msg["Subject"]) and captured[0]["mail_from"].endswith("@bounces.platform.test")
    # From a name the staff knows (the business's own, or the host product's), never "mailport".
    assert msg["From"].addresses[0].display_name == "Bakker Jansen", msg["From"]  # its sender name
    record = runtime.platform.platform_dkim_record()
    dns_lab.load_zone(f"$ORIGIN {PLATFORM}.\n{record.name}. TXT {quoted(record.strings)}\n")
    assert dkim.verify(raw, dnsfunc=dkim_dnsfunc(dns_lab)) is True

    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https://mailport\.example/\S+", body).group(0)  # type: ignore[union-attr]
    parts = urlsplit(link)
    assert api.post(parts.path, json={"token": "x" * 20}).status_code == 422
    token = parts.query.removeprefix("token=")
    confirmed = api.post(parts.path, json={"token": token})  # no API key: the token is the proof
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["reply_to"] == "info@jansen.example"
    assert api.get("/v1/platform/sender", headers=auth).json()["reply_to"] == "info@jansen.example"


def test_capture_is_off_with_a_smarthost(tmp_path: Path, dns_lab: DnsLab) -> None:
    runtime = domain_runtime(tmp_path, dns_lab, platform_smtp_url="smtps://u:p@127.0.0.1:1")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        auth = _tenant(api, "T")
        response = api.get("/v1/platform/captured", headers=auth)
        assert response.status_code == 404 and response.json()["code"] == "platform.capture_off"
        assert "p@" not in response.text


def test_messages_by_the_platform_method_are_captured_signed(client: tuple[TestClient, Runtime],
                                                             dns_lab: DnsLab) -> None:
    import asyncio

    from integration.outbox_helpers import run_worker_until

    api, runtime = client
    auth = _tenant(api, "Bakkerij Jansen")
    accepted = api.post("/v1/messages", headers=auth, json={
        "method": "platform", "to": ["klant@example.org"], "subject": "Factuur 2026-0042",
        "text": "Beste klant,\n\nIn de bijlage de factuur.", "metadata": {"invoice_id": "2026-0042"}})
    assert accepted.status_code == 202, accepted.text
    message = accepted.json()
    assert message["account_id"] == "platform" and message["from"].endswith(f"@{PLATFORM}")
    refused = api.post("/v1/messages", headers=auth, json={
        "method": "domain", "from": "info@unknown.test", "to": ["k@example.org"], "subject": "s", "text": "t"})
    assert refused.status_code == 422 and refused.json()["code"] == "domain.unknown"

    asyncio.run(run_worker_until(runtime, lambda: runtime.outbox.get(
        runtime.tenants.authenticate(auth["Authorization"][7:]), message["id"]).state == "sent"))
    captured = api.get("/v1/platform/captured", headers=auth).json()
    assert len(captured) == 1 and captured[0]["mail_from"] == f"bounces+{message['id']}@bounces.platform.test"
    raw = api.get(f"/v1/platform/captured/{captured[0]['id']}", headers=auth).content
    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["From"] == f"Bakkerij Jansen <bakkerij-jansen@{PLATFORM}>" and msg["Reply-To"] is None
    record = runtime.platform.platform_dkim_record()
    dns_lab.load_zone(f"$ORIGIN {PLATFORM}.\n{record.name}. TXT {quoted(record.strings)}\n")
    assert dkim.verify(raw, dnsfunc=dkim_dnsfunc(dns_lab)) is True


def test_confirmation_link_opened_in_a_browser_shows_a_page(client: tuple[TestClient, Runtime]) -> None:
    api, _runtime = client
    auth = _tenant(api, "Bakker <Jansen> & Zn")
    api.post("/v1/platform/reply-to", json={"email": "info@jansen.example"}, headers=auth)
    captured = api.get("/v1/platform/captured", headers=auth).json()
    raw = api.get(f"/v1/platform/captured/{captured[0]['id']}", headers=auth).content
    body = message_from_bytes(raw, policy=default_policy).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    parts = urlsplit(re.search(r"https://mailport\.example/\S+", body).group(0))  # type: ignore[union-attr]
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "nl-BE,nl;q=0.9"}

    ask = api.get(f"{parts.path}?{parts.query}", headers=browser)
    assert ask.status_code == 200 and "Antwoordadres bevestigen" in ask.text
    page = api.post(parts.path, data={"token": parts.query.removeprefix("token=")}, headers=browser)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Antwoordadres bevestigd" in page.text and "info@jansen.example" in page.text
    assert "Bakker &lt;Jansen&gt; &amp; Zn" in page.text and "<Jansen>" not in page.text  # escaped
    assert "default-src 'none'" in page.headers["content-security-policy"]
    again = api.get(f"{parts.path}?{parts.query}", headers=browser)
    assert again.status_code == 400 and "werkt niet" in again.text
    assert api.get("/v1/platform/sender", headers=auth).json()["reply_to"] == "info@jansen.example"


def test_mail_mailport_sends_on_its_own_carries_the_host_products_name(tmp_path: Path, dns_lab: DnsLab) -> None:
    """MAILPORT_PRODUCT_NAME (issue 16 item 5): the reply-address confirmation comes from the host
    product the staff knows, never from "mailport"."""
    runtime = domain_runtime(tmp_path, dns_lab, platform_smtp_url="capture", public_url="https://mailport.example",
                             product_name="Factuurly")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        auth = _tenant(api, "Bakkerij Jansen")
        assert api.post("/v1/platform/reply-to", json={"email": "info@jansen.example"}, headers=auth).status_code == 202
        [captured] = api.get("/v1/platform/captured", headers=auth).json()
        msg = message_from_bytes(api.get(f"/v1/platform/captured/{captured['id']}", headers=auth).content,
                                 policy=default_policy)
    assert msg["From"].addresses[0].display_name == "Factuurly", msg["From"]
    assert "mailport" not in str(msg["From"]).lower()
