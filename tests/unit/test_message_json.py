"""Attachment base64 in the message JSON: decoded by pybase64, answered exactly as the stdlib's
strict decoder would (the bytes, or the same error for the same inputs)."""

from __future__ import annotations

import base64
import binascii
import random

import pytest

from mailport.errors import ValidationError
from mailport.services.send.message_json import AttachmentIn, decode_attachment

_EDGES = ["", "QQ==", "QQ=", "QQ", "Q", "QUJD", "QUJD\n", " QUJD", "QU JD", "QU\r\nJD", "QQ==QUJD", "=QUJD",
          "QR==", "QUJ=", "QUI=", "Q===", "QQ=a", "QUJD====", "QUJD=", "QQ==\n", "Q\u00e9JD", "QUJD-_",
          "QUJD+/==", "QUJD+/A=", "QUJD+/AB", "QQ= =", "QUJDQ", "QUJDQQ", "QUJDQQ=", "!!", "QUJD\x00"]


def _stdlib(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _ours(text: str) -> bytes | None:
    try:
        return decode_attachment(AttachmentIn(filename="a.pdf", content=text), 3).content
    except ValidationError as exc:
        assert exc.field == "attachments[3].content"
        assert str(exc) == "attachments[3].content is not valid base64"
        return None


@pytest.mark.parametrize("text", _EDGES)
def test_edge_cases_decode_or_fail_as_the_stdlib(text: str) -> None:
    assert _ours(text) == _stdlib(text)


def test_random_files_and_corruptions_match_the_stdlib() -> None:
    rng = random.Random(14)
    for size in [*range(70), 1000, 20_000, 20_001, 20_002]:
        data = rng.randbytes(size)
        text = base64.b64encode(data).decode()
        assert _ours(text) == data
        if text:
            at = rng.randrange(len(text))
            for bad in ("=", "\n", "*", "-", "A="):
                mutated = text[:at] + bad + text[at + 1:]
                assert _ours(mutated) == _stdlib(mutated), (size, at, bad)
