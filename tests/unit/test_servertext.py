"""Server replies as storable text (``core/servertext.py``)."""

from __future__ import annotations

import pytest

from mailport.core.servertext import readable


def _as_aiosmtplib_decodes(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(("raw", "text"), [
    (b"2.0.0 Ok: queued as 4XyZ", "2.0.0 Ok: queued as 4XyZ"),
    ("5.1.1 Empfänger unbekannt".encode(), "5.1.1 Empfänger unbekannt"),  # UTF-8 stays
    ("5.1.1 Empfänger unbekannt".encode("latin-1"), "5.1.1 Empfänger unbekannt"),  # Latin-1 read as such
    ("5.2.2 Boîte pleine – réessayez".encode("cp1252"), "5.2.2 Boîte pleine – réessayez"),
    (b"4.7.1 try later\nsee https://example.org", "4.7.1 try later\nsee https://example.org"),
    (b"2.0.0 ok\x00\x1b[31m queued\r", "2.0.0 ok[31m queued"),  # NUL, ESC, CR dropped
    (b"5.7.1 \x81\x8d", "5.7.1 \ufffd\ufffd"),  # bytes that no code page maps
])
def test_a_reply_comes_back_as_the_server_meant_it(raw: bytes, text: str) -> None:
    got = readable(_as_aiosmtplib_decodes(raw))
    assert got == text
    got.encode("utf-8")  # storable: no surrogates left


def test_a_stray_surrogate_that_is_no_escaped_byte_is_replaced() -> None:
    assert readable("ok \ud800 queued") == "ok ? queued"
