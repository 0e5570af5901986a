"""Staged verification against the real lab (Dovecot + Postfix), the lab DNS server and fault
servers: every scenario of issue 3 ends in its own stable code at the right stage."""

from __future__ import annotations

import hashlib
import json
import ssl
import time

import pytest

from lab import MailLab
from lab.dns_server import DnsLab
from lab.faults import FaultServers
from mailport.adapters.dns import DnsResolver
from mailport.adapters.secrets import Secret
from mailport.core.verification import (
    AccountConfig,
    Endpoint,
    Outcome,
    Stage,
    StageResult,
    StageStatus,
    VerificationReport,
    planned_stages,
)
from mailport.services.verify import VerifyService
from mailport.settings import Settings

USER = "user@example.test"
PASSWORD = "password"


class LabResolver:
    """The lab certificate names "localhost"; that is the host name the lab accounts use."""

    async def resolve_addresses(self, host: str) -> list[str]:
        assert host == "localhost", host
        return ["127.0.0.1"]


def make_service(
    dns_lab: DnsLab | None, *, ca_file: str | None, **overrides: object
) -> VerifyService:
    """A service resolving through the lab DNS server (real dnspython), or ``LabResolver``."""
    values: dict[str, object] = {
        "allow_private_hosts": True,
        "dns_nameservers": [dns_lab.nameserver] if dns_lab else [],
        "connect_timeout": 5.0,
        "verify_roundtrip_timeout": 30.0,
        "ca_file": ca_file or "",
    }
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    resolver = DnsResolver.from_settings(settings) if dns_lab else LabResolver()
    return VerifyService(settings=settings, resolver=resolver)


def account(
    mail_lab: MailLab,
    *,
    smtp_security: str = "starttls",
    smtp_port: int | None = None,
    imap: bool = True,
    imap_security: str = "tls",
    imap_port: int | None = None,
    host: str = "localhost",
    pin: str | None = None,
) -> AccountConfig:
    smtp_port = smtp_port or (
        mail_lab.submission_port if smtp_security == "starttls" else mail_lab.smtps_port
    )
    imap_port = imap_port or (mail_lab.imaps_port if imap_security == "tls" else mail_lab.imap_port)
    return AccountConfig(
        email=USER,
        display_name="Lab User",
        smtp=Endpoint(
            host=host,
            port=smtp_port,
            security=smtp_security,
            username=USER,  # type: ignore[arg-type]
            pin_sha256=pin,
        ),
        imap=Endpoint(
            host=host,
            port=imap_port,
            security=imap_security,
            username=USER,  # type: ignore[arg-type]
            pin_sha256=pin,
        )
        if imap
        else None,
    )


def statuses(report: VerificationReport) -> dict[str, str]:
    return {s.stage.value: s.status.value for s in report.stages}


def only_failure(report: VerificationReport) -> StageResult:
    failed = [s for s in report.stages if s.status is StageStatus.FAILED]
    assert len(failed) == 1, statuses(report)
    after = report.stages[report.stages.index(failed[0]) + 1 :]
    assert all(s.status is StageStatus.SKIPPED for s in after), statuses(report)
    return failed[0]


@pytest.mark.lab
@pytest.mark.parametrize(
    ("smtp_security", "imap_security"), [("starttls", "tls"), ("tls", "starttls")]
)
async def test_good_credentials_every_stage_ok_and_found_in_inbox(
    mail_lab: MailLab, smtp_security: str, imap_security: str
) -> None:
    acct = account(mail_lab, smtp_security=smtp_security, imap_security=imap_security)
    progress: list[StageResult] = []
    report = await make_service(None, ca_file=str(mail_lab.ca_pem_path)).verify(
        acct, password=Secret(PASSWORD), progress=progress.append
    )

    assert report.outcome is Outcome.VERIFIED, report.to_dict()
    assert [s.stage for s in report.stages] == planned_stages(acct)
    assert all(s.status is StageStatus.OK for s in report.stages)
    assert all(isinstance(s.duration_ms, int) and s.duration_ms >= 0 for s in report.stages)
    assert [p.stage for p in progress] == planned_stages(acct)  # live, in order
    trip = report.roundtrip
    assert trip is not None and trip.arrived
    assert (trip.landed_in, trip.folder) == ("inbox", "INBOX")
    assert (
        trip.sent_copy is False and trip.sent_folder == "Sent"
    )  # Dovecot files no Sent copy itself
    # Found, then deleted: it does not stay in the business's mailbox (nor reach the CRM).
    assert trip.removed is True
    assert not [m for m in mail_lab.messages(USER) if m["Message-ID"] == trip.message_id]

    data = report.to_dict()
    text = json.dumps(data)
    assert PASSWORD not in text.replace('"password"', "")  # no secret anywhere in the report
    assert data["ok"] is True and data["code"] is None
    assert sum(s["duration_ms"] for s in data["stages"]) <= data["duration_ms"] + len(
        data["stages"]
    )


