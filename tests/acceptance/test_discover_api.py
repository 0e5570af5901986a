"""Discovery through the API and the CLI, and connecting a mailbox from just its address."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.api.app import create_app


@pytest.fixture
def client(tmp_path: Path, dns_lab: Any) -> Iterator[TestClient]:
    runtime = make_runtime(tmp_path, dns_nameservers=[dns_lab.nameserver], discovery_probe=False,
                           discovery_deadline=3.0, ispdb_url="http://127.0.0.1:9/v1.1/")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        key = c.post("/v1/tenants", json={"name": "T"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()
        c.headers["Authorization"] = f"Bearer {key['api_key']}"
        yield c


def test_discover_endpoint_shape(client: TestClient) -> None:
    data = client.get("/v1/discover", params={"email": "Jan@GMAIL.com"}).json()
    assert set(data) >= {"email", "provider", "imap", "smtp", "source", "auth", "hints", "trace"}
    assert data["provider"]["id"] == "gmail" and data["source"] == "catalog"
    assert data["smtp"] == {"host": "smtp.gmail.com", "port": 465, "security": "tls", "username": "Jan@gmail.com"}
    assert "oauth2:google" in data["auth"]


def test_discover_requires_a_tenant_key(client: TestClient) -> None:
    resp = client.get("/v1/discover", params={"email": "a@gmail.com"}, headers={"Authorization": "Bearer x"})
    assert resp.status_code == 401


def test_discover_bad_address_is_a_clear_error(client: TestClient) -> None:
    resp = client.get("/v1/discover", params={"email": "no-at-sign"})
    assert resp.status_code == 422 and resp.json()["code"] == "request.invalid_address"


def test_connect_from_just_the_address(client: TestClient) -> None:
    created = client.post("/v1/accounts", json={"email": "facturen@gmail.com", "password": "app-pass-1234"})
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["provider_id"] == "gmail"
    assert account["smtp"]["host"] == "smtp.gmail.com" and account["imap"]["host"] == "imap.gmail.com"


def test_connect_from_address_with_nothing_published_asks_for_settings(client: TestClient) -> None:
    resp = client.post("/v1/accounts", json={"email": "info@nothing-here.test", "password": "pw-123456"})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "discovery.not_found" and body["field"] == "smtp"
    assert body["discovery"]["smtp"] is None and body["discovery"]["trace"]
    assert client.get("/v1/accounts").json() == []


def test_cli_discover_exit_status(tmp_path: Path, dns_lab: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update(MAILPORT_DATA_DIR=str(tmp_path), MAILPORT_DNS_NAMESERVERS=dns_lab.nameserver,
               MAILPORT_ISPDB_URL="http://127.0.0.1:9/v1.1/", MAILPORT_DISCOVERY_DEADLINE="3")
    found = subprocess.run([sys.executable, "-m", "mailport.cli", "discover", "--json", "x@icloud.com"],
                           check=False, env=env, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["imap"]["host"] == "imap.mail.me.com"
    missing = subprocess.run([sys.executable, "-m", "mailport.cli", "discover", "--json", "--no-probe",
                              "x@nothing-here.test"], check=False, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    data = json.loads(missing.stdout)
    assert data["imap"] is None and data["smtp"] is None


def test_cli_and_api_suggest_the_domain_a_typo_meant(dns_lab: Any, tmp_path: Path) -> None:
    """``mailport discover`` and the API say "Did you mean gmail.com?" and that the typed
    domain does not exist (issue 16 item 8)."""
    env = {**os.environ, "MAILPORT_DNS_NAMESERVERS": dns_lab.nameserver, "MAILPORT_DATA_DIR": str(tmp_path),
           "MAILPORT_ISPDB_URL": "http://127.0.0.1:9/", "MAILPORT_DNS_TIMEOUT": "1"}
    result = subprocess.run([sys.executable, "-m", "mailport.cli", "discover", "jan@gmial.com", "--no-probe",
                             "--json"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stderr  # not found…
    data = json.loads(result.stdout)
    assert data["suggestion"] == "gmail.com" and data["domain_exists"] is False  # …but explained
    assert [h["code"] for h in data["hints"]][:2] == ["discovery.did_you_mean", "discovery.domain_unknown"]
    human = subprocess.run([sys.executable, "-m", "mailport.cli", "discover", "jan@gmial.com", "--no-probe"],
                           env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60, check=False)
    assert "Did you mean gmail.com?" in human.stdout


def test_discover_hints_follow_accept_language(client: Any) -> None:
    """Like the diagnoses, the hints come in the caller's language (issue 16 item 10)."""
    from mailport.core.discovery import NOT_FOUND
    from mailport.i18n import gettext

    answers = {lang: client.get("/v1/discover", params={"email": "info@bakkerij-nergens.test", "probe": "false"},
                                headers={"Accept-Language": lang}).json() for lang in ("en", "nl")}
    texts = {lang: next(h["text"] for h in a["hints"] if h["code"] == "discovery.not_found")
             for lang, a in answers.items()}
    assert texts["en"] == NOT_FOUND.text and texts["nl"] == gettext("nl", NOT_FOUND.text) != NOT_FOUND.text


