"""The discovery service over in-memory adapters: order, early stop, timeouts, deadline, trace."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import pytest

from mailport.adapters.http import HttpResponse
from mailport.adapters.probe import ProbeOutcome
from mailport.core.discovery import MxRecord, ProbeTarget, SrvRecord
from mailport.errors import AddressError, HostNotAllowed, NetworkError
from mailport.services.discover import DiscoveryService

ISPDB = "https://ispdb.example/v1.1/"


def xml(host: str, domain: str = "example.test") -> bytes:
    return f"""<clientConfig version="1.1"><emailProvider id="{domain}"><domain>{domain}</domain>
<displayName>{domain} mail</displayName>
<incomingServer type="imap"><hostname>imap.{host}</hostname><port>993</port>
<socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.{host}</hostname><port>465</port>
<socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>""".encode()


@dataclass
class FakeResolver:
    mx_records: dict[str, list[MxRecord]] = field(default_factory=dict)
    srv_records: dict[str, list[SrvRecord]] = field(default_factory=dict)
    delay: float = 0.0

    async def mx(self, domain: str) -> list[MxRecord]:
        await asyncio.sleep(self.delay)
        return self.mx_records.get(domain, [])

    async def srv(self, name: str) -> list[SrvRecord]:
        await asyncio.sleep(self.delay)
        return self.srv_records.get(name, [])

    async def txt(self, name: str) -> list[str]:
        return []

    async def cname(self, name: str) -> str | None:
        return None

    async def resolve_addresses(self, host: str) -> list[str]:
        raise NetworkError("no", code="net.host_not_found")


@dataclass
class FakeFetcher:
    docs: dict[str, bytes | BaseException | float] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    async def get(self, url: str, *, timeout: float) -> HttpResponse:
        self.calls.append(url)
        for prefix, doc in self.docs.items():
            if url.startswith(prefix):
                if isinstance(doc, float):
                    await asyncio.sleep(doc)
                    return HttpResponse(url, 404, {}, b"")
                if isinstance(doc, BaseException):
                    raise doc
                return HttpResponse(url, 200, {}, doc)
        return HttpResponse(url, 404, {}, b"")


@dataclass
class FakeProber:
    ok: set[tuple[str, int]] = field(default_factory=set)
    calls: list[ProbeTarget] = field(default_factory=list)

    async def probe(self, target: ProbeTarget, *, timeout: float) -> ProbeOutcome:
        self.calls.append(target)
        return ProbeOutcome(target, (target.host, target.port) in self.ok, "")


def service(resolver: FakeResolver, fetcher: FakeFetcher, prober: FakeProber | None = None,
            *, deadline: float = 5.0, source_timeout: float = 4.0) -> DiscoveryService:
    return DiscoveryService(resolver=resolver, fetcher=fetcher, prober=prober or FakeProber(),
                            ispdb_url=ISPDB, deadline=deadline, source_timeout=source_timeout)


def outcomes(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {t.source: t.outcome for t in result.trace}


async def test_catalog_hit_without_crosscheck_needs_no_network() -> None:
    fetcher = FakeFetcher()
    svc = DiscoveryService(resolver=FakeResolver(), fetcher=fetcher, prober=FakeProber(),
                           ispdb_url=ISPDB, deadline=5.0, crosscheck_timeout=0)
    result = await svc.discover("Jan@GMX.DE")
    assert result.source == "catalog" and result.provider is not None
    assert result.provider.id == "gmx" and result.imap is not None
    assert result.imap.username == "Jan@gmx.de"  # local part kept, domain lowered
    assert fetcher.calls == []
    assert [t.to_dict() for t in result.trace] == [{"source": "catalog", "outcome": "found", "ms": 0, "detail": "gmx"}]


async def test_catalog_hit_checked_against_the_published_config() -> None:
    # GMX publishes the catalog's servers among others: confirmed, catalog kept (auth and hints too).
    published = b"""<clientConfig version="1.1"><emailProvider id="gmx.de"><domain>gmx.de</domain>
