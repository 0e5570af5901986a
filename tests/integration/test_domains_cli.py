"""``mailport domain add|records|check|list`` as an operator runs them, against the lab DNS server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from domain_fixtures import BOUNCE_HOST, DOMAIN, PLATFORM, zone

from lab import DnsLab


def _mailport(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailport.cli", *args], check=False, env=env, capture_output=True,
                          text=True, timeout=120)


def test_domain_commands(tmp_path: Path, dns_lab: DnsLab) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
    env.update({
        "MAILPORT_DATA_DIR": str(tmp_path / "var"), "MAILPORT_DNS_NAMESERVERS": dns_lab.nameserver,
        "MAILPORT_DNS_AUTHORITATIVE_PORT": str(dns_lab.port), "MAILPORT_ALLOW_PRIVATE_HOSTS": "true",
        "MAILPORT_PLATFORM_DOMAIN": PLATFORM, "MAILPORT_PLATFORM_BOUNCE_HOST": BOUNCE_HOST,
        "MAILPORT_DOMAIN_CHECK_MIN_INTERVAL": "0", "MAILPORT_DNS_TIMEOUT": "1", "COLUMNS": "250",
        "NO_COLOR": "1",
    })
    created = _mailport("tenant", "create", "Shop", "--json", env=env)
    assert created.returncode == 0, created.stderr
    env["MAILPORT_TENANT"] = json.loads(created.stdout)["id"]

    added = _mailport("domain", "add", DOMAIN, env=env)
    assert added.returncode == 0, added.stderr
    assert f"mp-bounces.{DOMAIN}" in added.stdout and "v=DKIM1; k=rsa; p=" in added.stdout
    assert "PRIVATE KEY" not in added.stdout + added.stderr

    records = json.loads(_mailport("domain", "records", DOMAIN, "--json", env=env).stdout)
    assert [r["kind"] for r in records] == ["dkim", "return_path", "dmarc", "spf"]

    failing = _mailport("domain", "check", DOMAIN, "--lang", "nl", env=env)
    assert failing.returncode == 1, failing.stderr
    assert "DKIM-record ontbreekt" in failing.stdout and "pending" in failing.stdout
    # The optional SPF record is said to be optional once, not "(optional) (optional)" (issue 16).
    english = _mailport("domain", "check", DOMAIN, env=env)
    spf_line = next(line for line in english.stdout.splitlines() if "SPF" in line)
    assert spf_line.count("(optional)") == 1, spf_line

    dns_lab.load_zone(zone(records))
    passing = _mailport("domain", "check", DOMAIN, env=env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "active" in passing.stdout and "authoritative" in passing.stdout

    listed = json.loads(_mailport("domain", "list", "--json", env=env).stdout)
    assert [(d["name"], d["state"], d["sending"]) for d in listed] == [(DOMAIN, "active", True)]
    missing = _mailport("domain", "check", "other.test", env=env)
    assert missing.returncode == 2 and "domain.not_found" in missing.stderr and "Traceback" not in missing.stderr
