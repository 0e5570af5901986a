"""Smoke tests of the test lab itself: the real servers work as the other tests expect.

Tests that need Dovecot/Postfix carry the ``lab`` mark; the sink, fault and DNS servers are
in-process Python and run everywhere.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
import uuid
from email.message import EmailMessage
from hashlib import sha256

import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

lab = pytest.mark.lab


def _message(sender: str, to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Hello from the lab smoke test.\n")
    return msg


@lab
def test_imaps_login_verified_by_lab_ca(mail_lab):
    client = mail_lab.imap_client("user@example.test")
    try:
        folders = {name: flags for flags, _, name in client.list_folders()}
        assert "INBOX" in folders
        special = {flag for flags in folders.values() for flag in flags}
        assert {b"\\Sent", b"\\Junk", b"\\Trash", b"\\Drafts"} <= special
    finally:
        client.logout()


@lab
def test_starttls_login_on_plain_port(mail_lab):
    client = mail_lab.imap_client("user2@example.test", starttls=True)
    try:
        assert client.select_folder("INBOX")[b"UIDVALIDITY"]
    finally:
        client.logout()


@lab
def test_submission_with_auth_delivers_to_dovecot_inbox(mail_lab):
    subject = f"smoke {uuid.uuid4().hex}"
    with mail_lab.smtp_client("user@example.test") as smtp:
        smtp.send_message(_message("user@example.test", "user2@example.test", subject))
    mail_lab.wait_for_message("user2@example.test", subject=subject)
    client = mail_lab.imap_client("user2@example.test")
    try:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["SUBJECT", subject])
    finally:
        client.logout()


@lab
def test_unknown_user_bounces_back_to_sender(mail_lab):
    subject = f"bounce {uuid.uuid4().hex}"
    with mail_lab.smtp_client("user@example.test", implicit_tls=True) as smtp:
        smtp.send_message(_message("user@example.test", "nobody@example.test", subject))
    dsn = mail_lab.wait_for_message(
        "user@example.test",
        lambda m: m.get_content_type() == "multipart/report" and subject in m.as_string())
    assert "MAILER-DAEMON" in dsn["From"]
    assert dsn.get_param("report-type") == "delivery-status"
    assert "5.1.1" in dsn.as_string()


@lab
def test_added_user_can_log_in_while_running(mail_lab):
    address = f"new-{uuid.uuid4().hex[:8]}@example.test"
    mail_lab.add_user(address, "s3cret")
    mail_lab.imap_client(address).logout()


# ---------------------------------------------------------------------------- SMTP sink
def _sink_message(subject: str = "sink test") -> bytes:
    msg = _message("user@example.test", "rcpt@example.test", subject)
    return msg.as_bytes()


def test_sink_records_auth_envelope_and_bytes(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.login("user@example.test", "password")
        client.sendmail("user@example.test", ["rcpt@example.test"], _sink_message("recorded"))
    (got,) = smtp_sink.wait_for(1)
    assert got.mail_from == "user@example.test"
    assert got.rcpt_tos == ["rcpt@example.test"]
    assert got.auth_user == "user@example.test"
    assert got.tls is False
    assert got.message()["Subject"] == "recorded"
    assert smtp_sink.auth_attempts[-1].success


def test_sink_wrong_password_is_535(smtp_sink):
    with (smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client,
          pytest.raises(smtplib.SMTPAuthenticationError) as exc):
        client.login("user@example.test", "wrong")
    assert exc.value.smtp_code == 535


def test_sink_tempfails_first_rcpts_then_accepts(smtp_sink):
    smtp_sink.fail_rcpt(2)
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.ehlo()
        codes = []
        for _ in range(3):
            client.mail("user@example.test")
            codes.append(client.rcpt("rcpt@example.test")[0])
            client.rset()
    assert codes == [451, 451, 250]


def test_sink_tempfails_data_then_accepts(smtp_sink):
    smtp_sink.fail_data(1, "451 4.7.1 Greylisted, try again")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as exc:
            client.sendmail("user@example.test", ["rcpt@example.test"], _sink_message())
        assert exc.value.smtp_code == 451 and b"Greylisted" in exc.value.smtp_error
        client.sendmail("user@example.test", ["rcpt@example.test"], _sink_message())
    assert len(smtp_sink.wait_for(1)) == 1 and smtp_sink.data_calls == 2


def test_sink_rejects_unknown_recipient_with_550_511(smtp_sink):
    smtp_sink.reject_recipient("gone@example.test")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        refused = client.sendmail("user@example.test", ["gone@example.test", "ok@example.test"],
                                  _sink_message())
    code, text = refused["gone@example.test"]
    assert code == 550 and text.startswith(b"5.1.1")
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ["ok@example.test"]


def test_sink_custom_multiline_auth_reply(smtp_sink):
    smtp_sink.set_auth_reply("534-5.7.9 Application-specific password required.\r\n"
                             "534 5.7.9 Learn more at https://support.example.test/apppw")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.ehlo()
        code, text = client.docmd("AUTH", "PLAIN AHVzZXJAZXhhbXBsZS50ZXN0AHBhc3N3b3Jk")
    assert code == 534
    assert b"Application-specific password required" in text and b"Learn more" in text


def test_sink_starttls_and_implicit_tls_verify_with_lab_ca(lab_ca, smtp_sink_starttls,
                                                           smtp_sink_tls):
    ctx = lab_ca.client_context()
    with smtplib.SMTP("localhost", smtp_sink_starttls.port, timeout=5) as client:
        client.starttls(context=ctx)
        client.login("user@example.test", "password")
        client.sendmail("user@example.test", ["a@example.test"], _sink_message())
    with smtplib.SMTP_SSL("localhost", smtp_sink_tls.port, timeout=5, context=ctx) as client:
        client.login("user2@example.test", "password")
        client.sendmail("user2@example.test", ["b@example.test"], _sink_message())
    assert smtp_sink_starttls.wait_for(1)[0].tls is True
    assert smtp_sink_tls.wait_for(1)[0].tls is True


def test_sink_accepts_smtputf8_addresses(smtp_sink):
    raw = ("From: jürgen@example.test\r\nTo: zoë@example.test\r\nSubject: Grüße\r\n\r\n"
           "Hallo\r\n").encode()
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.ehlo()
        assert client.has_extn("smtputf8")
        client.sendmail("jürgen@example.test", ["zoë@example.test"], raw,
                        mail_options=["SMTPUTF8"])
    (got,) = smtp_sink.wait_for(1)
    assert (got.mail_from, got.rcpt_tos) == ("jürgen@example.test", ["zoë@example.test"])
    assert got.message()["Subject"] == "Grüße"


# ---------------------------------------------------------------------------- fault servers
def test_closed_port_refuses_at_once(faults):
    port = faults.closed_port()
    t0 = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert time.monotonic() - t0 < 1


def test_silent_server_accepts_and_never_greets(faults):
    ep = faults.silent_server()
    with socket.create_connection((ep.host, ep.port), timeout=2) as s:
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):
            s.recv(100)


def test_pop3_server_greets_plus_ok(faults):
    ep = faults.pop3_server()
    with socket.create_connection((ep.host, ep.port), timeout=2) as s:
        assert s.recv(100).startswith(b"+OK")
        s.sendall(b"EHLO x\r\n")
        assert s.recv(100).startswith(b"-ERR")


def test_selfsigned_server_fails_verification_and_has_fingerprint(lab_ca, faults):
    ep = faults.selfsigned_smtps_server()
    with (pytest.raises(ssl.SSLCertVerificationError),
          socket.create_connection((ep.host, ep.port), timeout=2) as raw):
        lab_ca.client_context().wrap_socket(raw, server_hostname="localhost")
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with (socket.create_connection((ep.host, ep.port), timeout=2) as raw,
          unverified.wrap_socket(raw, server_hostname="localhost") as tls):
        der = tls.getpeercert(binary_form=True)
        assert tls.recv(100).startswith(b"220 ")
    assert sha256(der).hexdigest() == ep.fingerprint_sha256
    assert ep.fingerprint_sha256_colons.replace(":", "").lower() == ep.fingerprint_sha256


# ---------------------------------------------------------------------------- DNS
ZONE = """
$ORIGIN example.test.
$TTL 60
@            SOA   ns1 hostmaster 2026112301 3600 600 86400 60
@            MX    10 mx1
@            MX    20 mx2.example.net.
@            TXT   "v=spf1 include:_spf.example.test" " -all"
_imaps._tcp  SRV   0 1 993 imap
_submissions._tcp SRV 0 1 465 smtp
imap         A     127.0.0.1
imap         AAAA  ::1
smtp         CNAME imap
"""


def test_dns_lab_answers_mx_txt_srv_a_aaaa_cname(dns_lab):
    dns_lab.load_zone(ZONE)
    r = dns_lab.resolver()
    mx = sorted((a.preference, a.exchange.to_text()) for a in r.resolve("example.test", "MX"))
    assert mx == [(10, "mx1.example.test."), (20, "mx2.example.net.")]
    (txt,) = r.resolve("example.test", "TXT")
    assert txt.strings == (b"v=spf1 include:_spf.example.test", b" -all")
    (srv,) = r.resolve("_imaps._tcp.example.test", "SRV")
    assert (srv.port, srv.target.to_text()) == (993, "imap.example.test.")
    assert [a.address for a in r.resolve("smtp.example.test", "A")] == ["127.0.0.1"]
    assert [a.address for a in r.resolve("imap.example.test", "AAAA")] == ["::1"]
    assert dns_lab.nameserver == f"127.0.0.1:{dns_lab.port}"


def test_dns_lab_negative_answers_carry_soa(dns_lab):
    dns_lab.load_zone(ZONE)
    q = dns.message.make_query("nope.example.test", "A")
    resp = dns.query.udp(q, "127.0.0.1", port=dns_lab.port, timeout=2)
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert resp.authority and resp.authority[0].rdtype == dns.rdatatype.SOA
    nodata = dns.query.tcp(dns.message.make_query("imap.example.test", "MX"), "127.0.0.1",
                           port=dns_lab.port, timeout=2)
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer and nodata.authority
    ent = dns.query.udp(dns.message.make_query("_tcp.example.test", "A"), "127.0.0.1",
                        port=dns_lab.port, timeout=2)
    assert ent.rcode() == dns.rcode.NOERROR  # empty non-terminal


def test_dns_lab_replace_remove_and_faults(dns_lab):
    dns_lab.load_zone(ZONE)
    dns_lab.load_zone('$ORIGIN example.test.\n@ 60 TXT "v=spf1 -all"\n')
    r = dns_lab.resolver(timeout=1)
    assert [t.strings for t in r.resolve("example.test", "TXT")] == [(b"v=spf1 -all",)]
    assert len(r.resolve("example.test", "MX")) == 2  # other types kept
    dns_lab.remove("example.test", "MX")
    with pytest.raises(dns.resolver.NoAnswer):
        r.resolve("example.test", "MX")
    dns_lab.servfail("imap.example.test")
    with pytest.raises(dns.resolver.NoNameservers):
        r.resolve("imap.example.test", "A")
    dns_lab.timeout("smtp.example.test")
    t0 = time.monotonic()
    with pytest.raises(dns.resolver.LifetimeTimeout):
        r.resolve("smtp.example.test", "A")
    assert time.monotonic() - t0 < 3
    dns_lab.clear_faults()
    assert r.resolve("imap.example.test", "A")
