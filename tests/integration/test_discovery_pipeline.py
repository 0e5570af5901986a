"""The whole discovery pipeline offline: real DNS, ISPDB, autoconfig and mail servers on loopback."""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from discovery_fixtures import ISPDB_DIR, DocServer, IspdbServer, NamedCA

from lab import MailLab
from lab import deps as lab_deps
from mailport.services.discover import DiscoveryService, discover
from mailport.settings import Settings
from testenv import unavailable

IDN_ASCII = "xn--bckerei-mller-bfb28a.de"

ZONE = f"""
ws.test. 300 MX 1 aspmx.l.google.com.
ws.test. 300 MX 5 alt1.aspmx.l.google.com.
m365.test. 300 MX 0 m365-test.mail.protection.outlook.com.
strato.test. 300 MX 5 smtpin.rzone.de.
ionos.test. 300 MX 10 mx00.ionos.de.
ionos.test. 300 MX 10 mx01.ionos.de.
transip.test. 300 MX 10 mx.transip.email.
hostnet.test. 300 MX 10 mx1.hostnet.nl.
onecom.test. 300 MX 10 mx1.pub.mailpod2-cph3.one.com.
ovh.test. 300 MX 1 mx1.mail.ovh.net.
gandi.test. 300 MX 10 spool.mail.gandi.net.
infomaniak.test. 300 MX 5 mta-gw.infomaniak.ch.
clusterhost.test. 300 MX 10 mx1.clustermail.de.
protonhost.test. 300 MX 10 mail.protonmail.ch.
_imaps._tcp.srvonly.test. 300 SRV 0 1 993 mail.srvonly.test.
_imap._tcp.srvonly.test. 300 SRV 0 1 143 mail.srvonly.test.
_submissions._tcp.srvonly.test. 300 SRV 0 1 465 mail.srvonly.test.
_submission._tcp.srvonly.test. 300 SRV 0 0 0 .
srvonly.test. 300 TXT "v=spf1 -all"
autoconfig.autoconf.test. 300 A 127.0.0.1
wellknown.test. 300 A 127.0.0.1
autoconfig.httponly.test. 300 A 127.0.0.1
autoconfig.{IDN_ASCII}. 300 A 127.0.0.1
autoconfig.hang.test. 300 A 127.0.0.1
imap.probe.test. 300 A 127.0.0.1
smtp.probe.test. 300 A 127.0.0.1
mail.probe.test. 300 A 127.0.0.1
"""


def config(host: str, domain: str, *, username: str = "%EMAILADDRESS%") -> bytes:
    return f"""<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="{domain}"><domain>{domain}</domain>
<displayName>{domain} Mail</displayName>
<incomingServer type="imap"><hostname>imap.{host}</hostname><port>993</port>
<socketType>SSL</socketType><username>{username}</username>
<authentication>password-cleartext</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.{host}</hostname><port>587</port>
<socketType>STARTTLS</socketType><username>{username}</username>
<authentication>password-cleartext</authentication></outgoingServer>
</emailProvider></clientConfig>""".encode()


AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"


@pytest.fixture(scope="module")
def ca() -> Iterator[NamedCA]:
    directory = Path(tempfile.mkdtemp(prefix="mailport-discovery-ca-"))
    yield NamedCA(directory, ["probe.test", "*.probe.test"])


@pytest.fixture(scope="module")
def ispdb() -> Iterator[IspdbServer]:
    if not ISPDB_DIR.is_dir():
        unavailable(f"ISPDB test data not found at {ISPDB_DIR} (../shared/data/ispdb beside the clone)")
    server = IspdbServer().start()
    try:
        yield server  # type: ignore[misc]
    finally:
        server.stop()


