"""Smoke tests of the test lab itself: the real servers work as the other tests expect."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

pytestmark = pytest.mark.lab


def _message(sender: str, to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Hello from the lab smoke test.\n")
    return msg


def test_imaps_login_verified_by_lab_ca(mail_lab):
    client = mail_lab.imap_client("user@example.test")
    try:
        folders = {name: flags for flags, _, name in client.list_folders()}
        assert "INBOX" in folders
        special = {flag for flags in folders.values() for flag in flags}
        assert {b"\\Sent", b"\\Junk", b"\\Trash", b"\\Drafts"} <= special
    finally:
        client.logout()


def test_starttls_login_on_plain_port(mail_lab):
    client = mail_lab.imap_client("user2@example.test", starttls=True)
    try:
        assert client.select_folder("INBOX")[b"UIDVALIDITY"]
    finally:
        client.logout()


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


def test_added_user_can_log_in_while_running(mail_lab):
    address = f"new-{uuid.uuid4().hex[:8]}@example.test"
    mail_lab.add_user(address, "s3cret")
    mail_lab.imap_client(address).logout()
