"""core.message: the bytes are parsed back with the stdlib parser and compared with the input."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses

import pytest

from mailport.core.message import (
    Attachment,
    Envelope,
    Mailbox,
    MessageDraft,
    build_message,
    guess_content_type,
    sent_copy,
)
from mailport.errors import AddressError, HeaderInjectionError, ValidationError

NOW = datetime(2026, 11, 23, 12, 30, 5, tzinfo=UTC)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
XML = "<Invoice xmlns='urn:oasis'>€ 12,50 – Jürgen</Invoice>".encode()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(reversed(range(256))) * 7


def build(draft: MessageDraft, **kwargs: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {
        "message_id_domain": "mail.example.test",
        "now": NOW,
        "make_id": lambda: "0123abcd",
    }
    options.update(kwargs)
    return build_message(draft, **options)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def content(part: EmailMessage | None) -> str:
    """Decoded text of a part, with the wire's CRLF turned back into Python newlines."""
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def invoice(**overrides: object) -> MessageDraft:
    fields: dict[str, object] = {
        "from_": Mailbox.parse("billing@example.test", name="Bakkerij Ünal, B.V."),
        "to": [Mailbox.parse("jan@example.test", name='Jan "de Bakker" Jansen')],
        "cc": ["boekhouding@example.test"],
        "bcc": ["archive@example.test"],
        "reply_to": ["support@example.test"],
        "subject": "Factuur 2026-0042 – € 1.234,50",
        "text": "Beste Jan,\n\nIn de bijlage vindt u de factuur.\n",
        "html": "<p>Beste Jan,</p><p>In de bijlage vindt u de factuur.</p>",
        "attachments": [
            Attachment(filename="factuur-2026-0042.pdf", content=PDF),
            Attachment(filename="Rechnung Müller €.xml", content=XML),
            Attachment(filename="請求書.png", content=PNG),
        ],
        "headers": {"X-Invoice-Id": "2026-0042", "Auto-Submitted": "auto-generated"},
        "metadata": {"document_id": "inv_42"},
    }
    fields.update(overrides)
    return MessageDraft.create(**fields)  # type: ignore[arg-type]


def test_invoice_with_three_attachments_round_trips_byte_identical() -> None:
    built = build(invoice())
    parsed = parse(built.raw)

    assert parsed.get_content_type() == "multipart/mixed"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "multipart/alternative",
        "application/pdf",
        "application/xml",
        "image/png",
    ]
    alternative = [p.get_content_type() for p in parts[0].iter_parts()]
    assert alternative == ["text/plain", "text/html"]

    attachments = list(parsed.iter_attachments())
    assert [a.get_filename() for a in attachments] == [
        "factuur-2026-0042.pdf",
        "Rechnung Müller €.xml",
        "請求書.png",
    ]
    for sent, original in zip(attachments, (PDF, XML, PNG), strict=True):
        assert sent["Content-Transfer-Encoding"] == "base64"
        payload = sent.get_payload(decode=True)
        assert hashlib.sha256(payload).hexdigest() == hashlib.sha256(original).hexdigest()
    # Older clients read the name from Content-Type; RFC 2231 encoded there too.
    assert attachments[1].get_param("name") == "Rechnung Müller €.xml"
    assert "filename*=utf-8''Rechnung%20M%C3%BCller%20%E2%82%AC.xml" in built.raw.decode()

    body = content(parsed.get_body(preferencelist=("plain",)))
    assert body == "Beste Jan,\n\nIn de bijlage vindt u de factuur.\n"
    assert "<p>Beste Jan,</p>" in content(parsed.get_body(preferencelist=("html",)))


def test_headers_decode_and_are_ascii_on_the_wire() -> None:
    built = build(invoice())
    raw = built.raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    parsed = parse(raw)
    assert parsed["Subject"] == "Factuur 2026-0042 – € 1.234,50"
    assert parsed["Date"] == "Mon, 23 Nov 2026 12:30:05 +0000"
    assert parsed["Message-ID"] == "<0123abcd@mail.example.test>"
    assert built.message_id == "<0123abcd@mail.example.test>"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["X-Invoice-Id"] == "2026-0042"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert getaddresses([str(parsed["From"])]) == [("Bakkerij Ünal, B.V.", "billing@example.test")]
    assert getaddresses([str(parsed["To"])]) == [('Jan "de Bakker" Jansen', "jan@example.test")]
    assert parsed["Cc"] == "boekhouding@example.test"
    assert parsed["Reply-To"] == "support@example.test"


