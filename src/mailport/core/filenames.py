"""The name a received attachment is downloaded under, and the header that says it — pure.

A sender chooses attachment names, so they are untrusted: a name must not reach outside the
download folder (``../``, ``C:\\``), hide its real extension behind a bidi override, or break the
``Content-Disposition`` header (quotes, line breaks). It must also survive as the sender wrote it
where that is safe: ``Faktura č. 12.pdf``, ``請求書.pdf`` and ``rapport – kopie.pdf`` are ordinary
names of ordinary invoices. HTTP header values are Latin-1 on the wire, so the name travels twice
(RFC 6266): an ASCII ``filename`` for old clients and the exact ``filename*`` in UTF-8.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

__all__ = ["content_disposition", "download_name"]

# Control characters, what Windows refuses in a file name (and the path separators), and the bidi
# embedding/override/isolate and direction marks that can make "fdp.exe" read as "exe.pdf".
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f"*/:<>?\\|\u200e\u200f\u202a-\u202e\u2066-\u2069]+')
_MAX = 150


def download_name(filename: str | None, *, fallback: str) -> str:
    """``filename`` made safe to save under: unsafe characters become ``_``, leading and trailing
    dots, spaces and underscores go (no hidden or extension-less tricks), at most 150 characters;
    ``fallback`` when nothing is left."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", filename or "")).strip("._ ")[:_MAX].strip("._ ")
    return name or fallback


def content_disposition(filename: str | None, *, fallback: str) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…`` for :func:`download_name`: Latin-1-safe
    (every character outside ASCII is ``_`` in the plain form and percent-encoded in the other)."""
    name = download_name(filename, fallback=fallback)
    plain = "".join(ch if " " <= ch <= "~" else "_" for ch in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
