"""What the inbox keeps about a message, from its header fields and the first bytes of its body.

:func:`summarize` turns fetched header bytes and a body prefix into a :class:`MessageSummary`
(addresses, dates, threading ids, snippet); :class:`FetchedMessage` adds what the server knows
about the copy (UID, flags, size, arrival, attachments). Both are independent of how the message
was fetched (IMAP today; an HTTP mail API fits the same records).

This is the hot path of an initial sync (thousands of messages a second), so it does not build
``email`` message objects: header fields are unfolded with plain string operations, RFC 2047
encoded words (:func:`decode_words`) and address lists (:func:`parse_addresses`) are decoded
directly, and the snippet of a plain or multipart body is cut without the MIME parser.

Where the server offers a preview of its own (IMAP ``PREVIEW``, RFC 8970; Gmail's and Graph's
snippets), :func:`preview_text` normalizes it and no body bytes are fetched. A first sync may
ask for the preview only where the server has it at hand (``PREVIEW (LAZY)``): the others come
back without one, marked :attr:`FetchedMessage.snippet_pending`, and are filled in later.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import unescape

from mailport.core.quoted import read_quoted
from mailport.core.threading import message_ids, normalize_message_id

__all__ = [
    "SNIPPET_BYTES",
    "AttachmentInfo",
    "FetchedMessage",
    "MessageSummary",
    "decode_words",
    "header_fields",
    "parse_addresses",
    "preview_text",
    "snippet_of_message",
    "summarize",
]

SNIPPET_BYTES = 1024
_SNIPPET_CHARS = 200
# A sender that suggests a delivery report: such messages are read whole to check for a bounce.
_REPORT_SENDER = re.compile(r"mailer-daemon|postmaster|mail-daemon|microsoftexchange", re.IGNORECASE)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_PARAM = re.compile(r';\s*([A-Za-z0-9*._-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]+)')
_FOLD = re.compile(r"\r?\n[ \t]+")
_REPEATABLE = frozenset(("to", "cc", "reply-to"))
# A header line: a name (not starting with blank space) up to the first colon, and the rest of the
# line; lines without a colon are not fields (the blank line ending the block, garbage).
_HEADER_LINE = re.compile(r"^([^ \t\n:][^\n:]*):([^\n]*)", re.MULTILINE)
_NAMES: dict[str, str] = {}  # field names as spelled -> lower case (a mailbox uses few spellings)
_SIMPLE_ADDRESSES = re.compile(r'["():;\\]')  # none of these: a plain "Name <a@b>, c@d" list
_TAGS = re.compile(r"(?is)<(script|style).*?</\1>|<[^>]+>")


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    filename: str | None
    content_type: str
    size: int

    def to_json(self) -> dict[str, str | int | None]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass(frozen=True, slots=True)
class MessageSummary:
    header_message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_name: str | None
    from_email: str | None
    to: tuple[tuple[str, str], ...]
    cc: tuple[tuple[str, str], ...]
    reply_to: tuple[tuple[str, str], ...]
    date: datetime | None
    snippet: str
    maybe_report: bool  # multipart/report or from a mailer daemon: read whole to check for a bounce


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    flags: tuple[str, ...]
    size: int
    internal_date: datetime | None
    modseq: int | None
    summary: MessageSummary
    attachments: tuple[AttachmentInfo, ...] = ()
    # The server had no preview at hand (a lazy first sync): the snippet is filled in later.
    snippet_pending: bool = False


# -- header fields ---------------------------------------------------------------------------------

def header_fields(header: bytes) -> dict[str, str]:
    """Header block → {lower-case name: unfolded value}; the first occurrence of a field wins
    except for address fields, whose repeats are joined (some mailers split long To lists)."""
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        text = header.decode("latin-1")  # 8-bit headers in a legacy charset: keep every byte
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # lines ended by CR alone
    # Unfold first (C-level replaces), then one C-level pass cuts every "name: value" line.
    text = _FOLD.sub(" ", text) if "\n " in text or "\n\t" in text else text
    fields: dict[str, str] = {}
    names = _NAMES
    # Lines end at LF (CR goes with the value's strip): str.splitlines would also cut a field at
    # \x0b, \x0c, \x1c-\x1e, \x85 or U+2028/9 inside it, and costs three times as much.
    for key, value in _HEADER_LINE.findall(text):
        name = names.get(key)
        if name is None:
            name = key.rstrip()
            if " " in name:
                continue  # not a header line
            name = name.lower()
            if len(names) < 512:
                names[key] = name
        if name not in fields:
            fields[name] = value.strip()
        elif name in _REPEATABLE:
            fields[name] = fields[name] + ", " + value.strip()
    return fields


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded, whitespace collapsed.

    Adjacent words are joined without the space between them (RFC 2047 §6.2), and their bytes
    are decoded together when they share a charset, so a multi-byte character split over two
    words survives. An unknown charset falls back to UTF-8 with replacement characters.
    """
    if "=?" not in value:
        return " ".join(value.split())
    out: list[str] = []
    pending = b""
    charset = ""
    pos = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos:match.start()]
        pos = match.end()
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:  # malformed: keep the text as it is
            out.append(_decode_bytes(pending, charset) + between + match.group(0))
            pending, after_word = b"", False
            continue
        word_charset = match.group(1).split("*", 1)[0].lower()  # RFC 2231 language suffix
        if between and not (after_word and between.isspace()):
            out.append(_decode_bytes(pending, charset) + between)
            pending = b""
        elif pending and word_charset != charset:
            out.append(_decode_bytes(pending, charset))
            pending = b""
        pending += data
        charset = word_charset
        after_word = True
    out.append(_decode_bytes(pending, charset) + value[pos:])
    return " ".join("".join(out).split())


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "bB":
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        raw = text.replace("_", " ").encode("ascii")
        return _QP_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), raw)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _decode_bytes(data: bytes, charset: str) -> str:
    if not data:
        return ""
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def parse_addresses(value: str) -> list[tuple[str, str]]:
    """An RFC 5322 address list → ``[(display name, address)]`` (names decoded, groups flattened,
    comments used as the name when there is no other); entries without an ``@`` are dropped."""
    if not value:
        return []
    if not _SIMPLE_ADDRESSES.search(value):
        return _simple_addresses(value)
    found: list[tuple[str, str]] = []
    phrase: list[str] = []
    comment = ""
    angle: str | None = None
    i, n = 0, len(value)

    def finish() -> None:
        nonlocal phrase, comment, angle
        if angle is not None:
            name, address = " ".join(phrase), angle
        else:
            name, address = comment, "".join(phrase)
        address = address.strip()
        if "@" in address:
            found.append((decode_words(name.strip()), address))
        phrase, comment, angle = [], "", None

    while i < n:
        ch = value[i]
        if ch == '"':
            quoted, i = read_quoted(value, i)
            phrase.append(quoted)
        elif ch == "(":
            depth, j = 1, i + 1
            while j < n and depth:
                if value[j] == "\\":
                    j += 1
                elif value[j] == "(":
                    depth += 1
                elif value[j] == ")":
                    depth -= 1
                j += 1
            comment = comment or value[i + 1:j - 1]
            i = j
        elif ch == "<":
            j = value.find(">", i + 1)
            j = n if j < 0 else j
            angle = value[i + 1:j].strip()
            if angle.startswith("@") and ":" in angle:  # obsolete source route
                angle = angle.split(":", 1)[1]
            i = j + 1
        elif ch == ",":
            finish()
            i += 1
        elif ch == ":" and angle is None and "@" not in "".join(phrase):
            phrase = []  # a group's name
            i += 1
        elif ch == ";":
            finish()
            i += 1
        elif ch in " \t":
            i += 1
        else:
            j = i
            while j < n and value[j] not in ' \t"(<,;':
                if value[j] == ":" and "@" not in value[i:j]:
                    break
                j += 1
            if j == i:  # a lone ":" inside an address: keep it
                j += 1
            phrase.append(value[i:j])
            i = j
    finish()
    return found


