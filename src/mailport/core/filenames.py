"""Attachment names: the name a received attachment is downloaded under and the header that says
it; the name a sent attachment goes out under and the MIME parameters that say it — pure.

A sender chooses attachment names, so they are untrusted: a name must not reach outside the
download folder (``../``, ``C:\\``), hide its real extension behind a bidi override, or break the
``Content-Disposition`` header (quotes, line breaks). It must also survive as the sender wrote it
where that is safe: ``Faktura č. 12.pdf``, ``請求書.pdf`` and ``rapport – kopie.pdf`` are ordinary
names of ordinary invoices. HTTP header values are Latin-1 on the wire, so the name travels twice
(RFC 6266): an ASCII ``filename`` for old clients and the exact ``filename*`` in UTF-8.

A sent attachment's name is the business's (checked when the message is accepted: no control
characters, paths or bidi controls). Every way in — JSON with base64, a multipart upload, the
batch, the CLI — takes it through :func:`attachment_name` (NFC: a name typed on a Mac and one
typed elsewhere are the same bytes), and both MIME writers (``core/mime_fast.py`` and the
``email`` package's path in ``core/message.py``) write it with :func:`mime_param_header`:

- a plain ASCII name as ``filename="factuur 12.pdf"``, which every client reads;
- any other (non-ASCII, quotes, ``%``, ``;`` …) as RFC 2231 ``filename*=utf-8''…`` — never as a
  quoted string with backslash escapes, which Outlook and webmail show with the backslashes —
  first, so parsers that take the first ``filename`` (Python's ``email``) read the exact name,
  then an ASCII ``filename="…"`` for clients that know no RFC 2231; long values in RFC 2231
  sections of at most 78 characters a line. The same for ``name`` on ``Content-Type``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

from mailport.core.quoted import read_quoted

__all__ = ["attachment_name", "content_disposition", "download_name", "form_data_filename", "mime_param_header"]

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


# -- a sent attachment's name --------------------------------------------------------------------

# Never written into a message, whatever the caller let through: control characters, path
# separators and the bidi controls (the acceptance check refuses them; this is the writer's own
# guarantee).
_NOT_SENT = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Written as a plain quoted string: printable ASCII words that no parser reads in another way (no
# quote or backslash, no "%" a client might decode, no ";" a careless splitter cuts at, single spaces).
_PLAIN_CHARS = r"A-Za-z0-9!#$&'()+,.=@\[\]^_`{}~-"
_PLAIN = re.compile(rf"[{_PLAIN_CHARS}]+(?: [{_PLAIN_CHARS}]+)*")
# The ASCII fallback keeps those (and spaces, one at a time) and writes "_" for anything else.
_NOT_PLAIN = re.compile(rf"[^ {_PLAIN_CHARS}]")
_SPACES = re.compile(r" {2,}")
# RFC 2231 attribute-char besides letters, digits (quote() keeps "_.-~" anyway).
_ATTR_SAFE = "!#$&+^`|"
_MAX_LINE = 78
_FALLBACK_MAX = 60


def attachment_name(filename: str) -> str:
    """The name an attachment is sent under: ``filename`` in Unicode NFC (composed), so that
    ``März`` uploaded from a Mac (decomposed) and ``März`` in JSON are the same name."""
    return unicodedata.normalize("NFC", filename)


def _ascii_fallback(name: str) -> str:
    """The name for clients without RFC 2231: accents dropped, anything else outside the plain
    set ``_``, at most 60 characters (the extension kept)."""
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    plain = _SPACES.sub(" ", _NOT_PLAIN.sub("_", stripped)).strip() or "attachment"
    if len(plain) > _FALLBACK_MAX:
        stem, dot, ext = plain.rpartition(".")
        ext = dot + ext if stem and len(ext) <= 10 else ""
        plain = plain[: _FALLBACK_MAX - len(ext)].rstrip() + ext
    return plain


def _sections(param: str, name: str) -> list[str]:
    """``param*=utf-8''…`` for ``name``, cut into RFC 2231 sections ``param*0*=…`` when one line
    would be longer than 78 characters — between characters, never inside one's UTF-8 bytes (some
    clients decode each section on its own)."""
    pieces = [quote(ch.encode("utf-8"), safe=_ATTR_SAFE) for ch in name]
    encoded = "utf-8''" + "".join(pieces)
    if len(f" {param}*={encoded};") <= _MAX_LINE:
        return [f"{param}*={encoded}"]
    sections: list[str] = []
    line = f"{param}*0*=utf-8''"
    for piece in pieces:
        if len(line) + len(piece) + 2 > _MAX_LINE:  # the leading space and the trailing ";"
            sections.append(line)
            line = f"{param}*{len(sections)}*="
        line += piece
    sections.append(line)
    return sections


def mime_param_header(header: str, value: str, param: str, filename: str) -> str:
    """The header ``header: value; param=…`` saying ``filename`` (see the module doc), CRLF-ended
    and folded at 78 characters: ``mime_param_header("Content-Disposition", "attachment",
    "filename", "Rechnung_März.pdf")``. ASCII, so the same bytes in an SMTPUTF8 message."""
    name = _NOT_SENT.sub("_", filename) or "attachment"
    if _PLAIN.fullmatch(name) and len(f' {param}="{name}";') <= _MAX_LINE:
        params = [f'{param}="{name}"']
    else:
        params = [*_sections(param, name), f'{param}="{_ascii_fallback(name)}"']
    line = f"{header}: {value}; {'; '.join(params)}"
    if len(line) <= _MAX_LINE:
        return line + "\r\n"
    return f"{header}: {value};\r\n " + ";\r\n ".join(params) + "\r\n"


def form_data_filename(disposition: str) -> str | None:
    """The file name in a ``multipart/form-data`` part's ``Content-Disposition``, as the sender
    meant it: ``filename*`` (RFC 5987) when given, else ``filename`` with the HTML standard's
    escapes undone (``%22`` ``"``, ``%0D`` CR, ``%0A`` LF — browsers, curl, httpx and urllib3
    write a quote so) and a quoted string's backslash pairs. Nothing is cut off: a Windows path
    (``C:\\Users\\…\\f.pdf``, old browsers) stays a path, which the message check refuses as it
    does in JSON, where the multipart parser kept only ``f.pdf``."""
    plain: str | None = None
    extended: str | None = None
    for key, raw in _params(disposition):
        if key == "filename*" and extended is None:
            charset, _, rest = raw.partition("'")
            _lang, _, text = rest.partition("'")
            try:
                extended = unquote(text, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                continue
        elif key == "filename" and plain is None:
            plain = raw.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
    return extended if extended is not None else plain


def _params(header: str) -> list[tuple[str, str]]:
    """``key=value`` parameters after the first ``;``: tokens or quoted strings (``\\x`` is ``x``)."""
    found: list[tuple[str, str]] = []
    i, n = header.find(";"), len(header)
    if i < 0:
        return found
    i += 1
    while i < n:
        while i < n and header[i] in " \t;":
            i += 1
        eq = header.find("=", i)
        if eq < 0:
            break
        key = header[i:eq].strip().lower()
        i = eq + 1
        while i < n and header[i] in " \t":
            i += 1
        if i < n and header[i] == '"':
            value, i = read_quoted(header, i)
        else:
            end = header.find(";", i)
            end = n if end < 0 else end
            value = header[i:end].strip()
            i = end
        found.append((key, value))
    return found
