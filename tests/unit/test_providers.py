"""The hand-written provider catalog: coverage, lookups and data sanity."""

from __future__ import annotations

import pytest

from mailport.core import providers
from mailport.core.providers import AUTH_KINDS, find_by_domain, find_by_mx, get


def test_catalog_is_large_and_ids_unique() -> None:
    catalog = providers.all()
    assert len(catalog) >= 60
    assert len({p.id for p in catalog}) == len(catalog)


@pytest.mark.parametrize(
    "provider_id",
    ["gmail", "google_workspace", "outlook", "microsoft365", "yahoo", "aol", "icloud", "gmx",
     "webde", "tonline", "libero"],
)
def test_ids_shared_with_diagnostics_exist(provider_id: str) -> None:
    assert get(provider_id).id == provider_id


def test_every_domain_belongs_to_one_provider() -> None:
    seen: dict[str, str] = {}
    for provider in providers.all():
        for domain in provider.domains:
            assert domain not in seen, f"{domain} in {seen.get(domain)} and {provider.id}"
            seen[domain] = provider.id


def test_every_entry_is_usable_or_explains_why_not() -> None:
    for provider in providers.all():
        assert set(provider.auth) <= AUTH_KINDS
        assert provider.domains or provider.mx_patterns, provider.id
        if provider.imap is None or provider.smtp is None:
            assert provider.hints, f"{provider.id} has no servers and no hint explaining it"
        for server in (provider.imap, provider.smtp):
            if server is not None:
                assert server.security in ("tls", "starttls"), provider.id
        for hint in provider.hints:
            assert hint.code.startswith("provider.") and hint.text


@pytest.mark.parametrize(
    ("domain", "provider_id"),
    [("gmail.com", "gmail"), ("GoogleMail.COM", "gmail"), ("hotmail.co.uk", "outlook"),
     ("web.de.", "webde"), ("t-online.de", "tonline"), ("libero.it", "libero"),
     ("xs4all.nl", "xs4all"), ("bluewin.ch", "bluewin"), ("free.fr", "free"),
     ("btinternet.com", "bt"), ("telia.com", "telia"), ("proton.me", "proton")],
)
def test_find_by_domain(domain: str, provider_id: str) -> None:
    found = find_by_domain(domain)
    assert found is not None and found.id == provider_id


def test_unknown_domain_and_hosting_only_provider_are_not_domain_matches() -> None:
    assert find_by_domain("example.test") is None
    assert find_by_domain("bäckerei-müller.de") is None
    # Hosting companies are recognized by MX, never by their own marketing domain.
    assert find_by_domain("transip.nl") is None


@pytest.mark.parametrize(
    ("mx", "provider_id"),
    [("aspmx.l.google.com", "google_workspace"), ("ALT2.ASPMX.L.GOOGLE.COM.", "google_workspace"),
     ("smtp.google.com", "google_workspace"), ("gmail-smtp-in.l.google.com", "gmail"),
     ("contoso-com.mail.protection.outlook.com", "microsoft365"),
     ("outlook-com.olc.protection.outlook.com", "outlook"),
     ("smtpin.rzone.de", "strato"), ("mx00.ionos.de", "ionos"), ("mx01.kundenserver.de", "ionos"),
     ("mx.transip.email", "transip"), ("mx2.hostnet.nl", "hostnet"),
     ("mx1.pub.mailpod3-cph3.one.com", "one_com"), ("mx1.mail.ovh.net", "ovh"),
     ("spool.mail.gandi.net", "gandi"), ("mta-gw.infomaniak.ch", "infomaniak"),
     ("mx1.mail.hostpoint.ch", "hostpoint"), ("mx.mailprotect.be", "combell"),
     ("mx1.loopia.se", "loopia"), ("mx.aruba.it", "aruba"),
     ("mailstore1.secureserver.net", "godaddy"), ("mail.protonmail.ch", "proton")],
)
def test_find_by_mx(mx: str, provider_id: str) -> None:
    found = find_by_mx(mx)
    assert found is not None and found.id == provider_id


def test_mx_suffix_pattern_does_not_match_lookalikes() -> None:
    assert find_by_mx("mail.protection.outlook.com.evil.test") is None
    assert find_by_mx("evilmail.protection.outlook.com") is None
    assert find_by_mx("mx.example.test") is None


def test_closed_providers_have_no_servers() -> None:
    for provider_id in ("proton", "tuta"):
        provider = get(provider_id)
        assert provider.closed and provider.imap is None and provider.smtp is None
    assert {h.code for h in get("proton").hints} == {"provider.bridge_required"}
    assert {h.code for h in get("tuta").hints} == {"provider.no_imap"}


def test_get_unknown_raises_key_error() -> None:
    with pytest.raises(KeyError):
        get("nope")


@pytest.mark.parametrize("countries", [{"NL"}, {"BE"}, {"DE"}, {"AT"}, {"CH"}, {"IT"}, {"FR"},
                                       {"UK"}, {"SE", "NO", "DK", "FI"}])
def test_each_target_market_has_several_providers(countries: set[str]) -> None:
    local = [p for p in providers.all() if countries & set(p.countries)]
    assert len(local) >= 2, countries


def test_a_typo_of_a_catalogued_domain_is_suggested() -> None:
    from mailport.core.providers import suggest_domain

    assert [suggest_domain(d) for d in ("gmial.com", "hotmial.com", "gmail.con", "outlok.com")] == [
        "gmail.com", "hotmail.com", "gmail.com", "outlook.com"]
    # A catalogued domain, or one far from any, gets nothing.
    assert suggest_domain("gmail.com") is None and suggest_domain("bakkerij-jansen.nl") is None
