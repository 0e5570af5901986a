"""Real failures from real servers on loopback, classified: the exceptions adapters will see.

The fault servers (``faults`` fixture) are plain sockets started in-process and need nothing
installed; the ``lab``-marked tests use the real Dovecot and Postfix of ``mail_lab``.
"""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Awaitable, Callable

import aiosmtplib
import imapclient
import imapclient.exceptions
import pytest

from lab import FaultServers, MailLab
from mailport.core.diagnostics import Diagnosis, classify_exception

TIMEOUT = 2.0


async def _smtp_failure(
    connect: Callable[[], Awaitable[object]], *, stage: str = "connect"
) -> Diagnosis:
    with pytest.raises(Exception) as caught:
        await connect()
    return classify_exception(caught.value, protocol="smtp", stage=stage)


async def test_refused(faults: FaultServers) -> None:
    smtp = aiosmtplib.SMTP(hostname=faults.host, port=faults.closed_port(), timeout=TIMEOUT)
    diagnosis = await _smtp_failure(smtp.connect)
    assert diagnosis.code == "net.connection_refused"
    assert diagnosis.retryable is True


async def test_timeout(faults: FaultServers) -> None:
    silent = faults.silent_server()
    smtp = aiosmtplib.SMTP(hostname=silent.host, port=silent.port, timeout=0.5)
    assert (await _smtp_failure(smtp.connect)).code == "net.timeout"


async def test_pop3_server_on_the_smtp_port(faults: FaultServers) -> None:
    pop3 = faults.pop3_server()
    smtp = aiosmtplib.SMTP(hostname=pop3.host, port=pop3.port, timeout=TIMEOUT)
    assert (await _smtp_failure(smtp.connect, stage="greeting")).code == "net.wrong_service"


def test_pop3_server_on_the_imap_port(faults: FaultServers) -> None:
    pop3 = faults.pop3_server()
    with pytest.raises(imaplib.IMAP4.error) as caught:
        imaplib.IMAP4(pop3.host, pop3.port, timeout=TIMEOUT)
    diagnosis = classify_exception(caught.value, protocol="imap", stage="greeting")
    assert diagnosis.code == "net.wrong_service"


def test_smtp_server_on_the_imap_port(faults: FaultServers) -> None:
    smtp = faults.banner_server(b"220 mx.example.test ESMTP Postfix\r\n")
    with pytest.raises(imaplib.IMAP4.error) as caught:
        imaplib.IMAP4(smtp.host, smtp.port, timeout=TIMEOUT)
    assert classify_exception(caught.value, protocol="imap").code == "net.wrong_service"


async def test_implicit_tls_against_a_plain_port(faults: FaultServers) -> None:
    plain = faults.banner_server(b"220 mx.example.test ESMTP ready\r\n")
    smtp = aiosmtplib.SMTP(hostname=plain.host, port=plain.port, use_tls=True, timeout=TIMEOUT)
    assert (await _smtp_failure(smtp.connect, stage="tls")).code == "tls.mode_mismatch"


async def test_self_signed_certificate(faults: FaultServers) -> None:
    server = faults.selfsigned_smtps_server()
    smtp = aiosmtplib.SMTP(hostname=server.host, port=server.port, use_tls=True, timeout=TIMEOUT,
                           tls_context=ssl.create_default_context())
    diagnosis = await _smtp_failure(smtp.connect, stage="tls")
    assert diagnosis.code == "tls.certificate_invalid"
    assert diagnosis.server_text and "CERTIFICATE_VERIFY_FAILED" in diagnosis.server_text


async def test_auth_rejected_by_the_fault_server(faults: FaultServers) -> None:
    server = faults.selfsigned_smtps_server()
    context = ssl.create_default_context(cadata=server.cert_pem.decode())
    smtp = aiosmtplib.SMTP(hostname=server.host, port=server.port, use_tls=True, timeout=TIMEOUT,
                           tls_context=context)
    await smtp.connect()
    try:
        diagnosis = await _smtp_failure(lambda: smtp.login("a@icloud.com", "wrong"), stage="auth")
    finally:
        smtp.close()
    assert diagnosis.code == "auth.invalid_credentials"  # no address given: no refinement
    assert diagnosis.server_text == "535 5.7.8 Authentication credentials invalid"


# --- the real Dovecot and Postfix -----------------------------------------------------------
@pytest.mark.lab
async def test_postfix_rejects_a_wrong_password(mail_lab: MailLab) -> None:
    smtp = aiosmtplib.SMTP(hostname=mail_lab.host, port=mail_lab.smtps_port, use_tls=True,
                           tls_context=ssl.create_default_context(cafile=str(mail_lab.ca_pem_path)),
                           timeout=10)
    await smtp.connect()
    try:
        diagnosis = await _smtp_failure(
            lambda: smtp.login("user@example.test", "not-the-password"), stage="auth"
        )
    finally:
        smtp.close()
    assert diagnosis.code == "auth.invalid_credentials"
    assert diagnosis.server_text and diagnosis.server_text.startswith("535")
    assert "not-the-password" not in diagnosis.server_text


@pytest.mark.lab
def test_dovecot_rejects_a_wrong_password(mail_lab: MailLab) -> None:
    context = ssl.create_default_context(cafile=str(mail_lab.ca_pem_path))
    client = imapclient.IMAPClient(mail_lab.host, port=mail_lab.imaps_port, ssl=True,
                                   ssl_context=context, timeout=10)
    try:
        with pytest.raises(imapclient.exceptions.LoginError) as caught:
            client.login("user@example.test", "not-the-password")
    finally:
        client.shutdown()
    diagnosis = classify_exception(caught.value, protocol="imap", stage="login")
    assert diagnosis.code == "auth.invalid_credentials"
    assert diagnosis.server_text and "AUTHENTICATIONFAILED" in diagnosis.server_text


@pytest.mark.lab
def test_implicit_tls_against_dovecot_starttls_port(mail_lab: MailLab) -> None:
    context = ssl.create_default_context(cafile=str(mail_lab.ca_pem_path))
    with pytest.raises(ssl.SSLError) as caught:
        imapclient.IMAPClient(mail_lab.host, port=mail_lab.imap_port, ssl=True,
                              ssl_context=context, timeout=10)
    diagnosis = classify_exception(caught.value, protocol="imap", stage="tls")
    assert diagnosis.code == "tls.mode_mismatch"


@pytest.mark.lab
async def test_postfix_certificate_not_trusted_without_the_lab_ca(mail_lab: MailLab) -> None:
    smtp = aiosmtplib.SMTP(hostname=mail_lab.host, port=mail_lab.smtps_port, use_tls=True,
                           tls_context=ssl.create_default_context(), timeout=10)
    diagnosis = await _smtp_failure(smtp.connect, stage="tls")
    assert diagnosis.code == "tls.certificate_invalid"