@pytest.mark.lab
async def test_pinned_certificate_replaces_the_ca(mail_lab: MailLab) -> None:
    """No CA file at all: the lab certificate is untrusted, until the account pins it."""
    leaf_pem = (
        mail_lab.ca_pem_path.with_name("server-chain.pem")
        .read_text()
        .split("-----END CERTIFICATE-----")[0]
    )
    leaf_der = ssl.PEM_cert_to_DER_cert(leaf_pem + "-----END CERTIFICATE-----\n")
    pin = hashlib.sha256(leaf_der).hexdigest()
    service = make_service(None, ca_file=None)

    unpinned = await service.verify(
        account(mail_lab, smtp_security="tls"), password=Secret(PASSWORD)
    )
    failed = only_failure(unpinned)
    assert (failed.stage, failed.code) == (Stage.SMTP_TLS, "tls.certificate_invalid")

    pinned = await service.verify(
        account(mail_lab, smtp_security="tls", pin=pin), password=Secret(PASSWORD)
    )
    assert pinned.outcome is Outcome.VERIFIED, pinned.to_dict()


@pytest.mark.lab
async def test_wrong_password(mail_lab: MailLab) -> None:
    report = await make_service(None, ca_file=str(mail_lab.ca_pem_path)).verify(
        account(mail_lab), password=Secret("definitely-wrong")
    )
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.SMTP_AUTH, "auth.invalid_credentials")
    assert failed.server_text and failed.server_text.startswith("535")
    assert report.outcome is Outcome.FAILED and not report.ok
    assert "definitely-wrong" not in json.dumps(report.to_dict())


@pytest.mark.lab
async def test_implicit_tls_against_the_starttls_port(mail_lab: MailLab) -> None:
    acct = account(mail_lab, smtp_security="tls", smtp_port=mail_lab.submission_port)
    report = await make_service(None, ca_file=str(mail_lab.ca_pem_path)).verify(
        acct, password=Secret(PASSWORD)
    )
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.SMTP_TLS, "tls.mode_mismatch")


@pytest.mark.lab
async def test_starttls_against_the_implicit_tls_port(mail_lab: MailLab) -> None:
    acct = account(mail_lab, smtp_security="starttls", smtp_port=mail_lab.smtps_port)
    service = make_service(None, ca_file=str(mail_lab.ca_pem_path), connect_timeout=1.0)
    report = await service.verify(acct, password=Secret(PASSWORD))
    failed = only_failure(report)
    # The server waits for a TLS ClientHello and never greets in plain text.
    assert (failed.stage, failed.code) == (Stage.SMTP_GREETING, "tls.mode_mismatch")


@pytest.mark.lab
async def test_imap_mode_mismatch_after_smtp_succeeded(mail_lab: MailLab) -> None:
    acct = account(mail_lab, imap_security="tls", imap_port=mail_lab.imap_port)
    report = await make_service(None, ca_file=str(mail_lab.ca_pem_path)).verify(
        acct, password=Secret(PASSWORD)
    )
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.IMAP_TLS, "tls.mode_mismatch")
    assert report.stage(Stage.SMTP_AUTH).status is StageStatus.OK
    assert report.roundtrip is None  # nothing was sent


async def test_self_signed_refused_unless_pinned(faults: FaultServers) -> None:
    server = faults.selfsigned_smtps_server()
    acct = AccountConfig(
        email=USER, smtp=Endpoint(host="127.0.0.1", port=server.port, security="tls", username=USER)
    )
    service = make_service(None, ca_file=None)
    report = await service.verify(acct, password=Secret(PASSWORD))
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.SMTP_TLS, "tls.certificate_invalid")

    pinned = AccountConfig(
        email=USER,
        smtp=Endpoint(
            host="127.0.0.1",
            port=server.port,
            security="tls",
            username=USER,
            pin_sha256=server.fingerprint_sha256,
        ),
    )
    report = await service.verify(pinned, password=Secret(PASSWORD))
    assert report.stage(Stage.SMTP_TLS).status is StageStatus.OK
    # The fault server refuses every login: the pin got us past TLS to AUTH.
    assert only_failure(report).stage is Stage.SMTP_AUTH


async def test_closed_port(faults: FaultServers) -> None:
    acct = AccountConfig(
        email=USER,
        smtp=Endpoint(
            host="127.0.0.1", port=faults.closed_port(), security="starttls", username=USER
        ),
    )
    report = await make_service(None, ca_file=None).verify(acct, password=Secret(PASSWORD))
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.SMTP_TCP, "net.connection_refused")
    assert report.stage(Stage.SMTP_DNS).status is StageStatus.OK


