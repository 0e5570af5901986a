"""config-v1.1.xml parsing, from literal documents."""

from __future__ import annotations

import pytest

from mailport.core.addresses import parse_address
from mailport.core.autoconfig import auth_kinds, fill_placeholders, parse_config
from mailport.errors import ProtocolError

DOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <domain>Example.ORG</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname><port>995</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname><port>143</port><socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>IMAP.example.test</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname><port>587</port><socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-encrypted</authentication>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>bad host</hostname><port>465</port><socketType>SSL</socketType>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp2.example.test</hostname><port>99999</port><socketType>SSL</socketType>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp3.example.test</hostname><port>25</port><socketType>weird</socketType>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


def test_parses_imap_and_smtp_and_ranks_implicit_tls_first() -> None:
    config = parse_config(DOC)
    assert config.provider_id == "example.test"
    assert config.display_name == "Example Mail"
    assert config.domains == ("example.test", "example.org")
    assert [(s.settings.host, s.settings.port, s.settings.security) for s in config.imap] == [
        ("imap.example.test", 993, "tls"),
        ("imap.%EMAILDOMAIN%", 143, "starttls"),
    ]
    # POP3 is ignored; invalid hosts, ports and socket types are skipped, never guessed.
    assert [(s.settings.host, s.settings.port, s.settings.security) for s in config.smtp] == [
        ("smtp.example.test", 587, "starttls")
    ]
    assert config.imap[0].authentication == ("oauth2", "password-cleartext")


def test_fill_placeholders_uses_ascii_domain() -> None:
    address = parse_address("Bestellung@Bäckerei-Müller.de")
    assert fill_placeholders("%EMAILLOCALPART%|%EMAILDOMAIN%|%EMAILADDRESS%", address) == (
        "Bestellung|xn--bckerei-mller-bfb28a.de|Bestellung@xn--bckerei-mller-bfb28a.de"
    )


def test_auth_kinds_maps_oauth_only_for_known_issuers() -> None:
    config = parse_config(DOC)
    assert auth_kinds(config.imap) == ("password",)
    gmail = DOC.replace(b"IMAP.example.test", b"imap.gmail.com")
    assert auth_kinds(parse_config(gmail).imap) == ("oauth2:google", "password")
    office = DOC.replace(b"IMAP.example.test", b"outlook.office365.com")
    assert auth_kinds(parse_config(office).imap) == ("oauth2:microsoft", "password")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><body>not found</body></html>",
        b"<clientConfig><foo/></clientConfig>",
        b"<clientConfig><emailProvider>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><clientConfig/>',
    ],
)
def test_invalid_documents_raise_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_config(data)
    assert err.value.code == "discovery.invalid_config"


def test_namespaced_document_is_accepted() -> None:
    doc = DOC.replace(b'<clientConfig version="1.1">', b'<clientConfig xmlns="urn:x" version="1.1">')
    assert parse_config(doc).smtp[0].settings.host == "smtp.example.test"
