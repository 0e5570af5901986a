"""Own domains against a real DNS server on loopback: each zone state gives the right verdict per
record (with its text in the user's language), and the domain walks pending → active → degraded →
suspended on re-checks with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from domain_fixtures import DOMAIN, PLATFORM, domain_runtime, zone
from sqlalchemy import select

from lab import DnsLab
from mailport.adapters.dkim import generate_key
from mailport.adapters.storage.tables import Job
from mailport.adapters.storage.tables_outbox import Event
from mailport.clock import FrozenClock
from mailport.runtime import Runtime
from mailport.services.domains import DOMAIN_CHECK_JOB, CheckRateLimited, DomainNotSendable


@pytest.fixture
def rt(tmp_path: Path, dns_lab: DnsLab, database_url: str) -> Iterator[Runtime]:
    runtime = domain_runtime(tmp_path, dns_lab, database_url)
    yield runtime
    runtime.close()


def _tenant(rt: Runtime) -> str:
    return rt.tenants.create(name="Shop B.V.", display_name="Shop").tenant.id


def _clock(rt: Runtime) -> FrozenClock:
    assert isinstance(rt.clock, FrozenClock)
    return rt.clock


async def _added(rt: Runtime, dns_lab: DnsLab, **zone_args: Any) -> tuple[str, Any, list[dict[str, Any]]]:
    tenant = _tenant(rt)
    view = await rt.domains.add(tenant, DOMAIN)
    records = view.to_dict()["records"]
    dns_lab.load_zone(zone(records, **zone_args))
    return tenant, view, records


async def test_add_returns_key_selector_and_exact_records(rt: Runtime) -> None:
    tenant = _tenant(rt)
    view = await rt.domains.add(tenant, "Shop.TEST")
    data = view.to_dict()
    assert data["state"] == "pending" and data["sending"] is False and data["selector"].startswith("mp-")
    dkim, rp, dmarc, spf = data["records"]
    assert dkim["name"] == f"{data['selector']}._domainkey.shop.test" and dkim["type"] == "TXT"
    assert dkim["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # RSA-2048 SubjectPublicKeyInfo
    assert len(dkim["value"]) > 400 and all(len(s) <= 255 for s in dkim["strings"])
    assert (rp["name"], rp["type"], rp["value"]) == ("mp-bounces.shop.test", "CNAME", "bounces.platform.test")
    assert (dmarc["name"], dmarc["value"]) == ("_dmarc.shop.test", "v=DMARC1; p=none")
    assert spf["required"] is False
    # The private key is encrypted at rest: the secrets row holds no PEM, and the domain row no key.
    with rt.db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT owner_kind, ciphertext FROM secrets").all()
    assert [r[0] for r in rows] == ["domain"] and "PRIVATE KEY" not in rows[0][1]
    with pytest.raises(Exception, match="already added"):
        await rt.domains.add(tenant, "shop.test.")


SCENARIOS: dict[str, tuple[str, dict[str, str]]] = {
    "all correct": ("passed", {"dkim": "dns.record_found", "return_path": "dns.record_found",
                               "dmarc": "dns.record_found", "spf": "dns.record_found"}),
    "DKIM missing": ("failed", {"dkim": "dns.dkim_missing"}),
    "DKIM wrong key": ("failed", {"dkim": "dns.dkim_wrong_key"}),
    "CNAME missing": ("failed", {"return_path": "dns.return_path_missing"}),
    "two SPF records": ("passed", {"spf": "dns.spf_duplicate"}),
    "SPF with 11 lookups": ("passed", {"spf": "dns.spf_too_many_lookups"}),
    "DMARC missing": ("failed", {"dmarc": "dns.dmarc_missing"}),
}

OTHER_KEY = generate_key().public_der_b64  # a real RSA-2048 key, just not this domain's


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_zone_states_give_the_right_verdict(rt: Runtime, dns_lab: DnsLab, scenario: str) -> None:
    tenant, view, records = await _added(rt, dns_lab)
    by_kind = {r["kind"]: r for r in records}
    if scenario == "DKIM missing":
        dns_lab.remove(by_kind["dkim"]["name"], "TXT")
    elif scenario == "DKIM wrong key":
        dns_lab.add(by_kind["dkim"]["name"], "TXT", f'"v=DKIM1; k=rsa; p={OTHER_KEY[:200]}" "{OTHER_KEY[200:]}"')
    elif scenario == "CNAME missing":
        dns_lab.remove(by_kind["return_path"]["name"], "CNAME")
    elif scenario == "two SPF records":
        dns_lab.load_zone(f'$ORIGIN {DOMAIN}.\n@ TXT "v=spf1 mx -all"\n@ TXT "v=spf1 include:_spf.{PLATFORM} ~all"\n')
    elif scenario == "SPF with 11 lookups":
        includes = " ".join(f"include:s{i}.{DOMAIN}" for i in range(11))
        subzones = "\n".join(f's{i} TXT "v=spf1 ip4:192.0.2.{i} -all"' for i in range(11))
        dns_lab.load_zone(f'$ORIGIN {DOMAIN}.\n@ TXT "v=spf1 {includes} -all"\n{subzones}\n')
    elif scenario == "DMARC missing":
        dns_lab.remove(by_kind["dmarc"]["name"], "TXT")

    report = await rt.domains.check(tenant, view.id)
    outcome, expected = SCENARIOS[scenario]
    assert report.outcome.value == outcome
    assert report.source == "authoritative"
    codes = {v.kind.value: v.code for v in report.verdicts}
    for kind, code in expected.items():
        assert codes[kind] == code, (scenario, codes)
    others = {k for k in codes if k not in expected}
    assert all(codes[k] == "dns.record_found" for k in others), codes
    assert report.domain.state == ("active" if outcome == "passed" else "pending")

    # Every verdict comes with a title and a fix in the user's language.
    failing = next((kind for kind, code in expected.items() if code != "dns.record_found"), None)
    if failing is not None:
        english = {v["kind"]: v for v in report.to_dict("en")["verdicts"]}[failing]
        dutch = {v["kind"]: v for v in report.to_dict("nl")["verdicts"]}[failing]
        assert english["title"] and english["fix"] and english["status"] == "fail"
        assert dutch["fix"] != english["fix"] and dutch["title"] != english["title"]
        assert english["name"] in dutch["fix"] or english["name"] in dutch["title"]


async def test_lifecycle_degraded_then_suspended_and_mail_stops(rt: Runtime, dns_lab: DnsLab) -> None:
    clock = _clock(rt)
    tenant, view, records = await _added(rt, dns_lab)
    hook, _secret = rt.webhooks.create(tenant, url="https://127.0.0.1:59999/hooks",
                                       event_types=["domain.state_changed"])
    with pytest.raises(DomainNotSendable, match="pending"):
        rt.domains.sending_for(tenant, DOMAIN)

    report = await rt.domains.check(tenant, view.id)
    assert (report.previous, report.domain.state) == ("pending", "active")
    sending = rt.domains.sending_for(tenant, DOMAIN)
    assert not isinstance(sending, str) and sending.signer.domain == DOMAIN
    assert sending.envelope_from("msg_1") == "bounces+msg_1@mp-bounces.shop.test"

    # The DKIM record disappears; the daily re-check (a job) finds it: degraded, still sending.
    dns_lab.remove(records[0]["name"], "TXT")
    clock.advance(timedelta(days=1))
    assert await _run_due_check_jobs(rt) == 1
    current = rt.domains.get(tenant, view.id)
    assert current.state == "degraded" and current.degraded_since == clock.now()
    assert not isinstance(rt.domains.sending_for(tenant, DOMAIN), str)  # within the grace period
    failing = [v for v in current.last_check["verdicts"] if v["status"] == "fail"]  # type: ignore[index]
    assert [v["code"] for v in failing] == ["dns.dkim_missing"]

    # Re-checked on the ramp (5 min, then hourly); at the end of the 72 h grace: suspended.
    clock.advance(timedelta(minutes=5))
    assert await _run_due_check_jobs(rt) == 1 and rt.domains.get(tenant, view.id).state == "degraded"
    clock.advance(timedelta(hours=72))
    await _run_due_check_jobs(rt)
    assert rt.domains.get(tenant, view.id).state == "suspended"
    with pytest.raises(DomainNotSendable, match="suspended") as refused:
        rt.domains.sending_for(tenant, DOMAIN)
    assert refused.value.code == "domain.not_active"

    # The tenant prefers the platform address meanwhile.
    rt.domains.set_fallback(tenant, view.id, "platform")
    assert rt.domains.sending_for(tenant, DOMAIN) == "platform"

    # Each change was an event (and so a webhook): pending→active→degraded→suspended.
    with rt.db.session() as s:
        events = s.scalars(select(Event).where(Event.type == "domain.state_changed").order_by(Event.seq)).all()
        changes = [(e.data["previous"], e.data["state"]) for e in events]
        assert events[-1].data["failing_records"] == ["dkim"]
    assert changes == [("pending", "active"), ("active", "degraded"), ("degraded", "suspended")]
    deliveries = rt.webhooks.deliveries(tenant, hook.id)
    assert sorted(d.event_type for d in deliveries) == ["domain.state_changed"] * 3

    # DNS fixed, "check and activate": active again.
    dns_lab.load_zone(zone(records))
    clock.advance(timedelta(minutes=1))
    assert (await rt.domains.check(tenant, view.id)).domain.state == "active"


async def _run_due_check_jobs(rt: Runtime) -> int:
    """Claim and run the due ``domain_check`` jobs the way the worker does."""
    jobs = rt.queue.claim(worker_id="t", now=rt.clock.now(), lease=timedelta(minutes=1), limit=50,
                          kinds=[DOMAIN_CHECK_JOB])
    ran = 0
    for job in jobs:
        before = rt.domains.get(job.tenant_id or "", job.payload["domain_id"]).last_checked_at
        await rt.domains.handle_check_job(job)
        rt.queue.complete(job_id=job.id, worker_id="t", now=rt.clock.now())
        ran += rt.domains.get(job.tenant_id or "", job.payload["domain_id"]).last_checked_at != before
    return ran


async def test_manual_checks_are_rate_limited_and_superseded_jobs_do_nothing(rt: Runtime, dns_lab: DnsLab) -> None:
    clock = _clock(rt)
    tenant, view, _records = await _added(rt, dns_lab, spf=None)
    await rt.domains.check(tenant, view.id)
    with pytest.raises(CheckRateLimited) as limited:
        await rt.domains.check(tenant, view.id)
    assert limited.value.retry_after == 30
    clock.advance(timedelta(seconds=31))
    assert (await rt.domains.check(tenant, view.id)).domain.state == "active"
    # The job scheduled at add time (+5 min) was superseded by the checks: it checks nothing.
    clock.advance(timedelta(minutes=10))
    checked_at = rt.domains.get(tenant, view.id).last_checked_at
    assert await _run_due_check_jobs(rt) == 0
    assert rt.domains.get(tenant, view.id).last_checked_at == checked_at
    with rt.db.session() as s:
        assert s.scalar(select(Job.id).where(Job.kind == DOMAIN_CHECK_JOB, Job.state == "ready")) is not None


async def test_checks_ask_the_authoritative_servers_not_a_stale_resolver(
    tmp_path: Path, dns_lab: DnsLab
) -> None:
    """The configured resolver (a second lab server) still serves yesterday's zone without the
    records; the NS records point to the authoritative lab server, which has them."""
    stale = DnsLab().start()
    try:
        rt = domain_runtime(tmp_path, dns_lab, dns_nameservers=[stale.nameserver])
        tenant = _tenant(rt)
        view = await rt.domains.add(tenant, DOMAIN)
        records = view.to_dict()["records"]
        dns_lab.load_zone(zone(records))
        stale.load_zone(f"$ORIGIN {DOMAIN}.\n@ NS ns1.{DOMAIN}.\nns1 A 127.0.0.1\n")
        report = await rt.domains.check(tenant, view.id)
        assert report.source == "authoritative" and report.domain.state == "active"
        assert any(q.name.startswith(records[0]["name"]) for q in dns_lab.queries)

        # Authoritative server unreachable: the answer comes from the resolver, uncached.
        rt.close()
        rt2 = domain_runtime(tmp_path, dns_lab, dns_nameservers=[stale.nameserver],
                             dns_authoritative_port=_closed_udp_port())
        _clock(rt2).advance(timedelta(minutes=1))
        report = await rt2.domains.check(tenant, view.id)
        assert report.source == "resolver"
        assert report.domain.state == "degraded"  # the stale resolver has no records
        codes = {v.kind.value: v.code for v in report.verdicts}
        assert codes["dkim"] == "dns.dkim_missing"
        rt2.close()
    finally:
        stale.stop()


def _closed_udp_port() -> int:
    from lab.ports import free_udp_tcp_port

    return free_udp_tcp_port()


async def test_dns_failure_is_inconclusive_not_degrading(rt: Runtime, dns_lab: DnsLab) -> None:
    tenant, view, records = await _added(rt, dns_lab)
    await rt.domains.check(tenant, view.id)
    dns_lab.servfail(records[0]["name"])
    _clock(rt).advance(timedelta(days=1))
    report = await rt.domains.check(tenant, view.id)
    dkim = next(v for v in report.verdicts if v.kind.value == "dkim")
    assert (dkim.status.value, dkim.code, report.outcome.value) == ("unknown", "dns.lookup_failed", "inconclusive")
    assert report.domain.state == "active"
