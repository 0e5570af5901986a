"""The own domain as the tenant's default sending method (issue 16, item 2): ``PATCH /v1/tenant``
takes ``default_method: domain`` with a ``default_from`` address at a domain whose DNS records
passed, refuses one that did not (a problem titled in the caller's language), and
``POST /v1/messages`` that names no sender goes out From that address, DKIM-signed by the domain."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import dkim
import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY
from integration.domain_fixtures import DOMAIN, dkim_dnsfunc, domain_runtime, zone
from lab import DnsLab
from mailport.api.app import create_app
from mailport.errors import ValidationError
from mailport.runtime import Runtime

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def client(tmp_path: Path, dns_lab: DnsLab, database_url: str) -> Iterator[tuple[TestClient, Runtime]]:
    runtime = domain_runtime(tmp_path, dns_lab, database_url, platform_smtp_url="capture",
                             domain_check_min_interval=0.0)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        yield api, runtime


def _tenant(api: TestClient, name: str = "Bakkerij Jansen") -> dict[str, str]:
    key = api.post("/v1/tenants", json={"name": name}, headers=ADMIN).json()["api_key"]
    return {"Authorization": f"Bearer {key}"}


def test_the_own_domain_as_default_sender(client: tuple[TestClient, Runtime], dns_lab: DnsLab) -> None:
    from integration.outbox_helpers import run_worker_until

    api, runtime = client
    auth = _tenant(api)
    domain = api.post("/v1/domains", json={"name": DOMAIN}, headers=auth).json()
    wanted = {"default_method": "domain", "default_from": f"facturen@{DOMAIN}"}

    # Not verified yet: refused, with a title in the caller's language, and nothing changes.
    pending = api.patch("/v1/tenant", json=wanted, headers={**auth, "Accept-Language": "nl"})
    assert pending.status_code == 422, pending.text
    problem = pending.json()
    assert problem["code"] == "domain.not_verified" and problem["field"] == "default_from"
    assert problem["title"] == "Dit domein is nog niet door de DNS-controle gekomen"
    assert "pending" in problem["detail"]  # the English message, naming the state
    english = api.patch("/v1/tenant", json=wanted, headers=auth).json()
    assert english["title"].startswith(f"{DOMAIN} has not passed its DNS check")
    unknown = api.patch("/v1/tenant", json={**wanted, "default_from": "facturen@elsewhere.test"},
                        headers={**auth, "Accept-Language": "de"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "domain.unknown"
    assert unknown.json()["title"] == "Diese Domain gehört nicht zu Ihnen; fügen Sie sie zuerst hinzu"
    assert api.patch("/v1/tenant", json={"default_method": "domain"}, headers=auth).status_code == 422
    assert api.get("/v1/tenant", headers=auth).json()["default_method"] is None

    # The records published and checked: accepted, and shown by GET.
    dns_lab.load_zone(zone(domain["records"]))
    assert api.post(f"/v1/domains/{domain['id']}/check", headers=auth).json()["state"] == "active"
    chosen = api.patch("/v1/tenant", json={**wanted, "default_from": f"Facturen@{DOMAIN.upper()}"}, headers=auth)
    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["default_method"], chosen.json()["default_from"]) == ("domain", f"Facturen@{DOMAIN}")
    tenant = api.get("/v1/tenant", headers=auth).json()
    assert (tenant["default_method"], tenant["default_from"], tenant["default_account"]) == (
        "domain", f"Facturen@{DOMAIN}", None)

    # A message that names neither account nor method goes From that address, signed by the domain.
    accepted = api.post("/v1/messages", headers=auth, json={
        "to": ["klant@example.org"], "subject": "Factuur 2026-0100", "text": "Beste klant,"})
    assert accepted.status_code == 202, accepted.text
    message = accepted.json()
    assert message["from"] == f"Facturen@{DOMAIN}" and message["account_id"] == domain["id"]
    tenant_id = runtime.tenants.authenticate(auth["Authorization"][7:])
    asyncio.run(run_worker_until(runtime, lambda: runtime.outbox.get(tenant_id, message["id"]).state == "sent"))
    captured = api.get("/v1/platform/captured", headers=auth).json()
    assert captured[0]["mail_from"].endswith(f"@mp-bounces.{DOMAIN}")
    raw = api.get(f"/v1/platform/captured/{captured[0]['id']}", headers=auth).content
    sent = message_from_bytes(raw, policy=default_policy)
    assert sent["From"].addresses[0].addr_spec == f"Facturen@{DOMAIN}"
    assert f"d={DOMAIN}" in sent["DKIM-Signature"] and dkim.verify(raw, dnsfunc=dkim_dnsfunc(dns_lab)) is True

    # Another method clears the address; the domain removed clears the default.
    assert api.patch("/v1/tenant", json={"default_method": "platform"}, headers=auth).json()["default_from"] is None
    api.patch("/v1/tenant", json=wanted, headers=auth)
    assert api.delete(f"/v1/domains/{domain['id']}", headers=auth).status_code == 204
    gone = api.get("/v1/tenant", headers=auth).json()
    assert (gone["default_method"], gone["default_from"]) == (None, None)


async def test_service_accepts_only_a_verified_domain_of_the_tenant(client: tuple[TestClient, Runtime],
                                                                    dns_lab: DnsLab) -> None:
    _api, rt = client
    tenant = rt.tenants.create(name="Shop").tenant.id
    other = rt.tenants.create(name="Other").tenant.id
    view = await rt.domains.add(tenant, DOMAIN)
    with pytest.raises(ValidationError) as pending:
        rt.tenants.update_settings(tenant, {"default_method": "domain", "default_from": f"info@{DOMAIN}"})
    assert pending.value.code == "domain.not_verified" and pending.value.state == "pending"
    dns_lab.load_zone(zone(view.to_dict()["records"]))
    assert (await rt.domains.check(tenant, view.id)).domain.state == "active"
    # Another tenant's verified domain is not this tenant's.
    with pytest.raises(ValidationError) as foreign:
        rt.tenants.update_settings(other, {"default_method": "domain", "default_from": f"info@{DOMAIN}"})
    assert foreign.value.code == "domain.unknown"
    with pytest.raises(ValidationError):
        rt.tenants.update_settings(tenant, {"default_method": "domain", "default_from": "not an address"})
    saved = rt.tenants.update_settings(tenant, {"default_method": "domain", "default_from": f"info@{DOMAIN}"})
    assert (saved.default_method, saved.default_from) == ("domain", f"info@{DOMAIN}")
    # Changing only the time zone keeps the default; choosing a mailbox method drops the address.
    assert rt.tenants.update_settings(tenant, {"time_zone": "Europe/Amsterdam"}).default_from == f"info@{DOMAIN}"
    assert rt.tenants.update_settings(tenant, {"default_method": None}).default_from is None
