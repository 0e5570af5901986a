"""The common message written straight to bytes, identical to what the ``email`` package writes.

:func:`~mailport.core.message.build_message` renders through the stdlib's ``EmailMessage``,
whose header registry parses and refolds every header it is given: about 3 ms of CPU for a
one-page invoice with a PDF, two thirds of accepting a message (see ``bench/bench_send.py``).
Most messages a business sends are simple — ASCII header values that fit on one line, a text
and/or HTML body, attachments — and for those the bytes can be written directly (attachment
names by ``core/filenames.py``, which the stdlib path uses too). Anything else (a header that
needs RFC 2047 words or folding, an SMTPUTF8 message) goes through the stdlib for that header, or :func:`render`
returns ``None`` and the caller takes the stdlib path for the whole message.

The promise is byte-identity with the stdlib path, not merely equivalence: a message must not
change depending on which path rendered it. ``tests/unit/test_mime_fast.py`` holds this against
the stdlib for thousands of generated drafts, simple and not.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator, Sequence
from email import policy as email_policy
from email import quoprimime
from typing import TYPE_CHECKING

import pybase64

from mailport.core.filenames import mime_param_header

if TYPE_CHECKING:  # message.py imports this module; the types are only for annotations
    from mailport.core.message import Attachment, Mailbox, MessageDraft

__all__ = ["address_header", "boundaries", "render"]

_MAX_LINE = 78
_POLICY = email_policy.SMTP.clone(max_line_length=_MAX_LINE, linesep="\r\n")
# Printable ASCII words separated by single spaces: what the registry's unstructured parser
# gives back unchanged. "=?" could start an encoded word, which the stdlib would decode.
_PLAIN_TEXT = re.compile(r"[!-~]+(?: [!-~]+)*")
# A display name written without quotes: atext words (RFC 5322 3.2.3) and single spaces.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_PLAIN_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_PLAIN_MEDIA = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def _plain(value: str) -> bool:
    return "=?" not in value and _PLAIN_TEXT.fullmatch(value) is not None


def _stdlib_header(name: str, value: object) -> bytes:
    """The line(s) the stdlib generator writes for this header: the same two calls it makes."""
    stored = _POLICY.header_store_parse(name, value)[1]
    return _POLICY.fold_binary(name, stored)


def _header(name: str, value: str) -> bytes:
    line = f"{name}: {value}\r\n"
    if len(line) - 2 <= _MAX_LINE and _plain(value):
        return line.encode("ascii")
    return _stdlib_header(name, value)


def _mailbox_text(box: Mailbox) -> str | None:
    local, domain = box.address.local_part, box.address.ascii_domain
    if not (_PLAIN_LOCAL.fullmatch(local) and _PLAIN_DOMAIN.fullmatch(domain)):
        return None
    if not box.name:
        return f"{local}@{domain}"
    if "=?" in box.name or not _PLAIN_NAME.fullmatch(box.name):
        return None
    return f"{box.name} <{local}@{domain}>"


def address_header(name: str, boxes: Sequence[Mailbox]) -> bytes:
    texts = [_mailbox_text(box) for box in boxes]
    if all(t is not None for t in texts):
        line = f"{name}: {', '.join(t for t in texts if t is not None)}\r\n"
        if len(line) - 2 <= _MAX_LINE:
            return line.encode("ascii")
    return _stdlib_header(name, [box.header_address() for box in boxes])


def _lines_to_crlf(payload: str) -> str:
    """What the generator's ``_write_lines`` does to a part's payload."""
    return _NEWLINES.sub("\r\n", payload)


def _text_payload(text: str, cte: str) -> str | None:
    """The encoded body as ``contentmanager.set_text_content`` stores it (utf-8, given cte)."""
    lines = text.encode("utf-8").splitlines()
    if cte == "7bit":
        return (b"\n".join(lines) + b"\n").decode("ascii")
    if cte == "quoted-printable":
        return quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), _MAX_LINE)
    if cte == "base64":
        return base64.encodebytes(b"\r\n".join(lines) + b"\r\n").decode("ascii")
    return None  # 8bit: SMTPUTF8 messages only, rendered by the stdlib


class _Part:
    __slots__ = ("headers", "parts", "payload", "subtype")

    def __init__(self, headers: list[bytes] | None = None, payload: str | bytes = "",
                 parts: list[_Part] | None = None, subtype: str = "") -> None:
        self.headers = headers or []
        self.payload = payload  # bytes: already on the wire's terms (CRLF lines, ASCII)
        self.parts = parts or []
        self.subtype = subtype  # multipart subtype, "" for a leaf


def _text_part(text: str, subtype: str, cte: str) -> _Part | None:
    payload = _text_payload(text, cte)
    if payload is None:
        return None
    return _Part([f'Content-Type: text/{subtype}; charset="utf-8"\r\n'.encode(),
                  f"Content-Transfer-Encoding: {cte}\r\n".encode()], payload)


def _attachment_part(attachment: Attachment) -> _Part | None:
    media = attachment.media_type.lower()
    if not _PLAIN_MEDIA.fullmatch(media):
        return None
    # The name as both paths write it (``filenames.mime_param_header``: plain, or RFC 2231 with
    # an ASCII fallback, folded at 78): no stdlib needed for any name.
    content_type = mime_param_header("Content-Type", media, "name", attachment.filename)
    disposition = mime_param_header("Content-Disposition", "attachment", "filename", attachment.filename)
    # encodebytes' lines (57 bytes -> 76 characters) with CRLF ends: pybase64 writes the same
    # bytes as the stdlib's a fifth of the time, and one replace beats slicing 240 lines of a
    # 20 KB invoice in Python (24 µs against 47 for the encode and slices)
    lines = pybase64.encodebytes(attachment.content).replace(b"\n", b"\r\n")
    return _Part([content_type.encode("ascii"), disposition.encode("ascii"),
                  b"Content-Transfer-Encoding: base64\r\n"], lines)


def _text_payloads(part: _Part) -> list[str]:
    """The bodies a boundary could occur in. Not the attachments: their payloads (bytes) are
    base64, whose alphabet has no ``_``, so no ``=_…`` boundary occurs in them — searching a
    20 KB invoice's base64 for each boundary was a tenth of the render."""
    if part.subtype:
        return [p for sub in part.parts for p in _text_payloads(sub)]
    return [part.payload] if isinstance(part.payload, str) else []


