"""The fast header path: RFC 2047 words, address lists, dates, snippets and BODYSTRUCTURE, on
literal header bytes (no email package in the code under test)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailport.adapters.imap.parser import attachments_from_bodystructure, parse_values
from mailport.core.summary import (
    AttachmentInfo,
    decode_words,
    header_fields,
    parse_addresses,
    snippet,
    summarize,
)


@pytest.mark.parametrize(("raw", "decoded"), [
    ("plain   text\t here", "plain text here"),
    ("=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "Grüße aus Köln"),
    ("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
     "If you can read this you understand the example."),  # RFC 2047 §8
    ("(=?ISO-8859-1?Q?a?= b)", "(a b)"),
    ("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab"),  # whitespace between words is dropped
    ("=?UTF-8?B?4oKs?=", "€"),
    ("=?utf-8?q?=E2=82?= =?utf-8?q?=AC_10?=", "€ 10"),  # one character split over two words
    ("Re: =?utf-8*en?q?Hi?=", "Re: Hi"),  # RFC 2231 language suffix
    ("=?x-unknown?q?caf=C3=A9?=", "café"),  # unknown charset: UTF-8
    ("=?utf-8?b?###?= stays", "=?utf-8?b?###?= stays"),  # malformed: kept as is
])
def test_decode_words(raw: str, decoded: str) -> None:
    assert decode_words(raw) == decoded


@pytest.mark.parametrize(("raw", "parsed"), [
    ("jane@customer.example", [("", "jane@customer.example")]),
    ('"Doe, John" <john@x.example>, jane@y.example (Jane Y)',
     [("Doe, John", "john@x.example"), ("Jane Y", "jane@y.example")]),
    ("=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@k.example>", [("Jürgen Müller", "jm@k.example")]),
    ('"=?utf-8?q?Ren=C3=A9e?=" <r@k.example>', [("Renée", "r@k.example")]),  # in quotes (common)
    ("Team: a@b.example, C <c@d.example>;, e@f.example",
     [("", "a@b.example"), ("C", "c@d.example"), ("", "e@f.example")]),
    ("undisclosed-recipients:;", []),
    ('"quoted \\"inner\\"" <q@x.example>', [('quoted "inner"', "q@x.example")]),
    ("Name <@route.example:user@host.example>", [("Name", "user@host.example")]),
    ("not an address, Bob <bob@x.example>", [("Bob", "bob@x.example")]),
])
def test_parse_addresses(raw: str, parsed: list[tuple[str, str]]) -> None:
    assert parse_addresses(raw) == parsed


def test_header_fields_unfold_and_join_repeated_address_fields() -> None:
    fields = header_fields(b"Subject: a long\r\n  folded subject\r\nTo: a@x.example\r\nTo: b@x.example\r\n"
                           b"X-Weird line without colon\r\nDate: Sun, 6 Dec 2026 12:00:00 +0100\r\n\r\n")
    assert fields["subject"] == "a long folded subject"
    assert fields["to"] == "a@x.example, b@x.example"
    assert "x-weird line without colon" not in fields


def test_header_fields_end_lines_at_line_feeds_only() -> None:
    """A field is cut at LF (with or without CR), not at the other characters str.splitlines
    takes for line ends; a block ended by CR alone still reads."""
    fields = header_fields("Subject: one\u2028two\x0cthree\r\nFrom: a@x.example\nTo: b@x.example\r\n\r\n".encode())
    assert fields == {"subject": "one\u2028two\x0cthree", "from": "a@x.example", "to": "b@x.example"}
    assert header_fields(b"Subject: old\rFrom: a@x.example\r\r") == {"subject": "old", "from": "a@x.example"}


def test_header_fields_names_as_spelled() -> None:
    """Names compare case-insensitively and may have blanks before the colon; a "name" with a
    blank inside, or a line starting with one, is no field; the first occurrence wins."""
    fields = header_fields(b"SUBJECT: first\r\nsubject: second\r\nFrom : a@x.example\r\nMessage-Id:<m@x>\r\n"
                           b"Not A Field: x\r\n: empty name\r\nReply-To: r@x.example\r\nreply-to: s@x.example\r\n"
                           b"X-Colon: a: b \r\n\r\nBody: not a header line either\r\n")
    assert fields == {"subject": "first", "from": "a@x.example", "message-id": "<m@x>",
                      "reply-to": "r@x.example, s@x.example", "x-colon": "a: b",
                      "body": "not a header line either"}


def test_summarize_a_reply() -> None:
    header = (b"From: =?utf-8?q?Ren=C3=A9e?= <renee@customer.example>\r\n"
              b"To: shop@example.test, \"Acc, Dept\" <acc@example.test>\r\nCc: boss@customer.example\r\n"
              b"Subject: Re: Invoice 42\r\nDate: Sun, 06 Dec 2026 12:00:00 +0100\r\n"
              b"Message-ID: <r1@customer.example>\r\nIn-Reply-To: <inv-42@shop.example>\r\n"
              b"References: <inv-41@shop.example>\r\n <inv-42@shop.example>\r\n"
              b"Content-Type: text/plain; charset=\"iso-8859-1\"\r\n"
              b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    summary = summarize(header, b"Gr=FC=DFe,\r\nwhy is it so expensive?=\r\n")
    assert (summary.from_name, summary.from_email) == ("Renée", "renee@customer.example")
    assert summary.to == (("", "shop@example.test"), ("Acc, Dept", "acc@example.test"))
    assert summary.cc == (("", "boss@customer.example"),)
    assert summary.subject == "Re: Invoice 42"
    assert summary.date == datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    assert summary.header_message_id == "<r1@customer.example>"
    assert summary.in_reply_to == "<inv-42@shop.example>"
    assert summary.references == ("<inv-41@shop.example>", "<inv-42@shop.example>")
    assert summary.snippet == "Grüße, why is it so expensive?"
    assert not summary.maybe_report


def test_summarize_flags_possible_reports_and_survives_garbage() -> None:
    assert summarize(b"From: MAILER-DAEMON@mx.example\r\n\r\n").maybe_report
    assert summarize(b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n").maybe_report
    assert summarize(b"X-Failed-Recipients: a@b.example\r\n\r\n").maybe_report
    odd = summarize(b"Subject: \xe9t\xe9\r\nDate: not a date\r\nFrom: nobody\r\n\r\n")
    assert (odd.subject, odd.date, odd.from_email) == ("été", None, None)  # latin-1 fallback


def test_snippet_of_multipart_html_and_base64() -> None:
    body = (b"--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n"
            b"--b2\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            b"PHA+SGVsbG8gPGI+d29ybGQ8L2I+ICZhbXA7IGFsbDwvcD4=\r\n--b2--\r\n"
            b"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\nJVBERi0=\r\n")
    assert snippet('multipart/mixed; boundary="b1"', "", body) == "Hello world & all"
    # A prefix cut mid base64 quantum still yields the decodable part.
    assert snippet("text/plain", "base64", b"SGVsbG8gd29y") == "Hello wor"
    assert snippet("image/png", "base64", b"iVBORw0KGgo=") == ""


def test_attachments_from_bodystructure() -> None:
    structure = parse_values([
        (b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 120 3 NIL NIL NIL NIL)'
        b'("application" "pdf" ("name" "invoice.pdf") NIL NIL "base64" 13500 NIL '
        b'("attachment" ("filename" "invoice 42.pdf")) NIL NIL)'
        b'("image" "png" NIL "<logo>" NIL "base64" 900 NIL ("inline" NIL) NIL NIL)'
        b'("application" "octet-stream" NIL NIL NIL "base64" 10 NIL '
        b'("attachment" ("filename*" "utf-8\'\'R%C3%A9sum%C3%A9.txt")) NIL NIL)'
        b'("message" "rfc822" NIL NIL NIL "7bit" 500 NIL ("text" "plain" NIL NIL NIL "7bit" 10 1) 20 NIL '
        b'("attachment" NIL) NIL NIL)'
        b' "mixed" ("boundary" "b1") NIL NIL NIL)')])[0]
    assert isinstance(structure, list)
    assert attachments_from_bodystructure(structure) == (
        AttachmentInfo(filename="invoice 42.pdf", content_type="application/pdf", size=13500),
        AttachmentInfo(filename="Résumé.txt", content_type="application/octet-stream", size=10),
        AttachmentInfo(filename=None, content_type="message/rfc822", size=500),
    )
    single = parse_values([b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 1 NIL NIL NIL NIL)'])[0]
    assert isinstance(single, list) and attachments_from_bodystructure(single) == ()


def test_date_fast_path_reads_as_the_email_package() -> None:
    import random
    from email.utils import parsedate_to_datetime

    from mailport.core.summary import _date

    def reference(value: str) -> datetime | None:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    rng = random.Random(19)
    samples = ["Sun, 06 Dec 2026 15:52:42 +0000", "6 Dec 2026 15:52:42 -0000", "Mon, 31 Feb 2026 10:00:00 +0100",
               "Tue, 1 jan 1999 00:00 +2359", "01 Jan 2026 10:00:00 +9999", "Xyz, 01 Foo 2026 10:00:00 +0000",
               "01 Jan 2026 10:00:00 -0530 (IST)", "Sat, 29 Feb 2025 10:00:00 +0000"]
    for _ in range(3000):
        samples.append(f"{rng.choice(['', 'Sun, ', 'Fri, '])}{rng.randint(0, 35):02d} "
                       f"{rng.choice(['Jan', 'feb', 'MAR', 'Sep', 'Dec'])} {rng.choice([1970, 2026, 1000, 9999])} "
                       f"{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}"
                       f"{rng.choice(['', f':{rng.randint(0, 61):02d}'])} "
                       f"{rng.choice(['+0000', '-0000', '+0530', '-1200', '+2400', '-9959', '+0060'])}")
    for value in samples:
        assert _date(value) == reference(value), value
    assert _date("Sun, 06 Dec 2026 15:52:42 +0100") == datetime(2026, 12, 6, 14, 52, 42, tzinfo=UTC)
