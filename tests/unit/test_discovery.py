"""The pure discovery core: candidates from each answer, ranking, the JSON shape."""

from __future__ import annotations

import json

import pytest

from mailport.core import providers
from mailport.core.addresses import parse_address
from mailport.core.autoconfig import parse_config
from mailport.core.discovery import (
    Candidate,
    MxRecord,
    ProbeTarget,
    SrvRecord,
    TraceEntry,
    autoconfig_urls,
    best_tier,
    candidate_from_config,
    candidate_from_probes,
    candidate_from_provider,
    candidate_from_srv,
    decide,
    lowest_mx,
    mx_ispdb_domains,
    probe_plan,
    registrable_domain,
)
from mailport.core.providers import ServerSettings

ADDR = parse_address("Anna.Smit@Example.test")
IDN = parse_address("bestellung@bäckerei-müller.de")

CONFIG = b"""<clientConfig version="1.1"><emailProvider id="example.test">
<domain>example.test</domain><displayName>Example</displayName>
<incomingServer type="imap"><hostname>mail.%EMAILDOMAIN%</hostname><port>993</port>
<socketType>SSL</socketType><username>%EMAILLOCALPART%</username>
<authentication>password-cleartext</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.example.test</hostname><port>587</port>
<socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>"""


def test_catalog_candidate_fills_username_template() -> None:
    free = parse_address("jean.dupont@free.fr")
    c = candidate_from_provider(providers.get("free"), free, origin="catalog")
    assert c.imap == ServerSettings("imap.free.fr", 993, "tls", "jean.dupont")
    assert c.source == "catalog" and c.provider is not None and c.provider.id == "free"


def test_config_candidate_fills_host_and_username_placeholders() -> None:
    c = candidate_from_config(parse_config(CONFIG), IDN, origin="ispdb")
    assert c is not None
    assert c.imap == ServerSettings("mail.xn--bckerei-mller-bfb28a.de", 993, "tls", "bestellung")
    assert c.smtp is not None and c.smtp.username == "bestellung@xn--bckerei-mller-bfb28a.de"
    assert c.auth == ("password",)
    assert c.hints == ()


def test_http_autoconfig_is_marked_untrusted_and_ranked_below_srv() -> None:
    http = candidate_from_config(parse_config(CONFIG), ADDR, origin="autoconfig.http")
    assert http is not None and [h.code for h in http.hints] == ["discovery.untrusted_source"]
    srv = candidate_from_srv({"_imaps._tcp": [SrvRecord(0, 1, 993, "imap.example.test.")]}, ADDR)
    assert srv is not None
    result = decide(ADDR, [http, srv])
    assert result.source == "srv"
    assert result.imap == ServerSettings("imap.example.test", 993, "tls", "Anna.Smit@example.test")
    # SRV offered no SMTP: the untrusted document fills that half, never a made-up host.
    assert result.smtp is not None and result.smtp.host == "smtp.example.test"


def test_srv_prefers_implicit_tls_and_honours_dot_target() -> None:
    answers = {
        "_submissions._tcp": [SrvRecord(0, 0, 0, ".")],
        "_submission._tcp": [SrvRecord(10, 0, 587, "b.example.test."),
                             SrvRecord(5, 0, 587, "a.example.test.")],
        "_imap._tcp": [SrvRecord(0, 0, 143, "imap.example.test.")],
        "_imaps._tcp": [SrvRecord(0, 0, 993, "imaps.example.test."),
                        SrvRecord(0, 5, 993, "heavy.example.test.")],
    }
    c = candidate_from_srv(answers, ADDR)
    assert c is not None
    assert c.smtp == ServerSettings("a.example.test", 587, "starttls", "Anna.Smit@example.test")
    assert c.imap == ServerSettings("heavy.example.test", 993, "tls", "Anna.Smit@example.test")


def test_srv_all_not_offered_gives_nothing() -> None:
    assert candidate_from_srv({"_imaps._tcp": [SrvRecord(0, 0, 0, ".")]}, ADDR) is None
    assert candidate_from_srv({}, ADDR) is None


def test_lowest_mx_and_null_mx() -> None:
    assert lowest_mx([MxRecord(20, "b.example.test."), MxRecord(10, "A.example.test.")]) == "a.example.test"
    assert lowest_mx([MxRecord(0, ".")]) is None
    assert lowest_mx([]) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [("mx1.mail.provider.co.uk", "provider.co.uk"), ("aspmx.l.google.com", "google.com"),
     ("mx.example.test", "example.test"), ("example.test", "example.test"), ("com", None),
     ("x.y.blogspot.com", "y.blogspot.com")],
)
def test_registrable_domain(host: str, expected: str | None) -> None:
    assert registrable_domain(host) == expected