async def test_unresolvable_host(dns_lab: DnsLab) -> None:
    acct = AccountConfig(
        email=USER,
        smtp=Endpoint(host="nosuchhost.example.test", port=587, security="starttls", username=USER),
    )
    report = await make_service(dns_lab, ca_file=None).verify(acct, password=Secret(PASSWORD))
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.SMTP_DNS, "net.host_not_found")
    assert any("nosuchhost" in q.name for q in dns_lab.queries)


async def test_server_that_never_greets(faults: FaultServers) -> None:
    server = faults.silent_server()
    acct = AccountConfig(
        email=USER,
        smtp=Endpoint(host="127.0.0.1", port=server.port, security="starttls", username=USER),
    )
    started = time.monotonic()
    report = await make_service(None, ca_file=None, connect_timeout=0.5).verify(
        acct, password=Secret(PASSWORD)
    )
    assert time.monotonic() - started < 3
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.SMTP_GREETING, "net.timeout")
    assert failed.duration_ms is not None and failed.duration_ms >= 450


async def test_private_hosts_refused_without_the_setting(faults: FaultServers) -> None:
    acct = AccountConfig(
        email=USER,
        smtp=Endpoint(
            host="127.0.0.1", port=faults.closed_port(), security="starttls", username=USER
        ),
    )
    report = await make_service(None, ca_file=None, allow_private_hosts=False).verify(
        acct, password=Secret(PASSWORD)
    )
    failed = only_failure(report)
    assert (failed.stage, failed.code) == (Stage.SMTP_DNS, "net.host_not_allowed")


@pytest.mark.lab
async def test_the_operators_own_network_admits_its_mail_server_and_nothing_else(mail_lab: MailLab) -> None:
    """On premises: MAILPORT_ALLOW_PRIVATE_NETWORKS lists the network of the company's mail
    server (here the lab's, on loopback), which then verifies end to end, round trip included,
    without MAILPORT_ALLOW_PRIVATE_HOSTS; listing another network leaves it refused."""
    acct = account(mail_lab)
    own = make_service(None, ca_file=str(mail_lab.ca_pem_path), allow_private_hosts=False,
                       allow_private_networks=["127.0.0.0/8"])
    report = await own.verify(acct, password=Secret(PASSWORD))
    assert report.outcome is Outcome.VERIFIED, report.to_dict()
    assert report.roundtrip is not None and report.roundtrip.arrived
    elsewhere = make_service(None, ca_file=str(mail_lab.ca_pem_path), allow_private_hosts=False,
                             allow_private_networks=["10.0.0.0/8"])
    failed = only_failure(await elsewhere.verify(acct, password=Secret(PASSWORD)))
    assert (failed.stage, failed.code) == (Stage.SMTP_DNS, "net.host_not_allowed")


@pytest.mark.lab
async def test_the_test_mail_speaks_the_users_language(mail_lab: MailLab) -> None:
    """Without IMAP nothing looks for (or deletes) the test mail: it waits in the inbox, in Dutch."""
    acct = account(mail_lab, imap=False)
    report = await make_service(None, ca_file=str(mail_lab.ca_pem_path)).verify(
        acct, password=Secret(PASSWORD), lang="nl"
    )
    assert report.roundtrip is not None and report.roundtrip.sent
    delivered = mail_lab.wait_for_message(USER, headers={"Message-ID": report.roundtrip.message_id}, timeout=10)
    assert delivered["Subject"] == "Testbericht: we controleren of je mailbox werkt"
    assert "automatisch verwijderd" in delivered.get_content()
    assert f"Test-ID: {delivered['X-Mailport-Test']}" in delivered.get_content()  # the label too
    assert "Test ID" not in delivered.get_content()
    assert "mailport" not in delivered["Subject"] + delivered.get_content()


@pytest.mark.lab
@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_the_imap_port_typed_as_the_smtp_port_is_named(mail_lab: MailLab, security: str) -> None:
    """Issue 16 item 7: not "something went wrong that we could not recognise"."""
    port = mail_lab.imaps_port if security == "tls" else mail_lab.imap_port
    acct = account(mail_lab, smtp_security=security, smtp_port=port)
    report = await make_service(None, ca_file=str(mail_lab.ca_pem_path), connect_timeout=3.0).verify(
        acct, password=Secret(PASSWORD))
    failed = only_failure(report)
    assert failed.code == "net.wrong_service", (failed.stage, failed.message, failed.server_text)
    # The steps that worked (with implicit TLS: the handshake too) say so, none "skipped".
    before = report.stages[:report.stages.index(failed)]
    assert before and all(s.status is StageStatus.OK for s in before), statuses(report)