@pytest.fixture(scope="module")
def web(ca: NamedCA) -> Iterator[tuple[DocServer, DocServer]]:
    cert = ca.ca.issue_cert("autoconfig.autoconf.test", "wellknown.test", f"autoconfig.{IDN_ASCII}",
                            "autoconfig.hang.test")
    context = ssl_server_context(cert)
    https = DocServer(
        {
            ("autoconfig.autoconf.test", AUTOCONFIG): config("autoconf.test", "autoconf.test"),
            ("wellknown.test", WELL_KNOWN): config("wk.test", "wellknown.test"),
            (f"autoconfig.{IDN_ASCII}", AUTOCONFIG): config(
                "%EMAILDOMAIN%", IDN_ASCII, username="%EMAILLOCALPART%"
            ),
        },
        tls=context,
    ).start()
    http = DocServer({("autoconfig.httponly.test", AUTOCONFIG): config("plain.test", "httponly.test")}).start()
    try:
        yield https, http  # type: ignore[misc]
    finally:
        https.stop()
        http.stop()


def ssl_server_context(cert):  # type: ignore[no-untyped-def]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


@pytest.fixture
def settings(dns_lab, ispdb: IspdbServer, web: tuple[DocServer, DocServer], ca: NamedCA) -> Settings:  # type: ignore[no-untyped-def]
    https, http = web
    dns_lab.load_zone(ZONE)
    return Settings(
        env="test",
        dns_nameservers=[dns_lab.nameserver],
        dns_timeout=2.0,
        ispdb_url=ispdb.base_url,
        autoconfig_https_port=https.port,
        autoconfig_http_port=http.port,
        ca_file=str(ca.ca_pem_path),
        allow_private_hosts=True,
        discovery_deadline=8.0,
    )


async def test_google_workspace_from_mx_with_mixed_case(settings: Settings) -> None:
    result = await discover("Anna.Smit@WS.Test", settings=settings, probe=False)
    data = result.to_dict()
    assert data["email"] == "Anna.Smit@ws.test"
    assert data["provider"] == {"id": "google_workspace", "name": "Google Workspace"}
    assert data["source"] == "mx"
    assert data["imap"] == {"host": "imap.gmail.com", "port": 993, "security": "tls",
                            "username": "Anna.Smit@ws.test"}
    assert data["auth"][0] == "oauth2:google"
    assert any(h["code"] == "provider.workspace_password_off" for h in data["hints"])
    assert {t["source"] for t in data["trace"]} >= {"catalog", "mx"}


async def test_microsoft_365_from_mx(settings: Settings) -> None:
    result = await discover("boekhouding@m365.test", settings=settings, probe=False)
    assert result.provider is not None and result.provider.id == "microsoft365"
    assert result.smtp is not None and (result.smtp.host, result.smtp.port) == ("smtp.office365.com", 587)


@pytest.mark.parametrize(
    ("domain", "provider_id", "imap_host"),
    [("strato.test", "strato", "imap.strato.de"), ("ionos.test", "ionos", "imap.ionos.de"),
     ("transip.test", "transip", "imap.transip.email"), ("hostnet.test", "hostnet", "imap.hostnet.nl"),
     ("onecom.test", "one_com", "imap.one.com"), ("ovh.test", "ovh", "ssl0.ovh.net"),
     ("gandi.test", "gandi", "mail.gandi.net"), ("infomaniak.test", "infomaniak", "mail.infomaniak.com")],
)
async def test_hosting_companies_recognized_from_mx(
    settings: Settings, domain: str, provider_id: str, imap_host: str
) -> None:
    result = await discover(f"factuur@{domain}", settings=settings, probe=False)
    assert result.source == "mx"
    assert result.provider is not None and result.provider.id == provider_id
    assert result.imap is not None and result.imap.host == imap_host


async def test_srv_only_domain(settings: Settings) -> None:
    result = await discover("a@srvonly.test", settings=settings, probe=False)
    assert result.source == "srv"
    assert result.imap is not None and (result.imap.host, result.imap.port, result.imap.security) == (
        "mail.srvonly.test", 993, "tls")
    # _submission is "." (not offered); _submissions gives implicit TLS.
    assert result.smtp is not None and (result.smtp.port, result.smtp.security) == (465, "tls")