def test_bcc_is_in_the_envelope_only() -> None:
    built = build(invoice())
    assert b"archive@example.test" not in built.raw
    assert b"Bcc" not in built.raw
    assert built.envelope.mail_from == "billing@example.test"
    assert built.envelope.rcpt_to == (
        "jan@example.test",
        "boekhouding@example.test",
        "archive@example.test",
    )
    assert built.envelope.smtputf8 is False


def test_duplicate_recipients_get_one_rcpt() -> None:
    draft = invoice(to=["Jan@Example.test"], cc=["jan@example.test"], bcc=["JAN@EXAMPLE.TEST"])
    assert build(draft).envelope.rcpt_to == ("Jan@example.test",)


def test_crlf_line_ends_only_and_short_lines() -> None:
    raw = build(invoice(text="a\nb\rc\r\nd" + "x" * 2000)).raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_text_encodings_fit_the_content() -> None:
    def cte(text: str) -> str:
        parsed = parse(build(invoice(text=text, html=None, attachments=[])).raw)
        assert content(parsed) == text.rstrip("\n") + "\n"
        return str(parsed["Content-Transfer-Encoding"])

    assert cte("plain ascii") == "7bit"
    assert cte("Grüße aus Köln, Jürgen") == "quoted-printable"
    assert cte("請求書をお送りします。ご確認ください。") == "base64"
    assert cte("long " * 300) == "quoted-printable"


def test_idn_domains_go_out_as_punycode() -> None:
    draft = invoice(from_="rechnung@bücher.example", to=["kunde@müller.test"], cc=[], bcc=[])
    built = build(draft, message_id_domain="bücher.example")
    assert built.envelope.mail_from == "rechnung@xn--bcher-kva.example"
    assert built.envelope.rcpt_to == ("kunde@xn--mller-kva.test",)
    assert built.message_id == "<0123abcd@xn--bcher-kva.example>"
    assert built.envelope.smtputf8 is False
    parsed = parse(built.raw)
    assert parsed["To"] == "kunde@xn--mller-kva.test"


def test_non_ascii_local_part_needs_smtputf8_and_utf8_headers() -> None:
    draft = invoice(to=[Mailbox.parse("jörg@example.test", name="Jörg")], cc=[], bcc=[])
    built = build(draft)
    assert built.smtputf8 is True
    assert built.envelope.rcpt_to == ("jörg@example.test",)
    assert "To: Jörg <jörg@example.test>".encode() in built.raw
    parsed = parse(built.raw)
    assert getaddresses([str(parsed["To"])]) == [("Jörg", "jörg@example.test")]
    attachment = next(iter(parsed.iter_attachments()))
    assert (
        hashlib.sha256(attachment.get_payload(decode=True)).digest() == hashlib.sha256(PDF).digest()
    )


def test_single_part_messages() -> None:
    text_only = parse(build(invoice(html=None, attachments=[])).raw)
    assert text_only.get_content_type() == "text/plain"
    html_only = parse(build(invoice(text=None, attachments=[])).raw)
    assert html_only.get_content_type() == "text/html"
    both = parse(build(invoice(attachments=[])).raw)
    assert both.get_content_type() == "multipart/alternative"


def test_same_inputs_give_the_same_bytes() -> None:
    assert build(invoice()).raw == build(invoice()).raw
    other = build(invoice(), make_id=lambda: "ffff").raw
    assert other != build(invoice()).raw


def test_boundary_never_collides_with_a_body() -> None:
    first = build(invoice(attachments=[])).raw
    boundary = parse(first).get_boundary()
    assert boundary is not None
    hostile = build(invoice(text=f"--{boundary}\nfake part\n--{boundary}--\n", attachments=[]))
    parsed = parse(hostile.raw)
    assert parsed.get_boundary() != boundary
    assert "fake part" in content(parsed.get_body(preferencelist=("plain",)))
    assert len(list(parsed.iter_parts())) == 2