def _simple_addresses(value: str) -> list[tuple[str, str]]:
    """The common case of :func:`parse_addresses` (no quotes, comments or groups), fast."""
    found: list[tuple[str, str]] = []
    for part in value.split(","):
        name, angle, rest = part.partition("<")
        if angle:
            address = rest.split(">", 1)[0].strip()
            name = " ".join(name.split())
            if "=?" in name:
                name = decode_words(name)
        else:
            address, name = name.strip(), ""
        if "@" in address and " " not in address:
            found.append((name, address))
    return found


# The Date header as nearly every mailer writes it (RFC 5322 §3.3): read without the email
# package's tokenizer, with the same result (a test compares both on many spellings).
_RFC5322_DATE = re.compile(
    r"(?:[A-Za-z]{3}, )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d\d):(\d\d)(?::(\d\d))? ([+-])(\d\d)(\d\d)")
_MONTHS = {m: f"{i:02d}" for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                                "oct", "nov", "dec"), 1)}
_OFFSETS: dict[str, timedelta] = {}
_FROM_ISO = datetime.fromisoformat


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    fast = _RFC5322_DATE.fullmatch(value)
    if fast is not None and (month := _MONTHS.get(fast.group(2).lower())) is not None:
        day, _, year, hour, minute, second, sign, zh, zm = fast.groups()
        # Read as UTC and moved by the offset: the same instant as astimezone(UTC) of the local
        # time, without a zone object and a conversion per message. The fields go to C's ISO
        # reader in one string (half the cost of six int() and the constructor).
        offset = _OFFSETS.get(value[-5:])
        if offset is None:
            seconds = int(zh) * 3600 + int(zm) * 60
            if seconds >= 86400:
                return None  # not a UTC offset (datetime.timezone refuses it too)
            offset = timedelta(seconds=-seconds if sign == "-" else seconds)
            if len(_OFFSETS) < 256:
                _OFFSETS[value[-5:]] = offset
        try:
            parsed = _FROM_ISO(f"{year}-{month}-{day:0>2}T{hour}:{minute}:{second or '00'}+00:00")
            return parsed - offset if offset else parsed
        except (ValueError, OverflowError):
            return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def summarize(header: bytes, text_prefix: bytes = b"", *, preview: str | None = None) -> MessageSummary:
    """Headers (+ the first bytes of the body) → what the store keeps about a message.

    ``preview``: the snippet as the server made it (see :func:`preview_text`); the body prefix
    is then not looked at."""
    fields = header_fields(header)
    get = fields.get
    senders = parse_addresses(get("from", ""))
    content_type = get("content-type", "")
    sender_text = senders[0][1] if len(senders) == 1 else " ".join([a for _, a in senders])
    maybe_report = ("multipart/report" in content_type.lower() or bool(_REPORT_SENDER.search(sender_text))
                    or "x-failed-recipients" in fields)
    in_reply_to = message_ids(get("in-reply-to"))
    # Absent fields (most messages have no Cc, Reply-To or References) cost no call.
    to, cc, reply_to, references = get("to"), get("cc"), get("reply-to"), get("references")
    return MessageSummary(
        header_message_id=normalize_message_id(get("message-id")),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(message_ids(references)) if references else (),
        subject=decode_words(get("subject", ""))[:2000],
        from_name=(senders[0][0] or None) if senders else None,
        from_email=senders[0][1] if senders else None,
        to=tuple(parse_addresses(to)) if to else (), cc=tuple(parse_addresses(cc)) if cc else (),
        reply_to=tuple(parse_addresses(reply_to)) if reply_to else (),
        date=_date(get("date")),
        snippet=preview if preview is not None else snippet(content_type, get("content-transfer-encoding", ""),
                                                            text_prefix) if text_prefix else "",
        maybe_report=maybe_report,
    )


