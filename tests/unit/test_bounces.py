"""core.bounces: the corpus of MTA/provider formats, status refinement, hard/soft rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailport.core.bounces import classify_status, parse_bounce

CORPUS = Path(__file__).with_name("bounce_corpus")
EXPECTED: dict[str, dict[str, object]] = {
    name: value for name, value in json.loads((CORPUS / "expected.json").read_text()).items()
    if not name.startswith("_")
}


def test_every_sample_has_an_expectation() -> None:
    samples = {p.name for p in CORPUS.glob("*.eml")}
    assert samples == set(EXPECTED)
    assert len(samples) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_sample(name: str) -> None:
    expected = EXPECTED[name]
    report = parse_bounce((CORPUS / name).read_bytes())
    assert report.kind == expected["kind"]
    assert report.is_bounce == (expected["kind"] == "bounce")
    assert report.original_message_id == expected["original_message_id"]
    got = [{"recipient": r.recipient, "status": r.status, "hard": r.hard} for r in report.recipients]
    assert got == expected["recipients"]
    for recipient in report.recipients:
        assert recipient.reason  # every failure says why


def test_json_shape_of_the_cli() -> None:
    report = parse_bounce((CORPUS / "postfix_user_unknown.eml").read_bytes())
    data = report.to_json()
    assert set(data) == {"is_bounce", "recipients", "original_message_id"}
    assert data["is_bounce"] is True
    assert data["recipients"] == [{
        "recipient": "nobody@customer.example", "status": "5.1.1", "hard": True,
        "reason": "the mailbox does not exist",
    }]
    json.dumps(data)  # serializable as is


def test_non_bounces_have_no_recipients_in_json() -> None:
    for name in ("postfix_success.eml", "autoreply_rfc3834.eml", "arf_complaint.eml", "postfix_delayed.eml"):
        data = parse_bounce((CORPUS / name).read_bytes()).to_json()
        assert data["is_bounce"] is False and data["recipients"] == []


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        ("5.0.0", "550 5.0.0 <x@y.example>... User unknown", ("5.1.1", "unknown_user", True)),
        ("5.0.0", "552 Mailbox full", ("5.2.2", "mailbox_full", False)),
        ("5.0.0", "550 Host or domain name not found", ("5.1.2", "unknown_domain", True)),
        ("5.0.0", "550 5.7.1 Service unavailable; client host blocked using Spamhaus", ("5.7.1", "spam_or_policy",
                                                                                        False)),
        ("5.0.0", "something nobody documented", ("5.0.0", "other", False)),
        (None, "550 no such user here", ("5.1.1", "unknown_user", True)),
        (None, "452 4.2.2 mailbox full", ("4.2.2", "mailbox_full", False)),
        ("4.0.0", "user unknown", ("4.1.1", "unknown_user", False)),  # a 4xx is never hard
        ("5.1.1", "", ("5.1.1", "unknown_user", True)),
        ("5.2.1", "account disabled", ("5.2.1", "mailbox_disabled", True)),
        ("5.4.7", "delivery time expired", ("5.4.7", "expired", False)),
        ("5.3.4", "message too big", ("5.3.4", "message_too_large", False)),
        ("5.7.1", "relay access denied", ("5.7.1", "spam_or_policy", False)),
        ("5.1.10", "Recipient not found by SMTP address lookup", ("5.1.10", "unknown_user", True)),
        ("5.1.10", "does not accept mail (nullMX)", ("5.1.10", "no_mail_accepted", True)),
        ("bogus", "", (None, "other", False)),
    ],
)
def test_classify_status(status: str | None, text: str, expected: tuple[str | None, str, bool]) -> None:
    assert classify_status(status, text) == expected


def test_message_without_any_structure_is_not_a_bounce() -> None:
    report = parse_bounce(b"Subject: hello\r\nFrom: a@b.example\r\n\r\nhi there\r\n")
    assert report.kind == "not_a_bounce" and not report.recipients


def test_garbage_does_not_crash() -> None:
    truncated = b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n--x"
    no_recipient = (b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
                    b"--x\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--x--\r\n")
    for raw in (b"", b"\x00\xff\xfe", truncated, no_recipient):
        assert parse_bounce(raw).is_bounce is False


def test_addressed_to_prefers_envelope_headers_for_verp() -> None:
    raw = (b"X-Original-To: bounces+m_123@rp.shop.example\r\nDelivered-To: bounces+m_123@rp.shop.example\r\n"
           b"To: billing@shop.example\r\nFrom: MAILER-DAEMON@x.example\r\nSubject: Undelivered Mail\r\n\r\nhi\r\n")
    report = parse_bounce(raw)
    assert report.addressed_to == ("bounces+m_123@rp.shop.example", "billing@shop.example")


def test_str_input_is_accepted() -> None:
    text = (CORPUS / "qmail_no_mailbox.eml").read_text()
    assert parse_bounce(text).recipients[0].status == "5.1.1"