def test_mx_ispdb_domains_plus_one_label_first() -> None:
    assert mx_ispdb_domains("mx1.mail.provider.co.uk.") == ["mail.provider.co.uk", "provider.co.uk"]
    assert mx_ispdb_domains("mx.example.test") == ["example.test"]


def test_probe_plan_is_tls_first_and_never_plaintext() -> None:
    plan = probe_plan(ADDR)
    assert plan[0] == ProbeTarget("imap", "imap.example.test", 993, "tls")
    assert {t.security for t in plan} == {"tls", "starttls"}
    assert {t.port for t in plan} == {993, 143, 465, 587}
    assert ProbeTarget("smtp", "example.test", 587, "starttls") in plan


def test_probe_candidate_takes_first_answer_per_kind() -> None:
    c = candidate_from_probes(
        [ProbeTarget("smtp", "mail.example.test", 465, "tls"),
         ProbeTarget("smtp", "example.test", 587, "starttls")],
        ADDR,
    )
    assert c is not None and c.imap is None
    assert c.smtp == ServerSettings("mail.example.test", 465, "tls", "Anna.Smit@example.test")
    assert "discovery.probed" in {h.code for h in c.hints}


def test_decide_ranks_catalog_over_everything() -> None:
    cat = candidate_from_provider(providers.get("gmail"), parse_address("a@gmail.com"), origin="catalog")
    ispdb = candidate_from_config(parse_config(CONFIG), ADDR, origin="ispdb")
    assert ispdb is not None
    assert best_tier([ispdb, cat]) == 0
    result = decide(parse_address("a@gmail.com"), [ispdb, cat])
    assert result.source == "catalog"
    assert result.auth == ("oauth2:google", "app_password")


def test_not_found_has_nulls_and_a_hint_and_json_shape() -> None:
    trace = [TraceEntry("mx", "not_found", 3), TraceEntry("ispdb", "timeout", 4000)]
    result = decide(ADDR, [Candidate("srv", None, None)], trace=trace)
    assert not result.found
    data = json.loads(json.dumps(result.to_dict()))
    assert list(data) == ["email", "provider", "imap", "smtp", "source", "auth", "hints", "trace", "suggestion",
                          "domain_exists"]
    assert data["imap"] is None and data["smtp"] is None and data["source"] is None
    assert data["provider"] is None and data["email"] == "Anna.Smit@example.test"
    assert data["hints"][0]["code"] == "discovery.not_found"
    assert data["trace"] == [{"source": "mx", "outcome": "not_found", "ms": 3},
                             {"source": "ispdb", "outcome": "timeout", "ms": 4000}]


def test_found_json_shape() -> None:
    mx = candidate_from_provider(providers.get("microsoft365"), ADDR, origin="mx")
    data = decide(ADDR, [mx]).to_dict()
    assert data["provider"] == {"id": "microsoft365", "name": "Microsoft 365"}
    assert data["imap"] == {"host": "outlook.office365.com", "port": 993, "security": "tls",
                            "username": "Anna.Smit@example.test"}
    assert data["smtp"]["security"] == "starttls" and data["source"] == "mx"
    assert "oauth2:microsoft" in data["auth"]
    assert {h["code"] for h in data["hints"]} >= {"provider.smtp_auth_disabled_tenant"}


def test_closed_provider_explains_and_offers_nothing() -> None:
    result = decide(parse_address("x@proton.me"), [], closed=providers.get("proton"))
    assert not result.found and result.provider is not None and result.provider.id == "proton"
    assert result.hints[0].code == "provider.bridge_required"


def test_autoconfig_urls_are_https_first_and_percent_encode() -> None:
    urls = autoconfig_urls(parse_address("a+b@example.test"), https_port=8443, http_port=80)
    assert urls["autoconfig"] == "https://autoconfig.example.test:8443/mail/config-v1.1.xml?emailaddress=a%2Bb@example.test"
    assert urls["autoconfig.well_known"].startswith("https://example.test:8443/.well-known/autoconfig/mail/")
    assert urls["autoconfig.http"].startswith("http://autoconfig.example.test/mail/")
