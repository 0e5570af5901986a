"""Own domains through the HTTP API (SQLite and PostgreSQL): add → the records with exact names
and values, "check and activate" against a real DNS server on loopback with verdicts in the
caller's language, rate limit with Retry-After, fallback choice, tenant isolation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY
from integration.domain_fixtures import DOMAIN, domain_runtime, zone
from lab import DnsLab
from mailport.api.app import create_app
from mailport.clock import FrozenClock

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def client(tmp_path: Path, dns_lab: DnsLab, database_url: str) -> Iterator[tuple[TestClient, FrozenClock]]:
    runtime = domain_runtime(tmp_path, dns_lab, database_url)
    assert isinstance(runtime.clock, FrozenClock)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        yield api, runtime.clock


def _tenant(api: TestClient, name: str = "Shop") -> dict[str, str]:
    key = api.post("/v1/tenants", json={"name": name}, headers=ADMIN).json()["api_key"]
    return {"Authorization": f"Bearer {key}"}


def test_add_check_activate(client: tuple[TestClient, FrozenClock], dns_lab: DnsLab) -> None:
    api, clock = client
    auth = _tenant(api)
    created = api.post("/v1/domains", json={"name": "Shop.test"}, headers=auth)
    assert created.status_code == 201, created.text
    domain = created.json()
    assert (domain["name"], domain["state"], domain["sending"]) == (DOMAIN, "pending", False)
    kinds = {r["kind"]: r for r in domain["records"]}
    assert kinds["dkim"]["name"] == f"{domain['selector']}._domainkey.{DOMAIN}"
    assert kinds["dkim"]["value"].startswith("v=DKIM1; k=rsa; p=") and len(kinds["dkim"]["strings"]) == 2
    assert (kinds["return_path"]["name"], kinds["return_path"]["value"]) == ("mp-bounces.shop.test",
                                                                             "bounces.platform.test")
    assert kinds["dmarc"]["value"] == "v=DMARC1; p=none" and kinds["spf"]["required"] is False
    assert "PRIVATE" not in created.text
    records = api.get(f"/v1/domains/{domain['id']}/records", headers=auth).json()
    assert records == domain["records"]

    # Nothing published yet: every required record missing, explained in Dutch.
    check = api.post(f"/v1/domains/{domain['id']}/check", headers={**auth, "Accept-Language": "nl-NL"})
    assert check.status_code == 200, check.text
    report = check.json()
    assert report["outcome"] == "failed" and report["state"] == "pending"
    verdicts = {v["kind"]: v for v in report["verdicts"]}
    assert verdicts["dkim"]["code"] == "dns.dkim_missing" and "TXT-record" in verdicts["dkim"]["fix"]
    assert verdicts["return_path"]["code"] == "dns.return_path_missing"

    again = api.post(f"/v1/domains/{domain['id']}/check", headers=auth)
    assert again.status_code == 429 and again.json()["code"] == "domain.check_rate_limited"
    assert again.headers["Retry-After"] == "30" and again.json()["retry_after"] == 30

    dns_lab.load_zone(zone(domain["records"]))
    clock.advance(timedelta(seconds=30))
    report = api.post(f"/v1/domains/{domain['id']}/check?lang=de", headers=auth).json()
    assert (report["outcome"], report["previous_state"], report["state"], report["source"]) == (
        "passed", "pending", "active", "authoritative")
    assert {v["status"] for v in report["verdicts"]} == {"pass"}
    assert report["verdicts"][0]["title"].endswith("gefunden und korrekt")
    shown = api.get(f"/v1/domains/{domain['id']}", headers=auth).json()
    assert shown["sending"] is True and shown["last_check"]["outcome"] == "passed"

    patched = api.patch(f"/v1/domains/{domain['id']}", json={"fallback": "platform"}, headers=auth)
    assert patched.status_code == 200 and patched.json()["fallback"] == "platform"
    assert api.patch(f"/v1/domains/{domain['id']}", json={"fallback": "maybe"}, headers=auth).status_code == 422


def test_bad_names_duplicates_and_isolation(client: tuple[TestClient, FrozenClock]) -> None:
    api, _ = client
    a, b = _tenant(api, "A"), _tenant(api, "B")
    for bad in ("localhost", "192.0.2.1", "no spaces.test", "a@b.test"):
        response = api.post("/v1/domains", json={"name": bad}, headers=a)
        assert response.status_code == 422 and response.json()["field"] == "name", bad
    platform = api.post("/v1/domains", json={"name": "mail.platform.test"}, headers=a)
    assert platform.status_code == 422
    created = api.post("/v1/domains", json={"name": DOMAIN}, headers=a).json()
    dup = api.post("/v1/domains", json={"name": DOMAIN.upper()}, headers=a)
    assert dup.status_code == 409 and dup.json()["code"] == "domain.exists"
    assert api.post("/v1/domains", json={"name": DOMAIN}, headers=b).status_code == 201  # another tenant's
    assert api.get(f"/v1/domains/{created['id']}", headers=b).status_code == 404
    assert api.post(f"/v1/domains/{created['id']}/check", headers=b).status_code == 404
    assert [d["id"] for d in api.get("/v1/domains", headers=a).json()] == [created["id"]]
    assert api.delete(f"/v1/domains/{created['id']}", headers=b).status_code == 404
    assert api.delete(f"/v1/domains/{created['id']}", headers=a).status_code == 204
    assert api.get("/v1/domains", headers=a).json() == []
    assert api.get("/v1/domains").status_code == 401


