"""The DNS adapter against the lab DNS server: records, IDN, caching, error translation."""

from __future__ import annotations

from typing import Any

import pytest

from mailport.adapters.dns import DnsResolver, parse_nameserver
from mailport.core.discovery import MxRecord, SrvRecord
from mailport.errors import ConfigurationError, NetworkError, RemoteTimeout

ZONE = """
$ORIGIN example.test.
@ 300 MX 20 backup.example.test.
@ 300 MX 10 Mail.Example.test.
@ 300 TXT "v=spf1 " "include:_spf.example.test -all"
mail 300 A 192.0.2.10
mail 300 AAAA 2001:db8::10
v4only 300 A 192.0.2.11
www 300 CNAME mail.example.test.
_imaps._tcp 300 SRV 0 1 993 mail.example.test.
_submission._tcp 300 SRV 0 0 0 .
"""
OTHER = """
nullmx.test. 300 MX 0 .
xn--bckerei-mller-bfb28a.de. 300 MX 10 mx.xn--bckerei-mller-bfb28a.de.
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dns(dns_lab):  # type: ignore[no-untyped-def]
    dns_lab.load_zone(ZONE)
    dns_lab.load_zone(OTHER)  # names outside an $ORIGIN need their own load
    return dns_lab


def make(dns, clock: Clock | None = None, timeout: float = 2.0) -> DnsResolver:  # type: ignore[no-untyped-def]
    return DnsResolver(nameservers=[dns.nameserver], timeout=timeout, clock=clock or Clock())


async def test_records(dns) -> None:  # type: ignore[no-untyped-def]
    r = make(dns)
    assert await r.mx("EXAMPLE.test.") == [MxRecord(10, "mail.example.test"), MxRecord(20, "backup.example.test")]
    assert await r.txt("example.test") == ["v=spf1 include:_spf.example.test -all"]
    assert await r.cname("www.example.test") == "mail.example.test"
    assert await r.cname("mail.example.test") is None
    assert await r.srv("_imaps._tcp.example.test") == [SrvRecord(0, 1, 993, "mail.example.test")]
    assert await r.srv("_submission._tcp.example.test") == [SrvRecord(0, 0, 0, ".")]
    assert await r.mx("nullmx.test") == [MxRecord(0, "")]


async def test_missing_names_and_records_are_empty(dns) -> None:  # type: ignore[no-untyped-def]
    r = make(dns)
    assert await r.mx("nothing.test") == []
    assert await r.srv("_imap._tcp.example.test") == []
    assert await r.txt("mail.example.test") == []


async def test_idn_names_are_queried_as_punycode(dns) -> None:  # type: ignore[no-untyped-def]
    records = await make(dns).mx("Bäckerei-Müller.de")
    assert records == [MxRecord(10, "mx.xn--bckerei-mller-bfb28a.de")]


async def test_resolve_addresses(dns) -> None:  # type: ignore[no-untyped-def]
    r = make(dns)
    assert sorted(await r.resolve_addresses("mail.example.test")) == ["192.0.2.10", "2001:db8::10"]
    assert await r.resolve_addresses("v4only.example.test") == ["192.0.2.11"]
    assert await r.resolve_addresses("www.example.test") == ["192.0.2.10", "2001:db8::10"]
    assert await r.resolve_addresses("[::1]") == ["::1"]
    assert await r.resolve_addresses("127.0.0.1") == ["127.0.0.1"]
    with pytest.raises(NetworkError) as err:
        await r.resolve_addresses("nowhere.example.test")
    assert err.value.code == "net.host_not_found" and err.value.stage == "dns"


async def test_positive_answers_cached_24h(dns) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    r = make(dns, clock)
    await r.mx("example.test")
    dns.load_zone("example.test. 300 MX 5 new.example.test.")
    clock.now += 23 * 3600
    assert (await r.mx("example.test"))[0].host == "mail.example.test"
    asked = sum(1 for q in dns.queries if q.rtype == "MX")
    assert asked == 1
    clock.now += 2 * 3600
    assert await r.mx("example.test") == [MxRecord(5, "new.example.test")]


async def test_negative_answers_cached_1h(dns) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    r = make(dns, clock)
    assert await r.txt("_dmarc.example.test") == []
    dns.load_zone('_dmarc.example.test. 300 TXT "v=DMARC1; p=none"')
    clock.now += 59 * 60
    assert await r.txt("_dmarc.example.test") == []
    clock.now += 2 * 60
    assert await r.txt("_dmarc.example.test") == ["v=DMARC1; p=none"]
    r.clear()


async def test_servfail_and_timeout_are_translated_and_not_cached(dns) -> None:  # type: ignore[no-untyped-def]
    r = make(dns, timeout=0.5)
    dns.servfail("broken.test")
    with pytest.raises(NetworkError) as err:
        await r.mx("broken.test")
    assert err.value.code == "net.dns_failure"
    dns.timeout("slow.test")
    with pytest.raises(RemoteTimeout) as timeout_err:
        await r.mx("slow.test")
    assert timeout_err.value.stage == "dns"
    dns.clear_faults()
    dns.load_zone("broken.test. 300 MX 1 mx.broken.test.")
    assert await r.mx("broken.test") == [MxRecord(1, "mx.broken.test")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
     ("::1", ("::1", 53)), ("[::1]:5353", ("::1", 5353))],
)
def test_parse_nameserver(value: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(value) == expected


@pytest.mark.parametrize("value", ["dns.google", "1.2.3.4:x", "1.2.3.4:0", "[::1]x"])
def test_parse_nameserver_rejects_bad_values(value: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_nameserver(value)


async def test_concurrent_identical_questions_share_one_query(dns) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    r = make(dns)
    results = await asyncio.gather(*(r.resolve_addresses("mail.example.test") for _ in range(5)))
    assert all(sorted(x) == ["192.0.2.10", "2001:db8::10"] for x in results)
    asked = [q for q in dns.queries if q.name == "mail.example.test."]
    assert sorted(q.rtype for q in asked) == ["A", "AAAA"]


async def test_a_cancelled_asker_does_not_cancel_the_shared_query(dns) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    r = make(dns)
    first = asyncio.ensure_future(r.mx("example.test"))
    second = asyncio.ensure_future(r.mx("example.test"))
    await asyncio.sleep(0)
    first.cancel()
    assert (await second)[0].host == "mail.example.test"


async def test_localhost_is_the_loopback_without_asking_dns(dns_lab: Any) -> None:
    """``localhost`` as a server name (issue 16 item 19): RFC 6761, not "does not exist in DNS"."""
    resolver = DnsResolver(nameservers=[dns_lab.nameserver], timeout=1.0, clock=Clock())
    assert await resolver.resolve_addresses("localhost") == ["127.0.0.1", "::1"]
    assert await resolver.resolve_addresses("mail.LOCALHOST.") == ["127.0.0.1", "::1"]
    assert not [q for q in dns_lab.queries if "localhost" in str(q).lower()]
