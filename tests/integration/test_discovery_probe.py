"""The prober against the lab's Dovecot/Postfix and misbehaving servers: handshake + greeting only."""

from __future__ import annotations

import pytest

from mailport.adapters.dns import DnsResolver
from mailport.adapters.probe import Prober
from mailport.core.discovery import ProbeTarget


@pytest.fixture
def resolver(dns_lab) -> DnsResolver:  # type: ignore[no-untyped-def]
    # "localhost" is what the lab certificate names; "other.test" is a name it does not cover.
    dns_lab.load_zone("localhost. 300 A 127.0.0.1\nother.test. 300 A 127.0.0.1\n")
    return DnsResolver(nameservers=[dns_lab.nameserver], timeout=2.0)


def prober(resolver: DnsResolver, ca_file: str = "", allow_private: bool = True) -> Prober:
    return Prober(resolver=resolver, allow_private=allow_private, ca_file=ca_file)


async def test_lab_servers_pass_with_implicit_tls_and_starttls(mail_lab, resolver) -> None:  # type: ignore[no-untyped-def]
    p = prober(resolver, str(mail_lab.ca_pem_path))
    targets = [
        ProbeTarget("imap", "localhost", mail_lab.imaps_port, "tls"),
        ProbeTarget("imap", "localhost", mail_lab.imap_port, "starttls"),
        ProbeTarget("smtp", "localhost", mail_lab.smtps_port, "tls"),
        ProbeTarget("smtp", "localhost", mail_lab.submission_port, "starttls"),
    ]
    for target in targets:
        outcome = await p.probe(target, timeout=5)
        assert outcome.ok, (target, outcome.code)


async def test_wrong_protocol_or_security_is_not_a_match(mail_lab, resolver) -> None:  # type: ignore[no-untyped-def]
    p = prober(resolver, str(mail_lab.ca_pem_path))
    # SMTP server probed as IMAP, and implicit TLS against a plain (STARTTLS) port.
    wrong_protocol = await p.probe(ProbeTarget("imap", "localhost", mail_lab.submission_port, "starttls"), timeout=5)
    assert not wrong_protocol.ok and wrong_protocol.code == "net.wrong_service"
    implicit_on_plain = await p.probe(ProbeTarget("imap", "localhost", mail_lab.imap_port, "tls"), timeout=5)
    assert not implicit_on_plain.ok and implicit_on_plain.code.startswith("tls.")


async def test_certificate_must_match_the_probed_name(mail_lab, resolver) -> None:  # type: ignore[no-untyped-def]
    p = prober(resolver, str(mail_lab.ca_pem_path))
    tls = await p.probe(ProbeTarget("imap", "other.test", mail_lab.imaps_port, "tls"), timeout=5)
    starttls = await p.probe(ProbeTarget("smtp", "other.test", mail_lab.submission_port, "starttls"), timeout=5)
    assert (tls.ok, tls.code) == (False, "tls.certificate_invalid")
    assert (starttls.ok, starttls.code) == (False, "tls.certificate_invalid")


async def test_private_address_refused_without_allow_private(mail_lab, resolver) -> None:  # type: ignore[no-untyped-def]
    p = prober(resolver, str(mail_lab.ca_pem_path), allow_private=False)
    outcome = await p.probe(ProbeTarget("imap", "localhost", mail_lab.imaps_port, "tls"), timeout=5)
    assert (outcome.ok, outcome.code) == (False, "net.host_not_allowed")


async def test_pop3_silent_and_closed(faults, resolver) -> None:  # type: ignore[no-untyped-def]
    p = prober(resolver)
    pop3 = faults.pop3_server()
    outcome = await p.probe(ProbeTarget("imap", "localhost", pop3.port, "starttls"), timeout=5)
    assert (outcome.ok, outcome.code) == (False, "net.wrong_service")
    silent = faults.silent_server()
    outcome = await p.probe(ProbeTarget("smtp", "localhost", silent.port, "starttls"), timeout=0.5)
    assert (outcome.ok, outcome.code) == (False, "net.timeout")
    outcome = await p.probe(ProbeTarget("smtp", "localhost", faults.closed_port(), "tls"), timeout=5)
    assert (outcome.ok, outcome.code) == (False, "net.connection_refused")
    missing = await p.probe(ProbeTarget("smtp", "nowhere.test", 465, "tls"), timeout=5)
    assert (missing.ok, missing.code) == (False, "net.host_not_found")