def test_typo_hints_in_the_callers_language(client: Any, tmp_path: Path, dns_lab: Any) -> None:
    """"Did you mean gmail.com?" and "this domain does not exist" in nl, de, it and fr — in the
    API and in ``mailport discover --lang`` (issue 16 item 10)."""
    expected = {"en": ("Did you mean gmail.com?", "The domain gmial.com does not exist"),
                "nl": ("Bedoel je gmail.com?", "Het domein gmial.com bestaat niet"),
                "de": ("Meinten Sie gmail.com?", "Die Domain gmial.com gibt es nicht"),
                "it": ("Intendevi gmail.com?", "Il dominio gmial.com non esiste"),
                "fr": ("Vouliez-vous dire gmail.com ?", "Le domaine gmial.com n'existe pas")}
    for lang, (suggestion, unknown) in expected.items():
        data = client.get("/v1/discover", params={"email": "jan@gmial.com", "probe": "false"},
                          headers={"Accept-Language": f"{lang}-XX, en;q=0.5"}).json()
        texts = {h["code"]: h["text"] for h in data["hints"]}
        assert texts["discovery.did_you_mean"] == suggestion, (lang, texts)
        assert texts["discovery.domain_unknown"].startswith(unknown), (lang, texts)
    env = {**os.environ, "MAILPORT_DNS_NAMESERVERS": dns_lab.nameserver, "MAILPORT_DATA_DIR": str(tmp_path / "cli"),
           "MAILPORT_ISPDB_URL": "http://127.0.0.1:9/", "MAILPORT_DNS_TIMEOUT": "1", "COLUMNS": "200"}
    human = subprocess.run([sys.executable, "-m", "mailport.cli", "discover", "jan@gmial.com", "--no-probe",
                            "--lang", "nl"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "Bedoel je gmail.com?" in human.stdout and "Het domein gmial.com bestaat niet" in human.stdout


def test_problem_titles_follow_accept_language(client: Any) -> None:
    """A problem's title is in the caller's language, like the pages (issue 16 item 10): the
    code's own title, a mail server's diagnosis title, the status's title for a plain 404 — and
    the English message stays in ``detail``."""
    bad = {lang: client.get("/v1/discover", params={"email": "no-at-sign"}, headers={"Accept-Language": lang})
           for lang in ("en", "nl", "de", "it", "fr", "da")}
    titles = {lang: r.json()["title"] for lang, r in bad.items()}
    assert all(r.status_code == 422 and r.json()["code"] == "request.invalid_address" for r in bad.values())
    assert titles["nl"] == "Het e-mailadres is niet geldig"
    assert titles["de"] == "Die E-Mail-Adresse ist ungültig"
    assert titles["it"] == "L'indirizzo email non è valido"
    assert titles["fr"] == "L'adresse e-mail n'est pas valide"
    assert titles["da"] == titles["en"] and bad["nl"].json()["detail"] == titles["en"]  # English kept, once
    # A request that does not fit the schema, an unknown id, a missing key.
    invalid = client.post("/v1/accounts", json={"email": 5}, headers={"Accept-Language": "de"}).json()
    assert invalid["code"] == "request.invalid" and invalid["title"] == "Die Anfrage ist ungültig"
    missing = client.get("/v1/accounts/acc_nothing", headers={"Accept-Language": "it"}).json()
    assert missing["title"] in ("Questa casella di posta non esiste", "Non trovato"), missing
    unauthenticated = client.get("/v1/accounts", headers={"Authorization": "", "Accept-Language": "fr"})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["title"] == "Une clé d'API est nécessaire"
    # ?lang= wins over the header, as on the pages.
    assert client.get("/v1/discover", params={"email": "x", "lang": "nl"},
                      headers={"Accept-Language": "de"}).json()["title"] == "Het e-mailadres is niet geldig"