def test_content_type_given_is_used_and_guessed_otherwise() -> None:
    assert guess_content_type("Factuur.PDF") == "application/pdf"
    assert guess_content_type("scan", b"%PDF-1.4") == "application/pdf"
    assert guess_content_type("photo.bin", b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert guess_content_type("export.xlsx") == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert guess_content_type("data.unknown", b"\x00\x01") == "application/octet-stream"
    draft = invoice(
        attachments=[Attachment(filename="a.dat", content=b"x", content_type="Text/CSV")]
    )
    attachment = next(iter(parse(build(draft).raw).iter_attachments()))
    assert attachment.get_content_type() == "text/csv"


@pytest.mark.parametrize("content_type", ["pdf", "multipart/mixed", "message/rfc822", "a/b; x=y"])
def test_bad_content_types_are_refused(content_type: str) -> None:
    attachment = Attachment(filename="a.pdf", content=b"x", content_type=content_type)
    with pytest.raises(ValidationError) as info:
        invoice(attachments=[attachment])
    assert info.value.field == "attachments[0].content_type"


def test_size_limit_counts_what_the_user_sends_not_its_base64() -> None:
    """A 24 MB PDF fits a 25 MB limit, though base64 makes it 32 MB on the wire (issue 16)."""
    mb = 1024 * 1024
    pdf = Attachment(filename="jaarrekening.pdf", content=b"%PDF" + b"\0" * (24 * mb - 4))
    built = build(invoice(attachments=[pdf]), max_bytes=25 * mb)
    assert built.size > 32 * mb  # the wire size is not what counts
    too_big = invoice(attachments=[Attachment(filename="big.pdf", content=b"\0" * (26 * mb))])
    with pytest.raises(ValidationError) as info:
        build(too_big, max_bytes=25 * mb)
    assert info.value.code == "request.message_too_large"
    assert info.value.limit == 25 * mb and info.value.size > 26 * mb
    assert "26 MB" in str(info.value) and "25 MB" in str(info.value)  # sizes a person reads
    assert info.value.field == "attachments"
    with pytest.raises(ValidationError) as info:  # the field is the part that makes it large
        build(invoice(attachments=[], html=None, text="A" * (26 * mb)), max_bytes=25 * mb)
    assert info.value.field == "text"


INJECTIONS = [
    "x\r\nBcc: victim@example.test",
    "x\nX-Evil: 1",
    "x\rX",
    "x\x00",
    "x\u2028y",
    "x\x85y",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_header_injection_is_refused_in_every_field(payload: str) -> None:
    cases: list[tuple[str, dict[str, object]]] = [
        ("subject", {"subject": payload}),
        ("attachments[0].filename", {"attachments": [Attachment(filename=payload, content=b"x")]}),
        (
            "attachments[1].content_type",
            {
                "attachments": [
                    Attachment(filename="a.pdf", content=b"x"),
                    Attachment(
                        filename="b.pdf", content=b"x", content_type="application/pdf" + payload
                    ),
                ]
            },
        ),
        ("headers.X-Invoice-Id", {"headers": {"X-Invoice-Id": payload}}),
        ("headers.In-Reply-To", {"headers": {"In-Reply-To": "<a@b>" + payload}}),
        ("headers", {"headers": {f"X-A{payload}": "1"}}),
    ]
    for field, overrides in cases:
        with pytest.raises(HeaderInjectionError) as info:
            invoice(**overrides)
        assert info.value.field == field
    for name in ("from", "to[0]", "cc[1]", "reply_to[0]"):
        with pytest.raises(HeaderInjectionError) as info:
            Mailbox.parse("a@example.test", name=payload, field=name)
        assert info.value.field == f"{name}.name"
    for name in ("to", "cc", "bcc", "reply_to"):
        with pytest.raises((HeaderInjectionError, AddressError)) as address_info:
            invoice(**{name: [f"a@example.test{payload}"]})
        assert address_info.value.field == f"{name}[0]"
    with pytest.raises((HeaderInjectionError, AddressError)) as from_info:
        invoice(from_=f"a@example.test{payload}")
    assert from_info.value.field == "from"


@pytest.mark.parametrize("body_field", ["text", "html"])
def test_a_nul_in_a_body_is_refused_not_sent_altered(body_field: str) -> None:
    """A NUL went out in a 7bit part and arrived as 0x80 (Dovecot's replacement); no encoding may
    carry it as text, so the request is refused with the field named."""
    with pytest.raises(ValidationError) as info:
        invoice(**{body_field: "Beste Jan,\x00 de factuur."})
    assert info.value.field == body_field and "NUL" in str(info.value)
    invoice(**{body_field: "Beste Jan,\t\x0c de factuur."})  # other controls in a body are text


def test_injection_error_names_indexed_fields() -> None:
    with pytest.raises(HeaderInjectionError) as info:
        MessageDraft.create(
            from_="a@example.test", to=["b@example.test", "c@example.test\r\nBcc: x@y"], text=""
        )
    assert info.value.field == "to[1]"
    with pytest.raises(HeaderInjectionError) as info:
        Mailbox.parse("a@example.test", name="Eve\r\nBcc: x@y", field="cc[3]")
    assert info.value.field == "cc[3].name"
    assert "\r" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("From", "'from'"),
        ("bcc", "'bcc'"),
        ("Subject", "'subject'"),
        ("Sender", "not allowed"),
        ("Return-Path", "not allowed"),
        ("DKIM-Signature", "not allowed"),
        ("Content-Type", "not allowed"),
        ("Message-ID", "not allowed"),
        ("Received", "not allowed"),
        ("X-Mailport-Tenant", "reserved"),
        ("X Bad", "letters, digits and dashes"),
        ("X-Bad:", "letters, digits and dashes"),
    ],
)
def test_unsafe_custom_headers_are_refused(name: str, hint: str) -> None:
    with pytest.raises(ValidationError) as info:
        invoice(headers={name: "value"})
    assert hint in str(info.value)
    assert info.value.field == f"headers.{name}"