# -- snippet ---------------------------------------------------------------------------------------

def preview_text(raw: bytes) -> str:
    """A server-made preview (RFC 8970 ``PREVIEW``: UTF-8 plain text, at most 200 characters)
    as a snippet: whitespace collapsed and cut like :func:`snippet`'s."""
    text = raw.decode("utf-8", "replace")
    return " ".join(text.split())[:_SNIPPET_CHARS]


def snippet_of_message(raw: bytes) -> str:
    """The snippet of a whole message (headers and body), as a sync would have made it from the
    body prefix: for messages first listed without one, once their bytes are read."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    fields = header_fields(head)
    return snippet(fields.get("content-type", ""), fields.get("content-transfer-encoding", ""), body[:SNIPPET_BYTES])


def snippet(content_type: str, transfer_encoding: str, body_prefix: bytes, *, depth: int = 0) -> str:
    """The first words of the readable text of a (possibly truncated) body.

    Plain and HTML text are decoded directly; a multipart body is split at its boundary and its
    first readable, non-attachment text part used (nested multiparts followed a few levels).
    """
    mime, params = _content_type(content_type)
    if mime.startswith("multipart/"):
        boundary = params.get("boundary")
        if not boundary or depth > 3:
            return ""
        delimiter = b"--" + boundary.encode("utf-8", "replace")
        for part in body_prefix.split(delimiter)[1:]:
            if part.startswith(b"--"):
                break  # the closing delimiter
            head, sep, body = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
            if not sep:
                head, sep, body = part.lstrip(b"\n").partition(b"\n\n")
            if not sep:
                continue
            fields = header_fields(head)
            if fields.get("content-disposition", "").lower().startswith("attachment"):
                continue
            text = snippet(fields.get("content-type", "text/plain"),
                           fields.get("content-transfer-encoding", ""), body, depth=depth + 1)
            if text:
                return text
        return ""
    if mime not in ("text/plain", "text/html", ""):
        return ""
    data = _transfer_decode(transfer_encoding.strip().lower(), body_prefix)
    charset = params.get("charset", "utf-8") or "utf-8"
    try:
        text = data.decode(charset, "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    if mime == "text/html":
        text = unescape(_TAGS.sub(" ", text))
    return " ".join(text.split())[:_SNIPPET_CHARS]


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    mime = value.split(";", 1)[0].strip().lower()
    params = {}
    for match in _PARAM.finditer(value):
        raw = match.group(2)
        if raw.startswith('"'):
            raw = raw[1:-1]
            if "\\" in raw:
                raw = re.sub(r"\\(.)", r"\1", raw)
        params[match.group(1).lower()] = raw
    return mime, params


def _transfer_decode(encoding: str, data: bytes) -> bytes:
    if encoding == "base64":
        compact = b"".join(data.split())
        compact = compact[: len(compact) - len(compact) % 4]  # a prefix may end mid-quantum
        try:
            return base64.b64decode(compact)
        except binascii.Error:
            return b""
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    return data
