"""Issue 17 item 5: sign-in links open once, the pages can be signed out of, the host ends its
user's sessions (``DELETE /v1/ui-sessions?user=…``) on every process, and the reply address is
confirmed by a POST from the confirmation page — never by the GET a mail scanner follows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from integration.domain_fixtures import domain_runtime
from lab import DnsLab
from mailport.api.app import create_app
from mailport.clock import FrozenClock

BASE = "http://127.0.0.1:8400"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def apps(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, TestClient, TestClient]]:
    """Two API processes over one database, and a second browser: (host+browser A, browser B,
    process 2 with its own cookie jar)."""
    clock = FrozenClock(datetime.now(UTC))  # cookies' Expires must be in the future
    one, two = make_runtime(tmp_path / "1", database_url), make_runtime(tmp_path / "2", database_url)
    one.clock = two.clock = clock
    with (TestClient(create_app(one), raise_server_exceptions=False, base_url=BASE) as a,
          TestClient(create_app(one), raise_server_exceptions=False, base_url=BASE) as b,
          TestClient(create_app(two), raise_server_exceptions=False, base_url=BASE) as c):
        key = a.post("/v1/tenants", json={"name": "Bakkerij"}, headers=ADMIN).json()["api_key"]
        for client in (a, b, c):
            client.headers["Authorization"] = f"Bearer {key}"
        yield a, b, c
    one.close()
    two.close()


def _link(client: TestClient, user: str = "Anna") -> str:
    resp = client.post("/v1/ui-sessions", json={"user_name": user, "language": "en"})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["url"]).removeprefix(BASE)


def _enter(client: TestClient, link: str) -> None:
    resp = client.get(link, follow_redirects=False)
    assert resp.status_code == 303, resp.text


def test_a_link_opens_once(apps: tuple[TestClient, TestClient, TestClient]) -> None:
    a, b, c = apps
    link = _link(a)
    _enter(a, link)
    assert a.get("/ui/settings/email").status_code == 200
    for other in (b, c):  # a second opening, in this process or another: refused, no cookie
        again = other.get(link, follow_redirects=False)
        assert again.status_code == 401 and "set-cookie" not in again.headers
        assert other.get("/ui/settings/email").status_code == 401


def test_sign_out_ends_the_session_on_every_process(apps: tuple[TestClient, TestClient, TestClient]) -> None:
    a, _b, c = apps
    _enter(a, _link(a))
    page = a.get("/ui/settings/email")
    assert 'action="/ui/sign-out"' in page.text and "Sign out" in page.text
    cookie = a.cookies.get("mailport_ui")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert a.post("/ui/sign-out", data={"csrf": "wrong"}).status_code == 403  # CSRF still applies
    out = a.post("/ui/sign-out", data={"csrf": csrf})
    assert out.status_code == 200 and "You are signed out" in out.text
    assert a.get("/ui/settings/email").status_code == 401
    c.cookies.set("mailport_ui", cookie, path="/ui")  # the old cookie, replayed elsewhere
    assert c.get("/ui/settings/email").status_code == 401


def test_host_revokes_one_users_sessions(apps: tuple[TestClient, TestClient, TestClient]) -> None:
    a, b, c = apps
    _enter(a, _link(a, "Anna"))
    _enter(b, _link(a, "Anna"))
    _enter(c, _link(a, "Bob"))
    assert a.delete("/v1/ui-sessions", params={"user": "Anna"}, headers={"Authorization": ""}).status_code == 401
    gone = c.delete("/v1/ui-sessions", params={"user": "Anna"})  # through the other process
    assert gone.status_code == 200 and gone.json() == {"revoked": 2}
    assert a.get("/ui/settings/email").status_code == 401
    assert b.get("/ui/settings/email").status_code == 401
    assert c.get("/ui/settings/email").status_code == 200  # Bob stays signed in
    assert a.delete("/v1/ui-sessions", params={"user": "Anna"}).json() == {"revoked": 0}


@pytest.fixture
def platform(tmp_path: Path, dns_lab: DnsLab) -> Iterator[TestClient]:
    runtime = domain_runtime(tmp_path, dns_lab, None, platform_smtp_url="capture",
                             public_url="https://mailport.example")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        key = api.post("/v1/tenants", json={"name": "Jansen"}, headers=ADMIN).json()["api_key"]
        api.headers["Authorization"] = f"Bearer {key}"
        yield api


def test_reply_to_is_confirmed_by_the_pages_post_not_by_opening_the_link(platform: TestClient) -> None:
    api = platform
    api.post("/v1/platform/reply-to", json={"email": "info@jansen.example"})
    captured = api.get("/v1/platform/captured").json()
    raw = api.get(f"/v1/platform/captured/{captured[0]['id']}").content
    body = message_from_bytes(raw, policy=default_policy).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = urlsplit(re.search(r"https://mailport\.example/\S+", body).group(0))  # type: ignore[union-attr]
    scanner = TestClient(api.app)  # no key, no cookies: what a link scanner is
    for accept in ("*/*", "application/json", "text/html"):
        opened = scanner.get(f"{link.path}?{link.query}", headers={"Accept": accept})
        assert opened.status_code == 200 and 'method="post"' in opened.text
    sender = api.get("/v1/platform/sender").json()
    assert sender["reply_to"] is None and sender["reply_to_pending"] == "info@jansen.example"

    token = re.search(r'name="token" value="([^"]+)"', opened.text).group(1)  # type: ignore[union-attr]
    confirmed = scanner.post("/v1/platform/reply-to/confirm?lang=en", data={"token": token})
    assert confirmed.status_code == 200 and "Reply address confirmed" in confirmed.text
    assert api.get("/v1/platform/sender").json()["reply_to"] == "info@jansen.example"
    again = scanner.post("/v1/platform/reply-to/confirm", json={"token": token})
    assert again.status_code == 422 and again.json()["code"] == "platform.reply_to_link_invalid"
