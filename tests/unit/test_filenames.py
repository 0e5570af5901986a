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
