"""Shared by the own-domain tests: a runtime pointed at the lab DNS, and zone text for a domain.

Import with ``from domain_fixtures import …`` (``tests/integration`` is on ``sys.path``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dns.resolver

from dbfixtures import make_runtime
from lab import DnsLab
from mailport.clock import FrozenClock
from mailport.runtime import Runtime

DOMAIN = "shop.test"
PLATFORM = "platform.test"
BOUNCE_HOST = "bounces.platform.test"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def domain_runtime(tmp_path: Path, dns_lab: DnsLab, database_url: str | None = None, **overrides: Any) -> Runtime:
    """A migrated runtime on a frozen clock whose every DNS lookup goes to the lab server, which
    is also what the NS records of the test zones point to (``dns_authoritative_port``)."""
    values: dict[str, Any] = {
        "dns_nameservers": [dns_lab.nameserver], "dns_authoritative_port": dns_lab.port,
        "dns_timeout": 1.0, "allow_private_hosts": True, "platform_domain": PLATFORM,
        "platform_bounce_host": BOUNCE_HOST, "domain_check_min_interval": 30.0,
    }
    values.update(overrides)
    runtime = make_runtime(tmp_path, database_url, **values)
    runtime.clock = FrozenClock(T0)
    return runtime


def quoted(strings: tuple[str, ...] | list[str]) -> str:
    return " ".join(f'"{s}"' for s in strings)


def zone(records: list[dict[str, Any]], *, domain: str = DOMAIN, spf: str | None = "v=spf1 mx -all",
         extra: str = "") -> str:
    """The zone of ``domain`` publishing ``records`` (``DomainView.to_dict()["records"]``) exactly
    as a user would paste them, with NS → the lab, MX and ``spf`` (None: no SPF record)."""
    by_kind = {r["kind"]: r for r in records}
    lines = [
        f"$ORIGIN {domain}.",
        "$TTL 60",
        f"@ NS ns1.{domain}.",
        "ns1 A 127.0.0.1",
        f"@ MX 10 mx.{domain}.",
        "mx A 127.0.0.1",
        f"{by_kind['dkim']['name']}. TXT {quoted(by_kind['dkim']['strings'])}",
        f"{by_kind['return_path']['name']}. CNAME {by_kind['return_path']['value']}.",
        f"{by_kind['dmarc']['name']}. TXT {quoted(by_kind['dmarc']['strings'])}",
    ]
    if spf is not None:
        lines.append(f'@ TXT "{spf}"')
    return "\n".join(lines) + "\n" + extra


def dkim_dnsfunc(dns_lab: DnsLab) -> Any:
    """A ``dnsfunc`` for ``dkim.verify`` that asks the lab server."""
    resolver = dns_lab.resolver()

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(b"".join(r.strings) for r in answer)

    return lookup