<incomingServer type="imap"><hostname>imap.gmx.net</hostname><port>143</port><socketType>STARTTLS</socketType>
<username>%EMAILADDRESS%</username></incomingServer>
<incomingServer type="imap"><hostname>imap.gmx.net</hostname><port>993</port><socketType>SSL</socketType>
<username>%EMAILADDRESS%</username></incomingServer>
<outgoingServer type="smtp"><hostname>mail.gmx.net</hostname><port>587</port><socketType>STARTTLS</socketType>
<username>%EMAILADDRESS%</username></outgoingServer>
<outgoingServer type="smtp"><hostname>mail.gmx.net</hostname><port>465</port><socketType>SSL</socketType>
<username>%EMAILADDRESS%</username></outgoingServer></emailProvider></clientConfig>"""
    fetcher = FakeFetcher({ISPDB: published})
    result = await service(FakeResolver(), fetcher).discover("jan@gmx.de")
    assert result.source == "catalog" and result.imap is not None and result.imap.host == "imap.gmx.net"
    assert {t.source: t.outcome for t in result.trace}["catalog"] in ("found", "confirmed")
    assert any(t.source == "catalog" and t.outcome == "confirmed" for t in result.trace)
    assert result.hints and result.hints[0].code.startswith("provider.")


async def test_catalog_disagreeing_with_the_provider_is_reported_and_the_provider_wins() -> None:
    # The provider moved its IMAP host; its own autoconfig beats the stale catalog entry.
    fetcher = FakeFetcher({"https://autoconfig.gmx.de/": xml("newhost.gmx.test", "gmx.de")})
    result = await service(FakeResolver(), fetcher).discover("jan@gmx.de")
    assert result.imap is not None and result.imap.host == "imap.newhost.gmx.test"
    assert result.smtp is not None and result.smtp.host == "smtp.newhost.gmx.test"
    assert result.provider is not None and result.provider.id == "gmx"  # hints, auth: the catalog's
    disagreement = [t for t in result.trace if t.outcome == "disagrees"]
    assert len(disagreement) == 1 and disagreement[0].source == "catalog"
    assert "imap: catalog imap.gmx.net:993 tls, autoconfig imap.newhost.gmx.test:993 tls" in disagreement[0].detail


async def test_crosscheck_waits_at_most_its_timeout() -> None:
    fetcher = FakeFetcher({"https://": 3.0, "http://": 3.0})
    svc = DiscoveryService(resolver=FakeResolver(), fetcher=fetcher, prober=FakeProber(),
                           ispdb_url=ISPDB, deadline=5.0, crosscheck_timeout=0.3)
    t0 = time.monotonic()
    result = await svc.discover("jan@gmx.de")
    assert time.monotonic() - t0 < 1.0
    assert result.source == "catalog" and result.imap is not None and result.imap.host == "imap.gmx.net"
    assert {t.source: t.outcome for t in result.trace}["ispdb"] == "timeout"


async def test_closed_catalog_provider_explains() -> None:
    result = await service(FakeResolver(), FakeFetcher()).discover("a@proton.me")
    assert not result.found and result.hints[0].code == "provider.bridge_required"


async def test_https_autoconfig_wins_and_cancels_slower_lower_sources() -> None:
    fetcher = FakeFetcher({"https://autoconfig.example.test/": xml("own.test"),
                           ISPDB: 1.0, "https://example.test/": 1.0, "http://": 1.0})
    resolver = FakeResolver(delay=1.0)
    t0 = time.monotonic()
    result = await service(resolver, fetcher).discover("anna@example.test")
    assert time.monotonic() - t0 < 0.5
    assert result.source == "autoconfig"
    assert result.imap is not None and result.imap.host == "imap.own.test"
    states = outcomes(result)
    assert states["autoconfig"] == "found"
    assert states["ispdb"] == "cancelled" and states["srv"] == "cancelled"


async def test_mx_into_google_workspace_and_m365() -> None:
    resolver = FakeResolver(mx_records={
        "shop.test": [MxRecord(5, "alt1.aspmx.l.google.com"), MxRecord(1, "aspmx.l.google.com")],
        "firm.test": [MxRecord(0, "firm-test.mail.protection.outlook.com")],
    })
    shop = await service(resolver, FakeFetcher()).discover("a@shop.test", probe=False)
    assert shop.source == "mx" and shop.provider is not None and shop.provider.id == "google_workspace"
    assert shop.imap is not None and shop.imap.host == "imap.gmail.com"
    firm = await service(resolver, FakeFetcher()).discover("a@firm.test", probe=False)
    assert firm.provider is not None and firm.provider.id == "microsoft365"
    assert "oauth2:microsoft" in firm.auth


async def test_mx_falls_back_to_ispdb_of_the_mx_domain() -> None:
    resolver = FakeResolver(mx_records={"shop.test": [MxRecord(10, "mx2.mail.hoster.test")]})
    fetcher = FakeFetcher({ISPDB + "hoster.test": xml("hoster.test", "hoster.test")})
    result = await service(resolver, fetcher).discover("a@shop.test", probe=False)
    assert result.source == "mx"
    assert result.imap is not None and result.imap.host == "imap.hoster.test"
    assert ISPDB + "mail.hoster.test" in fetcher.calls  # plus one label asked too
    assert outcomes(result)["mx.ispdb"] == "found"


async def test_srv_only_domain() -> None:
    resolver = FakeResolver(srv_records={
        "_imaps._tcp.srv.test": [SrvRecord(0, 1, 993, "mail.srv.test")],
        "_submissions._tcp.srv.test": [SrvRecord(0, 1, 465, "mail.srv.test")],
        "_submission._tcp.srv.test": [SrvRecord(0, 0, 0, ".")],
    })
    result = await service(resolver, FakeFetcher()).discover("a@srv.test", probe=False)
    assert result.source == "srv"
    assert result.smtp is not None and (result.smtp.port, result.smtp.security) == (465, "tls")


async def test_refused_private_target_is_traced() -> None:
    fetcher = FakeFetcher({"https://autoconfig.": HostNotAllowed("private")})
    result = await service(FakeResolver(), fetcher).discover("a@example.test", probe=False)
    assert outcomes(result)["autoconfig"] == "refused"
    assert not result.found


async def test_nothing_found_is_bounded_by_the_deadline() -> None:
    fetcher = FakeFetcher({"http": 30.0})
    resolver = FakeResolver(delay=30.0)
    t0 = time.monotonic()
    result = await service(resolver, fetcher, deadline=0.6, source_timeout=0.3).discover("a@slow.test")
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0
    assert not result.found and result.to_dict()["imap"] is None
    states = outcomes(result)
    assert states["autoconfig"] == "timeout" and states["ispdb"] == "timeout"
    assert states["mx"] == "timeout"  # the MX step may use the whole budget, then is cut off
    assert states["probe"] in ("timeout", "not_found")


async def test_probing_runs_only_when_nothing_else_answered() -> None:
    prober = FakeProber(ok={("mail.probe.test", 993), ("mail.probe.test", 587)})
    result = await service(FakeResolver(), FakeFetcher(), prober).discover("a@probe.test")
    assert result.source == "probe"
    assert result.imap is not None and (result.imap.host, result.imap.port) == ("mail.probe.test", 993)
    assert result.smtp is not None and result.smtp.security == "starttls"
    assert len(prober.calls) == 12


async def test_no_probe_flag_skips_probing() -> None:
    prober = FakeProber(ok={("mail.probe.test", 993)})
    result = await service(FakeResolver(), FakeFetcher(), prober).discover("a@probe.test", probe=False)
    assert not result.found and prober.calls == []
    assert outcomes(result)["probe"] == "skipped"


async def test_custom_domain_at_proton_is_explained() -> None:
    resolver = FakeResolver(mx_records={"p.test": [MxRecord(10, "mail.protonmail.ch")]})
    result = await service(resolver, FakeFetcher()).discover("a@p.test")
    assert not result.found and result.source == "mx"
    assert result.provider is not None and result.provider.id == "proton"


async def test_bad_address_raises() -> None:
    with pytest.raises(AddressError):
        await service(FakeResolver(), FakeFetcher()).discover("not an address")
