"""Entering the web pages and what protects them, through HTTP (no browser needed).

The signed link from ``POST /v1/ui-sessions``, the session cookie, CSRF on every form, expiry,
the security headers, and that no page ever carries inline script.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.adapters.storage.session_repository import MemorySessionStore
from mailport.api.app import create_app
from mailport.clock import FrozenClock
from mailport.errors import Unauthenticated, ValidationError
from mailport.services.ui_sessions import UiSessionService, validate_return_url

RETURN = "https://app.example-invoicing.test/settings"


@pytest.fixture
def clock() -> FrozenClock:
    # Real time: the cookie's Expires attribute must lie in the future for the client to keep it.
    return FrozenClock(datetime.now(UTC))


def _client(tmp_path: Path, clock: FrozenClock, **settings: Any) -> Iterator[TestClient]:
    runtime = make_runtime(tmp_path, **settings)
    runtime.clock = clock
    with TestClient(create_app(runtime), raise_server_exceptions=False, base_url="http://127.0.0.1:8400") as c:
        c.headers["Authorization"] = "Bearer " + c.post(
            "/v1/tenants", json={"name": "Bakkerij"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()["api_key"]
        yield c


@pytest.fixture
def client(tmp_path: Path, clock: FrozenClock) -> Iterator[TestClient]:
    yield from _client(tmp_path, clock)


def _link(client: TestClient, **body: Any) -> str:
    resp = client.post("/v1/ui-sessions", json={"user_name": "Anna", "language": "nl", "return_url": RETURN, **body})
    assert resp.status_code == 201, resp.text
    url: str = resp.json()["url"]
    return url.removeprefix("http://127.0.0.1:8400")


def _enter(client: TestClient, **body: Any) -> None:
    resp = client.get(_link(client, **body), follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/settings/email", resp.text


def _csrf(client: TestClient, path: str = "/ui/settings/email/mailbox/new") -> str:
    html = client.get(path).text
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


# -- the link ------------------------------------------------------------------------------------


def test_link_needs_the_tenant_key_and_a_safe_return_url(client: TestClient) -> None:
    assert client.post("/v1/ui-sessions", json={"user_name": "Anna"}, headers={"Authorization": ""}).status_code == 401
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.test/", "https://user:pw@evil.test/",
                "ftp://files.test/", "https://a.test/\r\nSet-Cookie: x"):
        resp = client.post("/v1/ui-sessions", json={"user_name": "Anna", "return_url": bad})
        assert resp.status_code == 422, (bad, resp.text)
    assert client.post("/v1/ui-sessions", json={"user_name": "  "}).status_code == 422
    assert client.post("/v1/ui-sessions", json={"user_name": "Anna\x00"}).status_code == 422


def test_link_sets_a_protected_cookie_and_leaves_the_address_bar(client: TestClient) -> None:
    resp = client.get(_link(client), follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/settings/email"
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    page = client.get("/ui/settings/email")
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    assert "Hoe wil je versturen?" in page.text and "Anna" in page.text and RETURN in page.text


def test_cookie_is_secure_when_the_public_url_is_https(tmp_path: Path, clock: FrozenClock) -> None:
    for client in _client(tmp_path, clock, public_url="https://mail.example.test"):
        link = client.post("/v1/ui-sessions", json={"user_name": "Anna"}).json()["url"]
        assert link.startswith("https://mail.example.test/ui/enter?token=")
        resp = client.get(link.removeprefix("https://mail.example.test"), follow_redirects=False)
        assert "Secure" in resp.headers["set-cookie"]


def test_links_and_sessions_expire(client: TestClient, clock: FrozenClock) -> None:
    link = _link(client)
    clock.advance(timedelta(minutes=6))
    resp = client.get(link, follow_redirects=False)
    assert resp.status_code == 401 and "set-cookie" not in resp.headers
    assert "Your session has ended" in resp.text or "sessie" in resp.text

    _enter(client)
    assert client.get("/ui/settings/email").status_code == 200
    clock.advance(timedelta(minutes=480))
    resp = client.get("/ui/settings/email", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert resp.status_code == 401 and "Ihre Sitzung ist abgelaufen" in resp.text


def test_tampered_or_swapped_tokens_are_refused(client: TestClient) -> None:
    link = _link(client)
    token = link.split("token=", 1)[1]
    body, mac = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    assert client.get(f"/ui/enter?token={forged}", follow_redirects=False).status_code == 401
    # A link is not a session cookie (nor the other way round): each token names its purpose.
    client.cookies.set("mailport_ui", token, path="/ui")
    assert client.get("/ui/settings/email").status_code == 401
    assert client.get("/ui/settings/email/mailbox/new").status_code == 401


def test_tokens_from_another_installation_are_refused(clock: FrozenClock) -> None:
    ours = UiSessionService(secret_key="a:" + "A" * 43, clock=clock, session_ttl=timedelta(hours=1),
                            store=MemorySessionStore())
    theirs = UiSessionService(secret_key="b:" + "B" * 43, clock=clock, session_ttl=timedelta(hours=1),
                              store=MemorySessionStore())
    link = theirs.issue_link(tenant_id="ten_x", user_name="Mallory", language="en", return_url=None)
    with pytest.raises(Unauthenticated):
        ours.open_link(link.token)
    session = ours.open_link(ours.issue_link(tenant_id="ten_x", user_name="Anna", language="xx-YY",
                                             return_url=None).token)
    assert session.lang == "en" and session.user_name == "Anna"
    assert ours.read_session(ours.session_token(session)) == session
    with pytest.raises(ValidationError):
        validate_return_url("javascript:alert(1)")


# -- CSRF and headers --------------------------------------------------------------------------------


def test_every_form_needs_the_csrf_token(client: TestClient) -> None:
    _enter(client)
    form = {"email": "info@bakkerij.test", "password": "x", "smtp_host": "smtp.bakkerij.test",
            "smtp_port": "465", "smtp_security": "tls"}
    for path in ("/ui/settings/email/mailbox/save", "/ui/settings/email/mailbox/test",
                 "/ui/settings/email/mailbox/discover", "/ui/language"):
        resp = client.post(path, data=form, follow_redirects=False)
        assert resp.status_code == 403, (path, resp.status_code)
        resp = client.post(path, data={**form, "csrf": "wrong"}, follow_redirects=False)
        assert resp.status_code == 403, path
        # Said in the session's language (nl), not the browser's: the session is known.
        assert '<html lang="nl">' in resp.text, path
    # With the token (as htmx sends it, in a header) the same save goes through.
    token = _csrf(client)
    resp = client.post("/ui/settings/email/mailbox/save", data=form, headers={"X-CSRF-Token": token},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    accounts = client.get("/v1/accounts").json()
    assert [a["email"] for a in accounts] == ["info@bakkerij.test"]


def test_security_headers_and_no_inline_script(client: TestClient) -> None:
    _enter(client)
    for path in ("/ui/settings/email", "/ui/settings/email?method=gmail", "/ui/settings/email/mailbox/new",
                 "/ui/outbox"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'self'" in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "no-referrer"
        assert resp.headers["cache-control"] == "no-store"
        assert resp.headers["x-frame-options"] == "SAMEORIGIN"
        scripts = re.findall(r"<script\b[^>]*>", resp.text)
        assert scripts and all('src="/ui/static/' in s for s in scripts), scripts
        assert not re.search(r"\son[a-z]+=", resp.text), "inline event handlers are blocked by the CSP"
        assert not re.search(r"\sstyle=", resp.text)
    assert "content-security-policy" not in client.get("/v1/accounts").headers  # the API keeps its own


def test_frame_ancestors_follow_the_setting(tmp_path: Path, clock: FrozenClock) -> None:
    for client in _client(tmp_path, clock, ui_frame_ancestors="https://app.example-invoicing.test"):
        _enter(client)
        resp = client.get("/ui/settings/email")
        assert "frame-ancestors https://app.example-invoicing.test" in resp.headers["content-security-policy"]
        assert "x-frame-options" not in resp.headers  # it cannot name an origin; CSP decides


def test_language_menu_switches_the_session(client: TestClient) -> None:
    _enter(client, language="de")
    assert "Wie möchten Sie senden?" in client.get("/ui/settings/email").text
    token = _csrf(client, "/ui/settings/email")
    resp = client.post("/ui/language", data={"csrf": token, "lang": "it", "next": "//evil.test/"},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/settings/email"
    assert "Come vuoi inviare?" in client.get("/ui/settings/email").text


def test_form_errors_are_shown_beside_the_fields(client: TestClient) -> None:
    _enter(client, language="fr")
    token = _csrf(client)
    resp = client.post("/ui/settings/email/mailbox/save", data={"csrf": token, "email": "not-an-address",
                                                                "smtp_port": "99999", "smtp_security": "tls"})
    assert resp.status_code == 200
    assert "Saisissez une adresse e-mail valide" in resp.text
    assert "Saisissez un numéro de port entre 1 et 65535." in resp.text
    assert 'aria-invalid="true"' in resp.text and 'role="alert"' in resp.text
    assert "Traceback" not in resp.text
    assert client.get("/v1/accounts").json() == []


def test_other_tenants_mailboxes_are_not_reachable(client: TestClient) -> None:
    other = client.post("/v1/tenants", json={"name": "Other"},
                        headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
    created = client.post("/v1/accounts", headers={"Authorization": f"Bearer {other}"}, json={
        "email": "info@other.test", "password": "pw-0123456789",
        "smtp": {"host": "smtp.other.test", "port": 465, "security": "tls"},
    })
    assert created.status_code == 201, created.text
    _enter(client)
    account_id = created.json()["id"]
    assert client.get(f"/ui/settings/email/mailbox/{account_id}").status_code == 404
    assert client.get(f"/ui/settings/email/mailbox/{account_id}/remove").status_code == 404
    token = _csrf(client)
    client.post(f"/ui/settings/email/mailbox/{account_id}/remove", data={"csrf": token})
    assert client.get(f"/v1/accounts/{account_id}", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_errors_under_ui_are_pages_and_the_api_keeps_problem_json(client: TestClient) -> None:
    _enter(client, language="nl")
    for path in ("/ui/nope", "/ui/inbox/x/attachments/not-a-number", "/ui/settings/email/oauth/yahoo/done"):
        resp = client.get(path)
        assert resp.status_code in (404, 422) and resp.headers["content-type"].startswith("text/html"), path
        assert "Niet gevonden" in resp.text, path
    api = client.get("/v1/nope")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database on fire: secret detail")

    client.app.state.runtime.accounts.list_accounts = broken  # type: ignore[method-assign]
    resp = client.get("/ui/settings/email")
    assert resp.status_code == 500 and "Er ging iets mis" in resp.text
    assert "secret detail" not in resp.text and "Traceback" not in resp.text


def test_discovery_proposes_a_providers_settings_with_its_advice_in_the_users_language(client: TestClient) -> None:
    _enter(client, language="nl")
    token = _csrf(client)
    resp = client.post("/ui/settings/email/mailbox/discover", data={"email": "anna@gmail.com"},
                       headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert resp.status_code == 200
    assert "We hebben de instellingen voor Gmail gevonden." in resp.text or "Google" in resp.text
    assert "smtp.gmail.com" in resp.text and 'hx-swap-oob="true"' in resp.text
    assert "Google raadt aan om je aan te melden" in resp.text  # the OAuth note, translated
    assert "app-wachtwoord" in resp.text  # the provider's hint, translated


def test_a_language_without_the_whole_interface_falls_back_for_page_and_diagnoses(client: TestClient) -> None:
    """A ``da`` session got an English page with Danish diagnoses (issue 16 item 10): one
    language for both — English, until Danish has the whole interface."""
    _enter(client, language="da")
    page = client.get("/ui/settings/email")
    assert 'lang="en"' in page.text and "How do you want to send?" in page.text
    token = _csrf(client, "/ui/settings/email")
    client.post("/ui/language", data={"csrf": token, "lang": "sv", "next": "/ui/settings/email"})
    assert 'lang="en"' in client.get("/ui/settings/email").text


@pytest.mark.parametrize(("asked", "pages"), [("nl-BE", "nl"), ("de_CH", "de"), ("FR", "fr"), (None, "en"),
                                               ("da", "en"), ("nb-NO", "en"), ("sv", "en"), ("es", "en")])
def test_the_link_says_which_language_the_pages_speak(client: TestClient, asked: str | None, pages: str) -> None:
    """A host product passes its user's language as it has it; the answer says whether the pages
    speak it (da/nb/sv/es: English), so the host can tell its user (or not ask again)."""
    resp = client.post("/v1/ui-sessions", json={"user_name": "Anna", "language": asked})
    assert resp.status_code == 201 and resp.json()["language"] == pages, resp.text
    entered = client.get(resp.json()["url"].removeprefix("http://127.0.0.1:8400"))
    assert f'lang="{pages}"' in entered.text


def test_the_api_reference_names_the_pages_languages() -> None:
    reference = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    section = reference.split("### `POST /v1/ui-sessions`", 1)[1].split("### ", 1)[0]
    assert "English (`en`), Dutch (`nl`), German (`de`), Italian (`it`) and French (`fr`)" in section
    assert "Danish, Norwegian and Swedish" in section


def test_the_tiles_say_which_ways_of_sending_this_installation_lacks(client: TestClient) -> None:
    """Without a platform relay, a bounce host or OAuth apps (this test installation), those tiles
    say so before anyone clicks them — in the user's language; the own mailbox's tile does not."""
    _enter(client, language="nl")
    html = client.get("/ui/settings/email").text
    tiles = {m.group(1): m.group(0) for m in re.finditer(r'method=(\w+)#chosen".*?</a>', html, re.DOTALL)}
    assert set(tiles) == {"platform", "domain", "smtp", "gmail", "outlook"}
    lacking = {name for name, tile in tiles.items() if "Niet beschikbaar op deze installatie." in tile}
    assert lacking == {"platform", "domain", "gmail", "outlook"}, tiles


def _mailbox_form(token: str, email: str, **servers: str) -> dict[str, str]:
    return {"csrf": token, "email": email, "password": "pw-0123456789", "use_imap": "on",
            "smtp_host": "smtp.example.test", "smtp_port": "465", "smtp_security": "tls",
            "imap_host": "imap.example.test", "imap_port": "993", "imap_security": "tls", **servers}


@pytest.mark.parametrize("path", ["/ui/settings/email/mailbox/test", "/ui/settings/email/mailbox/save"])
def test_an_address_connected_already_is_said_once_at_its_field(client: TestClient, path: str) -> None:
    """Once in the summary (a link to the field) and once beside the field, like every other error;
    not a third time under "Find my settings" (an empty alert there, for other errors)."""
    created = client.post("/v1/accounts", json={
        "email": "info@bakkerij.test", "password": "pw-0123456789",
        "smtp": {"host": "smtp.example.test", "port": 465, "security": "tls"}})
    assert created.status_code == 201, created.text
    _enter(client, language="en")
    message = "This address is connected already; edit it in the list instead."
    resp = client.post(path, headers={"HX-Request": "true"},
                       data=_mailbox_form(_csrf(client), "info@bakkerij.test"))
    assert resp.status_code == 200 and resp.headers["HX-Retarget"] == "#mailbox-form"
    html = resp.text
    assert html.count(message) == 2, html
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#f-email">{message}</a>' in summary
    assert f'<p class="error" id="f-email-error">{message}</p>' in html
    assert 'aria-describedby="f-email-error' in html
    assert html.count('role="alert"') == 1  # the summary; the field's error is read through aria-describedby
    # Another error only: no empty alert anywhere.
    resp = client.post(path, headers={"HX-Request": "true"},
                       data=_mailbox_form(_csrf(client), "new@bakkerij.test", smtp_port="0"))
    assert resp.text.count('role="alert"') == 1 and "></p>" not in resp.text.split('role="alert"', 1)[1][:40]


def test_a_lookup_for_a_broken_address_says_so_once_at_the_field(client: TestClient) -> None:
    _enter(client, language="nl")
    resp = client.post("/ui/settings/email/mailbox/discover", headers={"HX-Request": "true"},
                       data={"csrf": _csrf(client), "email": "not an address"})
    assert resp.status_code == 200 and resp.headers["HX-Retarget"] == "#mailbox-form"
    message = "Vul een geldig e-mailadres in"
    assert resp.text.count(message) == 2, resp.text  # the summary's link and the field
    assert 'id="f-email-error"' in resp.text and resp.text.count('role="alert"') == 1


@pytest.mark.parametrize("host", ["localhost", "127.1", "[::1]", "10.0.0.5", "nas.local", "mailserver"])
@pytest.mark.parametrize("path", ["/ui/settings/email/mailbox/test", "/ui/settings/email/mailbox/save"])
def test_a_local_server_name_is_refused_beside_its_field(client: TestClient, path: str, host: str) -> None:
    _enter(client, language="nl")
    resp = client.post(path, headers={"HX-Request": "true"},
                       data=_mailbox_form(_csrf(client), "info@bakkerij.test", imap_host=host))
    assert resp.status_code == 200 and resp.headers["HX-Retarget"] == "#mailbox-form", resp.text
    assert '<p class="error" id="f-imap_host-error">Deze server staat in een lokaal' in resp.text, resp.text
    assert "f-smtp_host-error" not in resp.text
    assert client.get("/v1/accounts").json() == []


def test_an_operator_may_allow_local_server_names_on_the_page(tmp_path: Path, clock: FrozenClock) -> None:
    for client in _client(tmp_path, clock, allow_private_hosts=True):
        _enter(client, language="en")
        resp = client.post("/ui/settings/email/mailbox/save", follow_redirects=False,
                           data=_mailbox_form(_csrf(client), "info@bakkerij.test", smtp_host="localhost",
                                              imap_host="127.0.0.1"))
        assert resp.status_code == 303, resp.text
        assert client.get("/v1/accounts").json()[0]["smtp"]["host"] == "localhost"


@pytest.mark.parametrize("filename", ["請求書 – 2026.pdf", "Faktura č. 12.pdf", 'a".pdf; x="y\r\nX: z', None])
def test_a_received_attachment_downloads_under_its_own_name_from_the_api_and_the_page(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, filename: str | None) -> None:
    """Any name a sender chose: a name outside Latin-1 was a 500 on the API (Starlette encodes
    headers as Latin-1), and both routes replaced "–" and "č" with "_" even in filename*."""
    from urllib.parse import unquote

    from mailport.services.inbox import AttachmentData

    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def attachment(tenant_id: str, message_id: str, index: int) -> AttachmentData:
        return AttachmentData(index=index, filename=filename, content_type="text/html", data=b"<script>x</script>")

    monkeypatch.setattr(runtime.inbox, "attachment", attachment)
    api = client.get("/v1/inbox/messages/imsg_x/attachments/0")
    _enter(client)
    page = client.get("/ui/inbox/imsg_x/attachments/0")
    for resp, fallback in ((api, "attachment-0"), (page, "attachment-1")):
        assert resp.status_code == 200, resp.text
        disposition = resp.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=")
        exact = unquote(disposition.split("filename*=UTF-8''", 1)[1])
        if filename is None:
            assert exact == fallback
        elif filename.isprintable():
            assert exact == filename
        else:
            assert '"' not in exact and "\r" not in exact and "\n" not in exact
        assert resp.headers["x-content-type-options"] == "nosniff"
    assert api.headers["content-security-policy"] == "sandbox"  # never runs in our origin, even if shown
    assert page.headers["content-type"] == "application/octet-stream"