@pytest.mark.parametrize(
    "headers",
    [
        {"In-Reply-To": "not a msg id"},
        {"References": "<a@b> junk"},
        {"Auto-Submitted": "yes"},
        {"List-Unsubscribe": "<javascript:alert(1)>"},
        {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},  # without List-Unsubscribe
        {"Importance": "extreme"},
        {"X-A": "1", "x-a": "2"},
    ],
)
def test_allowed_headers_validate_their_values(headers: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        invoice(headers=headers)


def test_allowed_headers_are_rendered() -> None:
    headers = {
        "in-reply-to": "<orig-1@example.test>",
        "References": "<orig-0@example.test> <orig-1@example.test>",
        "List-Unsubscribe": "<mailto:unsub@example.test>, <https://example.test/u/1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Entity-Ref": "Büro 7",
    }
    parsed = parse(build(invoice(headers=headers)).raw)
    assert parsed["In-Reply-To"] == "<orig-1@example.test>"
    assert parsed["References"] == "<orig-0@example.test> <orig-1@example.test>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["X-Entity-Ref"] == "Büro 7"


def test_metadata_never_reaches_the_wire_and_is_validated() -> None:
    built = build(invoice(metadata={"document_id": "inv_secret_42"}))
    assert b"inv_secret_42" not in built.raw
    with pytest.raises(ValidationError):
        invoice(metadata={"bad key": "x"})
    with pytest.raises(ValidationError):
        invoice(metadata={"k": 1})
    with pytest.raises(ValidationError):
        invoice(metadata={f"k{i}": "v" for i in range(51)})
    with pytest.raises(ValidationError, match="NUL") as nul:  # no database stores it as text
        invoice(metadata={"invoice": "F-1\x00"})
    assert nul.value.field == "metadata.invoice"
    draft = invoice(metadata={"a": "b"})
    with pytest.raises(TypeError):
        draft.metadata["a"] = "c"  # type: ignore[index]


def test_draft_needs_recipients_and_a_body() -> None:
    with pytest.raises(ValidationError, match="recipient"):
        MessageDraft.create(from_="a@example.test", text="x")
    with pytest.raises(ValidationError, match="body"):
        MessageDraft.create(from_="a@example.test", to=["b@example.test"])
    bcc_only = MessageDraft.create(from_="a@example.test", bcc=["b@example.test"], text="")
    built = build(bcc_only)
    assert built.envelope.rcpt_to == ("b@example.test",)
    assert parse(built.raw)["To"] is None


@pytest.mark.parametrize(
    "filename", ["", "  ", "../etc/passwd", "C:\\x\\a.pdf", "a" * 256, "factuur\u202efdp.exe"]
)
def test_bad_filenames_are_refused(filename: str) -> None:
    with pytest.raises(ValidationError) as info:
        invoice(attachments=[Attachment(filename=filename, content=b"x")])
    assert info.value.field == "attachments[0].filename"


def test_build_refuses_naive_time_and_bad_ids() -> None:
    draft = invoice()
    with pytest.raises(ValidationError, match="timezone"):
        build(draft, now=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="make_id"):
        build(draft, make_id=lambda: "a b>")
    with pytest.raises(ValidationError, match="message_id_domain"):
        build(draft, message_id_domain="bad domain..")


def test_date_keeps_the_given_offset() -> None:
    cet = timezone(timedelta(hours=1))
    parsed = parse(build(invoice(), now=NOW.astimezone(cet)).raw)
    assert parsed["Date"] == "Mon, 23 Nov 2026 13:30:05 +0100"


def test_long_names_and_subjects_fold_and_decode_back() -> None:
    name = "Ünal Bakkerij en Banketbakkerij, vestiging Zuid-Oost — 日本支社 " * 3
    subject = "Herinnering: factuur 2026-0042 is vervallen — graag betalen vóór vrijdag " * 4
    draft = invoice(
        from_=Mailbox.parse("billing@example.test", name=name.strip()), subject=subject.strip()
    )
    raw = build(draft).raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    parsed = parse(raw)
    assert parsed["Subject"] == subject.strip()
    # CPython 3.11's new parser inserts spaces between adjacent encoded words in a phrase; the
    # RFC 2047 decoder (what mail clients do) shows the bytes are right.
    raw_from = message_from_bytes(raw, policy=policy.compat32)["From"]
    decoded = str(make_header(decode_header(raw_from)))
    assert decoded == f"{name.strip()} <billing@example.test>"


def test_sent_copy_adds_only_the_bcc_header() -> None:
    draft = invoice(bcc=[Mailbox.parse("archief@example.test", name="Archief, intern")])
    built = build(draft)
    copy = sent_copy(built, draft=draft)
    assert copy.endswith(built.raw)
    parsed = parse(copy)
    assert parsed["Bcc"].addresses[0].addr_spec == "archief@example.test"
    assert parsed["Message-ID"] == built.message_id
    no_bcc = invoice(bcc=[])
    built_no_bcc = build(no_bcc)
    assert sent_copy(built_no_bcc, draft=no_bcc) is built_no_bcc.raw


def test_envelope_round_trips_through_json() -> None:
    envelope = build(invoice()).envelope
    assert Envelope.from_dict(envelope.to_dict()) == envelope
    assert envelope.to_dict() == {
        "mail_from": "billing@example.test",
        "rcpt_to": ["jan@example.test", "boekhouding@example.test", "archive@example.test"],
        "smtputf8": False,
    }
    with pytest.raises(ValidationError):
        Envelope.from_dict({"mail_from": "a@b", "rcpt_to": [], "smtputf8": False})
    with pytest.raises(HeaderInjectionError):
        Envelope.from_dict(
            {"mail_from": "a@b\r\nRCPT TO:<x>", "rcpt_to": ["c@d"], "smtputf8": False}
        )


@pytest.mark.parametrize(
    "name",
    [
        "Doe, Jan",
        'Jan "The Baker" Doe',
        "O'Brien & Sons; Ltd.",
        "billing@evil.test",
        "<admin@example.test>",
        "Back\\slash",
        "Müller, Jürgen",
        "山田 太郎",
    ],
)
def test_display_names_with_specials_round_trip(name: str) -> None:
    draft = invoice(to=[Mailbox.parse("jan@example.test", name=name)])
    raw = build(draft).raw
    address = parse(raw)["To"].addresses[0]
    assert address.addr_spec == "jan@example.test"
    assert address.display_name == name
    # The name can never smuggle a second address into the header.
    assert len(parse(raw)["To"].addresses) == 1