async def test_https_autoconfig_of_the_domain(settings: Settings, web: tuple[DocServer, DocServer]) -> None:
    result = await discover("sales@autoconf.test", settings=settings, probe=False)
    assert result.source == "autoconfig"
    assert result.imap is not None and result.imap.host == "imap.autoconf.test"
    assert result.provider is not None and result.provider.name == "autoconf.test Mail"
    https, _ = web
    assert ("autoconfig.autoconf.test", f"{AUTOCONFIG}?emailaddress=sales@autoconf.test") in https.requests


async def test_well_known_autoconfig(settings: Settings) -> None:
    result = await discover("x@wellknown.test", settings=settings, probe=False)
    assert result.source == "autoconfig"
    assert result.smtp is not None and result.smtp.host == "smtp.wk.test"


async def test_plain_http_autoconfig_is_used_but_marked_untrusted(settings: Settings) -> None:
    result = await discover("x@httponly.test", settings=settings, probe=False)
    assert result.source == "autoconfig"
    assert result.imap is not None and result.imap.host == "imap.plain.test"
    assert [h.code for h in result.hints] == ["discovery.untrusted_source"]
    assert {(t.source, t.outcome) for t in result.trace} >= {("autoconfig.http", "found")}


async def test_idn_address(settings: Settings) -> None:
    result = await discover("bestellung@bäckerei-müller.de", settings=settings, probe=False)
    assert result.email == "bestellung@bäckerei-müller.de"
    assert result.source == "autoconfig"
    assert result.imap is not None and result.imap.host == f"imap.{IDN_ASCII}"
    assert result.imap.username == "bestellung"


async def test_ispdb_for_the_domain(settings: Settings) -> None:
    result = await discover("someone@comcast.net", settings=settings, probe=False)
    assert result.source == "ispdb"
    assert result.imap is not None and result.imap.host == "imap.comcast.net"


async def test_ispdb_for_the_mx_hosts_registrable_domain(settings: Settings) -> None:
    result = await discover("a@clusterhost.test", settings=settings, probe=False)
    assert result.source == "mx"
    assert result.imap is not None and result.imap.host.endswith("clustermail.de")
    assert ("mx.ispdb", "found") in {(t.source, t.outcome) for t in result.trace}


async def test_custom_domain_at_proton_is_explained(settings: Settings) -> None:
    result = await discover("a@protonhost.test", settings=settings, probe=False)
    assert not result.found
    assert [h.code for h in result.hints] == ["provider.bridge_required"]


async def test_nothing_published_is_not_found_quickly(settings: Settings) -> None:
    t0 = time.monotonic()
    result = await discover("nobody@nothing.test", settings=settings, probe=True)
    elapsed = time.monotonic() - t0
    assert elapsed < settings.discovery_deadline
    data = result.to_dict()
    assert data["imap"] is None and data["smtp"] is None and data["source"] is None
    # nothing.test does not exist in the lab's DNS: that is said first, then "not found".
    assert [h["code"] for h in data["hints"]][:2] == ["discovery.domain_unknown", "discovery.not_found"]
    outcomes = {t["source"]: t["outcome"] for t in data["trace"]}
    assert outcomes["mx"] == "not_found" and outcomes["srv"] == "not_found"
    assert outcomes["probe"] == "not_found"


async def test_hanging_server_is_cut_off_at_the_deadline(settings: Settings) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections (kernel backlog) but never answers
    try:
        hang = settings.model_copy(
            update={"autoconfig_https_port": silent.getsockname()[1], "discovery_deadline": 1.5}
        )
        t0 = time.monotonic()
        result = await discover("x@hang.test", settings=hang, probe=False)
        elapsed = time.monotonic() - t0
    finally:
        silent.close()
    assert 1.0 <= elapsed < 2.5
    assert not result.found
    assert {t.source: t.outcome for t in result.trace}["autoconfig"] == "timeout"


