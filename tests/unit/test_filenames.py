"""Received attachments' download names and their Content-Disposition header (core/filenames.py)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from mailport.core.filenames import content_disposition, download_name


@pytest.mark.parametrize(("given", "expected"), [
    ("factuur-2026-0042.pdf", "factuur-2026-0042.pdf"),
    ("Faktura č. 12.pdf", "Faktura č. 12.pdf"),
    ("請求書 – 2026.pdf", "請求書 – 2026.pdf"),
    ("Rechnung Müller €.xml", "Rechnung Müller €.xml"),
    ("rapport (definitief) & bijlage #2, v1+v2.pdf", "rapport (definitief) & bijlage #2, v1+v2.pdf"),
    ("../../etc/passwd", "etc_passwd"),
    ("..\\..\\windows\\system32\\a.dll", "windows_system32_a.dll"),
    ("C:\\temp\\a.pdf", "C_temp_a.pdf"),
    ('a".pdf; x="y', "a_.pdf; x=_y"),
    ("a\r\nContent-Type: text/html.pdf", "a_Content-Type_ text_html.pdf"),
    ("factuur\u202efdp.exe", "factuur_fdp.exe"),
    (".htaccess", "htaccess"),
    ("   ", "fallback"), ("", "fallback"), (None, "fallback"), ("...", "fallback"),
    ("a" * 300 + ".pdf", "a" * 150),
])
def test_download_name(given: str | None, expected: str) -> None:
    assert download_name(given, fallback="fallback") == expected


@pytest.mark.parametrize("name", ["請求書 – 2026.pdf", "Faktura č. 12.pdf", 'a".pdf', "tekening 7781.pdf",
                                  "a\r\nX: y", "naïve’s “quote”.pdf"])
def test_the_header_is_latin1_safe_and_carries_the_exact_name(name: str) -> None:
    header = content_disposition(name, fallback="attachment-1")
    header.encode("latin-1")  # what Starlette does with it; a 請 raised UnicodeEncodeError (HTTP 500)
    assert all(" " <= ch <= "~" for ch in header) and "\r" not in header and "\n" not in header
    plain = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in plain and "\\" not in plain
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == download_name(name, fallback="attachment-1")


def test_a_plain_ascii_name_stays_readable_in_the_plain_form() -> None:
    assert content_disposition("tekening 7781.pdf", fallback="x") == (
        "attachment; filename=\"tekening 7781.pdf\"; filename*=UTF-8''tekening%207781.pdf")


# -- sent attachments' names (mime_param_header, attachment_name, form_data_filename) -------------

SENT_NAMES = ['factuur "maart".pdf', "Rechnung_März.pdf", "請求書.pdf", "Factuur 2026-001.pdf",
              "it's (1) [final], v2+v3 & more.pdf", "x%20y.pdf", "a;b=c.pdf", "50% korting?.pdf",
              "Ærø Café – kopie (2).pdf", "報告" * 60 + ".pdf", "a" * 250 + ".pdf", "naïve’s “quote”.pdf"]


def _sent(name: str, *, smtputf8: bool) -> bytes:
    from datetime import UTC, datetime

    from mailport.core.message import Attachment, MessageDraft, build_message

    to = "jörg@example.org" if smtputf8 else "klant@example.org"
    pdf = Attachment(filename=name, content=b"%PDF-1.4\n", content_type="application/pdf")
    draft = MessageDraft.create(from_="info@bakkerij.example", to=[to], subject="Factuur", text="Zie bijlage.",
                                attachments=[pdf])
    built = build_message(draft, message_id_domain="bakkerij.example", now=datetime(2026, 12, 7, tzinfo=UTC),
                          make_id=lambda: "t")
    return built.raw


@pytest.mark.parametrize("smtputf8", [False, True], ids=["fast path", "stdlib path (SMTPUTF8)"])
@pytest.mark.parametrize("name", SENT_NAMES)
def test_a_sent_name_is_read_back_exactly_by_the_email_parser(name: str, smtputf8: bool) -> None:
    from email import message_from_bytes, policy

    raw = _sent(name, smtputf8=smtputf8)
    [part] = list(message_from_bytes(raw, policy=policy.default).iter_attachments())
    assert part.get_filename() == name
    assert part.get_param("name") == name  # Content-Type's name, for older Outlook
    head = raw.split(b"Content-Type: application/pdf", 1)[1].split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b'\\"' not in head and b"\\\\" not in head  # no backslash escapes
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))


@pytest.mark.parametrize(("name", "disposition"), [
    ("factuur.pdf", 'Content-Disposition: attachment; filename="factuur.pdf"\r\n'),
    ("Factuur 2026-001 (kopie).pdf", 'Content-Disposition: attachment; filename="Factuur 2026-001 (kopie).pdf"\r\n'),
    ('factuur "maart".pdf', ("Content-Disposition: attachment;\r\n filename*=utf-8''factuur%20%22maart%22.pdf;\r\n"
                             ' filename="factuur _maart_.pdf"\r\n')),
    ("Rechnung_März.pdf", ("Content-Disposition: attachment;\r\n filename*=utf-8''Rechnung_M%C3%A4rz.pdf;\r\n"
                           ' filename="Rechnung_Marz.pdf"\r\n')),
    ("請求書.pdf", ("Content-Disposition: attachment;\r\n filename*=utf-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf;\r\n"
                    ' filename="___.pdf"\r\n')),
])
def test_plain_names_stay_plain_and_others_get_rfc2231_with_an_ascii_fallback(name: str, disposition: str) -> None:
    from mailport.core.filenames import mime_param_header

    assert mime_param_header("Content-Disposition", "attachment", "filename", name) == disposition
    content_type = mime_param_header("Content-Type", "application/pdf", "name", name)
    assert content_type.replace("Content-Type: application/pdf", "X").replace("name", "filename") == \
        disposition.replace("Content-Disposition: attachment", "X")


def test_a_long_name_is_cut_into_sections_between_characters() -> None:
    from mailport.core.filenames import mime_param_header

    header = mime_param_header("Content-Disposition", "attachment", "filename", "請求書" * 30 + ".pdf")
    lines = header.removesuffix("\r\n").split("\r\n")
    assert all(len(line) <= 78 for line in lines)
    sections = [line.strip().rstrip(";") for line in lines[1:-1]]
    assert [s.split("=", 1)[0] for s in sections] == [f"filename*{i}*" for i in range(len(sections))]
    for section in sections:  # each section decodes alone (some clients decode them one by one)
        unquote(section.split("=", 1)[1].removeprefix("utf-8''"), errors="strict")
    assert lines[-1].startswith(' filename="') and len(lines[-1]) <= 78


@pytest.mark.parametrize(("name", "written"), [
    ("a\\b.pdf", "a_b.pdf"), ("../x.pdf", ".._x.pdf"), ("a\r\nX: y.pdf", "a__X: y.pdf"),
    ("factuur\u202efdp.exe", "factuur_fdp.exe"), ("\x00", "_"),
])
def test_control_characters_and_path_separators_are_never_written(name: str, written: str) -> None:
    """The message check refuses them (422) on every way in; the writer does not rely on it."""
    from email import message_from_string, policy

    from mailport.core.filenames import mime_param_header

    header = mime_param_header("Content-Disposition", "attachment", "filename", name)
    assert header.isascii() and "\\" not in header and "/" not in header and header.count("\r\n") == header.count("\n")
    parsed = message_from_string(header + "\r\n", policy=policy.default)
    assert parsed.get_filename() == written


def test_a_name_is_composed_on_every_way_in() -> None:
    from mailport.core.message import Attachment

    assert Attachment(filename="Rechnung_Ma\u0308rz.pdf", content=b"").filename == "Rechnung_M\u00e4rz.pdf"


@pytest.mark.parametrize(("disposition", "name"), [
    ('form-data; name="attachments"; filename="factuur %22maart%22.pdf"', 'factuur "maart".pdf'),  # HTML, httpx, curl
    ('form-data; name="attachments"; filename="factuur \\"maart\\".pdf"', 'factuur "maart".pdf'),  # a quoted pair
    ('form-data; name="attachments"; filename="Rechnung_März.pdf"', "Rechnung_März.pdf"),
    ("form-data; name=\"attachments\"; filename*=utf-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf; filename=\"x.pdf\"",
     "請求書.pdf"),
    ('form-data; name="attachments"; filename="C:\\\\Users\\\\x\\\\f.pdf"', "C:\\Users\\x\\f.pdf"),  # kept: refused
    ('form-data; name="attachments"; filename=plain.pdf', "plain.pdf"),
    ('form-data; name="attachments"', None),
])
def test_the_uploaded_file_name_is_read_as_the_client_meant_it(disposition: str, name: str | None) -> None:
    from mailport.core.filenames import form_data_filename

    assert form_data_filename(disposition) == name