def boundaries(seed: str, payloads: Sequence[str]) -> Iterator[str]:
    """A message's multipart boundaries, one per multipart in the order they are met (depth
    first) — on both paths, :func:`render`'s and ``message._set_boundaries``: derived from
    ``seed`` (the Message-ID; the stdlib's are random), skipping any that occurs in one of the
    ``payloads``. ("=_" never occurs in base64 or quoted-printable output; 7bit bodies are checked.)"""
    counter = 0
    while True:
        digest = hashlib.sha256(f"{seed}:{counter}".encode()).hexdigest()[:32]
        counter += 1
        boundary = f"=_{digest}"
        if not any(boundary in payload for payload in payloads):
            yield boundary


def _assign_boundaries(root: _Part, *, seed: str) -> dict[int, str]:
    """The boundary of each multipart under ``root`` (by ``id``), from :func:`boundaries`."""
    fresh = boundaries(seed, _text_payloads(root))
    found: dict[int, str] = {}

    def assign(part: _Part) -> None:
        if not part.subtype:
            return
        found[id(part)] = next(fresh)
        for sub in part.parts:
            assign(sub)

    assign(root)
    return found


def _multipart_type(subtype: str, boundary: str) -> bytes:
    line = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'
    if len(line) <= _MAX_LINE:
        return line.encode() + b"\r\n"
    return f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n'.encode()


def _write(part: _Part, boundaries: dict[int, str], out: list[bytes], *, head: bool) -> None:
    """``part``'s headers (unless the caller wrote them), a blank line and its body."""
    if part.subtype:
        boundary = boundaries[id(part)]
        if head:
            out.append(_multipart_type(part.subtype, boundary))
        out.append(b"\r\n")
        for i, sub in enumerate(part.parts):
            out.append((b"--" if i == 0 else b"\r\n--") + boundary.encode() + b"\r\n")
            _write(sub, boundaries, out, head=True)
        out.append(b"\r\n--" + boundary.encode() + b"--\r\n")
        return
    if head:
        out.extend(part.headers)
    out.append(b"\r\n")
    payload = part.payload
    out.append(payload if isinstance(payload, bytes) else _lines_to_crlf(payload).encode("ascii"))


def render(draft: MessageDraft, *, message_id: str, date: str,
           text_cte: dict[str, str]) -> bytes | None:
    """The wire bytes of ``draft`` (CRLF), or ``None`` when the stdlib must render it.

    ``text_cte`` maps ``plain``/``html`` to the transfer encoding ``message._text_cte`` chose.
    """
    if draft.needs_smtputf8:
        return None
    bodies: list[_Part] = []
    for subtype, text in (("plain", draft.text), ("html", draft.html)):
        if text is not None:
            part = _text_part(text.replace("\r\n", "\n").replace("\r", "\n"), subtype,
                              text_cte[subtype])
            if part is None:
                return None
            bodies.append(part)
    body = bodies[0] if len(bodies) == 1 else _Part(parts=bodies, subtype="alternative")
    if draft.attachments:
        files = [_attachment_part(a) for a in draft.attachments]
        if any(f is None for f in files):
            return None
        body = _Part(parts=[body, *(f for f in files if f is not None)], subtype="mixed")
    boundaries = _assign_boundaries(body, seed=message_id)

    out: list[bytes] = [address_header("From", [draft.from_])]
    for name, boxes in (("To", draft.to), ("Cc", draft.cc), ("Reply-To", draft.reply_to)):
        if boxes:
            out.append(address_header(name, boxes))
    out.append(_header("Subject", draft.subject))
    out.append(_header("Date", date))
    out.append(_header("Message-ID", message_id))
    for name, value in draft.headers.items():
        out.append(_header(name, value))
    out.append(b"MIME-Version: 1.0\r\n")
    if body.subtype:
        out.append(_multipart_type(body.subtype, boundaries[id(body)]))
    else:
        out.extend(body.headers)
    _write(body, boundaries, out, head=False)
    return b"".join(out)