async def test_private_targets_refused_without_allow_private_hosts(settings: Settings) -> None:
    strict = settings.model_copy(update={"allow_private_hosts": False})
    result = await discover("sales@autoconf.test", settings=strict, probe=False)
    assert not result.found
    assert {t.source: t.outcome for t in result.trace}["autoconfig"] == "refused"


async def test_operators_ispdb_mirror_on_a_private_address_is_trusted(settings: Settings) -> None:
    # The guard protects against what users and domains supply, not the operator's own mirror:
    # the ISPDB on 127.0.0.1 answers, the domain's own autoconfig on 127.0.0.1 is still refused.
    strict = settings.model_copy(update={"allow_private_hosts": False})
    result = await discover("someone@posteo.de", settings=strict, probe=False)
    assert result.found and result.source in ("catalog", "ispdb")
    via_ispdb = await discover("klant@active24.com", settings=strict, probe=False)
    assert via_ispdb.found, via_ispdb.trace
    outcomes = {t.source: t.outcome for t in via_ispdb.trace}
    assert via_ispdb.source == "ispdb" and outcomes["ispdb"] == "found"
    refused = await discover("sales@autoconf.test", settings=strict, probe=False)
    assert {t.source: t.outcome for t in refused.trace}["autoconfig"] == "refused"


async def test_a_redirect_away_from_the_trusted_mirror_is_guarded(dns_lab) -> None:  # type: ignore[no-untyped-def]
    from mailport.adapters.dns import DnsResolver
    from mailport.adapters.http import HttpFetcher
    from mailport.errors import HostNotAllowed

    target = DocServer({("127.0.0.2", "/secret"): b"internal"}).start()
    mirror = _Redirector(f"http://127.0.0.2:{target.port}/secret").start()
    try:
        fetcher = HttpFetcher(resolver=DnsResolver(nameservers=[dns_lab.nameserver]),
                              trusted_urls=[f"http://127.0.0.1:{mirror.port}/v1.1/"])
        with pytest.raises(HostNotAllowed):
            await fetcher.get(f"http://127.0.0.1:{mirror.port}/v1.1/example.com", timeout=5)
        # The same origin, not the same host on another port, is what the operator trusted.
        with pytest.raises(HostNotAllowed):
            await fetcher.get(f"http://127.0.0.1:{target.port}/secret", timeout=5)
    finally:
        mirror.stop()
        target.stop()


class _Redirector(DocServer):
    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__({})

    def answer(self, host: str, path: str) -> tuple[int, bytes]:
        return 302, b""


@pytest.mark.lab
async def test_probing_finds_the_lab_servers(settings: Settings, ca: NamedCA) -> None:
    reason = lab_deps.ensure()
    if reason is None and os.geteuid() != 0:
        reason = "the mail lab must run as root"
    if reason is not None:
        unavailable(reason)
    with MailLab(ca) as lab:
        ports = {("imap", "tls"): lab.imaps_port, ("imap", "starttls"): lab.imap_port,
                 ("smtp", "tls"): lab.smtps_port, ("smtp", "starttls"): lab.submission_port}
        service = DiscoveryService.from_settings(settings, probe_ports=ports)
        result = await service.discover("user@probe.test")
        without = await service.discover("user@probe.test", probe=False)
    assert result.source == "probe"
    assert result.imap is not None and (result.imap.host, result.imap.port, result.imap.security) == (
        "imap.probe.test", lab.imaps_port, "tls")
    assert result.smtp is not None and (result.smtp.host, result.smtp.port, result.smtp.security) == (
        "smtp.probe.test", lab.smtps_port, "tls")
    assert {h.code for h in result.hints} >= {"discovery.probed"}
    assert not without.found
