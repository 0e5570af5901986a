"""The hand-written catalog stays honest against Thunderbird's ISPDB (``../shared/data/ispdb``).

For every domain both know, each server the catalog gives (IMAP and SMTP: host, port, security)
must be one the ISPDB document lists for that domain — the same rule discovery applies at run time
when it checks a catalog hit against the published configuration (:func:`crosscheck`). A
deliberate difference (the ISPDB entry is stale) is listed in ``KNOWN_STALE_IN_ISPDB`` with why.

The snapshot is test data only. It lives beside the clone; CI has it there, so in CI its absence
fails the test instead of skipping it.
"""

from __future__ import annotations

import re
from pathlib import Path

from mailport.core import providers
from mailport.core.addresses import parse_address
from mailport.core.autoconfig import ClientConfig, parse_config
from mailport.core.discovery import candidate_from_provider, crosscheck
from testenv import unavailable

ISPDB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ispdb"
_DOMAIN_RE = re.compile(rb"<domain>\s*([^<\s]+)\s*</domain>")

# domain → why the catalog differs on purpose (empty: the catalog agrees everywhere).
KNOWN_STALE_IN_ISPDB: dict[str, str] = {}


def _ispdb() -> dict[str, ClientConfig]:
    if not ISPDB_DIR.is_dir():
        unavailable(f"ISPDB snapshot not found at {ISPDB_DIR} (../shared/data/ispdb beside the clone)")
    index: dict[str, ClientConfig] = {}
    for path in sorted(ISPDB_DIR.glob("*.xml")):
        data = path.read_bytes()
        config = parse_config(data)
        for domain in _DOMAIN_RE.findall(data):
            index.setdefault(domain.decode().lower(), config)
    return index


def test_catalog_agrees_with_the_ispdb_for_the_domains_both_know() -> None:
    ispdb = _ispdb()
    shared: list[str] = []
    disagreements: list[str] = []
    for provider in providers.all():
        if provider.closed:
            continue
        for domain in provider.domains:
            config = ispdb.get(domain)
            if config is None or domain in KNOWN_STALE_IN_ISPDB:
                continue
            shared.append(domain)
            address = parse_address(f"someone@{domain}")
            catalog = candidate_from_provider(provider, address, origin="catalog")
            _, differences = crosscheck(catalog, config, address, origin="ispdb")
            disagreements.extend(f"{domain}: {d}" for d in differences)
    print(f"\ncatalog vs ISPDB: {len(shared)} domains both know, {len(disagreements)} disagreements")
    assert len(shared) >= 30  # the check covers the catalog's big providers, not a handful
    assert disagreements == []
