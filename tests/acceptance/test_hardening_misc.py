"""Issue 17 items 3, 4, 6 and 8: alias codes cannot be brute-forced, production refuses weak
settings, platform display names cannot pass for an address, the SQLite files are private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY
from integration.domain_fixtures import domain_runtime
from lab import DnsLab
from mailport.api.app import create_app
from mailport.clock import FrozenClock
from mailport.errors import ConfigurationError
from mailport.runtime import Runtime
from mailport.settings import load_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _settings(tmp_path: Path, **overrides: object) -> object:
    values: dict[str, object] = {"env": "test", "data_dir": tmp_path / "var", "admin_key": ADMIN_KEY,
                                 "secret_key": "t1:" + "A" * 43 + "="}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime, FrozenClock, dict[str, str]]]:
    clock = FrozenClock()
    runtime = Runtime(settings=_settings(tmp_path), clock=clock)  # type: ignore[arg-type]
    runtime.db.migrate()
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        key = api.post("/v1/tenants", json={"name": "Alias BV"}, headers=ADMIN).json()["api_key"]
        yield api, runtime, clock, {"Authorization": f"Bearer {key}"}
    runtime.close()


def _account_with_alias(api: TestClient, runtime: Runtime, auth: dict[str, str]) -> tuple[str, str]:
    account = api.post("/v1/accounts", headers=auth, json={
        "email": "info@jansen.example", "password": "pw-123456",
        "smtp": {"host": "smtp.jansen.example", "port": 465, "security": "tls"}}).json()
    tenant_id = runtime.tenants.authenticate(auth["Authorization"][7:])
    code = runtime.accounts.request_alias(tenant_id, account["id"], "boss@jansen.example")
    return account["id"], code


# -- item 3 ------------------------------------------------------------------------------------


def test_alias_code_is_void_after_five_wrong_attempts(clocked: tuple[TestClient, Runtime, FrozenClock,
                                                                     dict[str, str]]) -> None:
    api, runtime, _clock, auth = clocked
    account_id, code = _account_with_alias(api, runtime, auth)
    wrong = [f"{n:06d}" for n in range(1000) if f"{n:06d}" != code][:5]
    answers = [api.post(f"/v1/accounts/{account_id}/aliases/confirm", headers=auth,
                        json={"email": "boss@jansen.example", "code": guess}).json()["code"] for guess in wrong]
    assert answers == ["alias.code_wrong"] * 4 + ["alias.code_void"]
    right = api.post(f"/v1/accounts/{account_id}/aliases/confirm", headers=auth,
                     json={"email": "boss@jansen.example", "code": code})
    assert right.status_code == 422 and right.json()["code"] == "alias.code_void"
    account = api.get(f"/v1/accounts/{account_id}", headers=auth).json()
    assert account["aliases"] == [{"email": "boss@jansen.example", "verified": False}]
    sent = api.post("/v1/messages", headers=auth, json={
        "account": account_id, "from": "boss@jansen.example", "to": ["k@example.org"], "subject": "s", "text": "t"})
    assert sent.status_code == 422 and sent.json()["code"] == "send.sender_not_allowed"


def test_alias_code_expires_after_an_hour(clocked: tuple[TestClient, Runtime, FrozenClock, dict[str, str]]) -> None:
    api, runtime, clock, auth = clocked
    account_id, code = _account_with_alias(api, runtime, auth)
    clock.advance(timedelta(hours=1, seconds=1))
    late = api.post(f"/v1/accounts/{account_id}/aliases/confirm", headers=auth,
                    json={"email": "boss@jansen.example", "code": code})
    assert late.status_code == 422 and late.json()["code"] == "alias.code_expired"
    account_id2, code2 = account_id, runtime.accounts.request_alias(
        runtime.tenants.authenticate(auth["Authorization"][7:]), account_id, "boss@jansen.example")
    clock.advance(timedelta(minutes=59))
    ok = api.post(f"/v1/accounts/{account_id2}/aliases/confirm", headers=auth,
                  json={"email": "boss@jansen.example", "code": code2})
    assert ok.status_code == 200 and ok.json()["aliases"][0]["verified"] is True


# -- item 4 ------------------------------------------------------------------------------------

_PROD = {"env": "production", "secret_key": "k1:" + "B" * 43, "public_url": "https://mail.example.com",
         "admin_key": "mpa_Q3v9xK2pL7mN4rT8wY1zA6bC5dE0fGhJ"}


@pytest.mark.parametrize(("change", "needle"), [
    ({"admin_key": "x"}, "MAILPORT_ADMIN_KEY must be at least 32"),
    ({"admin_key": "x" * 40}, "MAILPORT_ADMIN_KEY must be at least 32"),
    ({"public_url": "http://mail.example.com"}, "MAILPORT_PUBLIC_URL must be https://"),
    ({"public_url": ""}, "MAILPORT_PUBLIC_URL must be set"),
    ({"metrics_token": "short"}, "MAILPORT_METRICS_TOKEN must be at least 32"),
])
def test_production_refuses_weak_settings(tmp_path: Path, change: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(data_dir=tmp_path, **{**_PROD, **change})
    assert needle in str(info.value)


def test_production_accepts_strong_settings_and_http_only_behind_a_tls_proxy(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path, **_PROD).is_production
    behind = load_settings(data_dir=tmp_path, **{**_PROD, "public_url": "http://mail.internal",
                                                 "behind_tls_proxy": True})
    assert behind.public_url == "http://mail.internal"


def test_mailport_serve_with_a_one_character_operator_key_does_not_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_ENV="production", MAILPORT_DATA_DIR=str(tmp_path), MAILPORT_ADMIN_KEY="x",
               MAILPORT_SECRET_KEY="k1:" + "B" * 43, MAILPORT_PUBLIC_URL="http://mail.example.com")
    result = subprocess.run([sys.executable, "-m", "mailport.cli", "serve"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "MAILPORT_ADMIN_KEY must be at least 32" in result.stderr and "https://" in result.stderr
    assert "Traceback" not in result.stderr


# -- item 6 ------------------------------------------------------------------------------------


@pytest.fixture
def platform(tmp_path: Path, dns_lab: DnsLab) -> Iterator[tuple[TestClient, dict[str, str]]]:
    runtime = domain_runtime(tmp_path, dns_lab, None, platform_smtp_url="capture",
                             public_url="https://mailport.example")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        key = api.post("/v1/tenants", json={"name": "Acme"}, headers=ADMIN).json()["api_key"]
        yield api, {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("name", ["PayPal <service@paypal.com>", "security@paypal.com", "paypal.com",
                                  "PayPal \uff1cservice\uff20paypal\uff0ecom\uff1e", "Service pay\u200bpal.co.uk"])
def test_platform_display_name_cannot_pass_for_an_address(platform: tuple[TestClient, dict[str, str]],
                                                         name: str) -> None:
    api, auth = platform
    patched = api.patch("/v1/platform/sender", json={"display_name": name}, headers=auth)
    assert patched.status_code == 422 and patched.json()["code"] == "platform.display_name_spoofing"
    sent = api.post("/v1/messages", headers=auth, json={
        "method": "platform", "from": {"email": "ignored@x.example", "name": name},
        "to": ["k@example.org"], "subject": "Invoice", "text": "t"})
    assert sent.status_code == 422, sent.text
    assert api.get("/v1/platform/captured", headers=auth).json() == []


def test_ordinary_business_names_are_fine(platform: tuple[TestClient, dict[str, str]]) -> None:
    api, auth = platform
    for name in ("Bakkerij Jansen & Zn. B.V.", "Dr. Müller Praxis", "Café 't Hoekje", "Apple Tree Bakery",
                 "Ing. P. de Vries Advies", "Amazone Reisen", "Amelia's Bloemen"):
        assert api.patch("/v1/platform/sender", json={"display_name": name}, headers=auth).status_code == 200


@pytest.mark.parametrize("name", ["PayPal", "Microsoft Security", "Apple Support", "Pay Pal Service",
                                  "Micr\u043esoft", "Belastingdienst"])
def test_platform_display_name_cannot_pass_for_a_brand(platform: tuple[TestClient, dict[str, str]],
                                                       name: str) -> None:
    api, auth = platform
    patched = api.patch("/v1/platform/sender", json={"display_name": name},
                        headers={**auth, "Accept-Language": "nl"})
    assert patched.status_code == 422 and patched.json()["code"] == "platform.display_name_brand"
    assert patched.json()["field"] == "display_name"
    assert patched.json()["title"] == ("De afzendernaam mag niet die van een bekend bedrijf of een "
                                       "overheidsinstantie zijn")
    sent = api.post("/v1/messages", headers=auth, json={
        "method": "platform", "from": {"email": "ignored@x.example", "name": name},
        "to": ["k@example.org"], "subject": "Invoice", "text": "t"})
    assert sent.status_code == 422 and sent.json()["code"] == "platform.display_name_brand", sent.text
    assert api.get("/v1/platform/captured", headers=auth).json() == []


def test_a_tenants_own_registered_name_may_contain_a_common_brand_word(
        platform: tuple[TestClient, dict[str, str]]) -> None:
    api, _ = platform
    key = api.post("/v1/tenants", json={"name": "Orange Bikes B.V."}, headers=ADMIN).json()["api_key"]
    orange = {"Authorization": f"Bearer {key}"}
    for name in ("Orange Bikes Service", "Orange Bikes"):
        assert api.patch("/v1/platform/sender", json={"display_name": name}, headers=orange).status_code == 200
    # ... while another tenant may not send as "Orange Service", and nobody as PayPal.
    _, acme = platform
    refused = api.patch("/v1/platform/sender", json={"display_name": "Orange Service"}, headers=acme)
    assert refused.status_code == 422 and refused.json()["code"] == "platform.display_name_brand"
    assert api.patch("/v1/platform/sender", json={"display_name": "Orange Bikes PayPal"},
                     headers=orange).status_code == 422


# -- item 8 ------------------------------------------------------------------------------------


def test_sqlite_database_and_wal_are_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    runtime = Runtime(settings=_settings(tmp_path, data_dir=data))  # type: ignore[arg-type]
    runtime.db.migrate()
    runtime.tenants.create(name="Private")  # a write, so the WAL exists
    try:
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        files = [p for p in data.iterdir() if p.name.startswith("mailport.db")]
        assert {p.name for p in files} >= {"mailport.db", "mailport.db-wal"}
        for path in files + [data / "secret.key", data / "admin.key"]:
            if path.exists() and not path.name.endswith(".lock"):
                assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path.name, oct(path.stat().st_mode))
    finally:
        runtime.close()


def test_an_older_world_readable_installation_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "mailport.db").touch()
    (data / "mailport.db").chmod(0o644)
    runtime = Runtime(settings=_settings(tmp_path, data_dir=data))  # type: ignore[arg-type]
    runtime.db.migrate()
    try:
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "mailport.db").stat().st_mode) == 0o600
    finally:
        runtime.close()


def test_the_web_page_explains_a_refused_look_alike_name(platform: tuple[TestClient, dict[str, str]]) -> None:
    import re
    from datetime import UTC, datetime

    api, auth = platform
    # The domain fixtures freeze time in the past; a browser drops a cookie that expired then.
    api.app.state.runtime.clock = FrozenClock(datetime.now(UTC))  # type: ignore[attr-defined]
    browser = TestClient(api.app, base_url="https://mailport.example")
    link = api.post("/v1/ui-sessions", json={"user_name": "Anna", "language": "en"}, headers=auth).json()["url"]
    assert browser.get(link.removeprefix("https://mailport.example"), follow_redirects=False).status_code == 303
    page = browser.get("/ui/settings/email?method=platform")
    assert page.status_code == 200, (page.status_code, browser.cookies)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = browser.post("/ui/settings/email/platform", data={"csrf": csrf, "display_name": "service@paypal.com"})
    assert answer.status_code == 200 and "may not look like an e-mail or web address" in answer.text
    assert api.get("/v1/platform/sender", headers=auth).json()["display_name"] != "service@paypal.com"
    # What was typed stays in the field beside the error (a refusal costs no retyping), escaped.
    assert 'value="service@paypal.com" maxlength="200"' in answer.text and 'aria-invalid="true"' in answer.text
    answer = browser.post("/ui/settings/email/platform", data={"csrf": csrf, "display_name": "PayPal Service"})
    assert "well-known company" in answer.text and 'value="PayPal Service"' in answer.text
    typed = '"><script>alert(1)</script>'
    answer = browser.post("/ui/settings/email/platform", data={"csrf": csrf, "display_name": typed})
    assert answer.status_code == 200 and 'role="alert"' in answer.text
    assert "<script>alert(1)" not in answer.text and "&#34;&gt;&lt;script&gt;" in answer.text
