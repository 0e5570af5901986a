"""What the inbox keeps about a message, from its header fields and the first bytes of its body.

:func:`summarize` turns fetched header bytes and a body prefix into a :class:`MessageSummary`
(addresses, dates, threading ids, snippet); :class:`FetchedMessage` adds what the server knows
about the copy (UID, flags, size, arrival). Both are independent of how the message was fetched
(IMAP today; an HTTP mail API fits the same records).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape

from mailport.core.threading import message_ids, normalize_message_id

__all__ = ["SNIPPET_BYTES", "FetchedMessage", "MessageSummary", "summarize"]

SNIPPET_BYTES = 1024
_SNIPPET_CHARS = 200
# Header fields that decide whether a message must be read whole (a possible bounce).
_REPORT_SENDER = re.compile(r"mailer-daemon|postmaster|mail-daemon|microsoftexchange", re.IGNORECASE)
_SIMPLE_TEXT = re.compile(r'text/plain\s*(?:;\s*charset="?([A-Za-z0-9._:-]+)"?\s*)?$', re.IGNORECASE)


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



def _decode(value: str | None) -> str:
    if not value:
        return ""
    if "=?" not in value:  # no RFC 2047 encoded words: nothing to decode
        return " ".join(value.split())
    try:
        return " ".join(str(make_header(decode_header(value))).split())
    except (UnicodeError, LookupError, ValueError, TypeError):
        return " ".join(value.split())


def _addresses(msg: Message, name: str) -> tuple[tuple[str, str], ...]:
    values = [_decode(v) for v in msg.get_all(name) or []]
    return tuple((n.strip(), a.strip()) for n, a in getaddresses(values) if "@" in a)


def summarize(header: bytes, text_prefix: bytes = b"") -> MessageSummary:
    """Headers (+ the first bytes of the body) → what the store keeps about a message."""
    msg = BytesHeaderParser(policy=compat32).parsebytes(header)
    senders = _addresses(msg, "From")
    date_value: datetime | None = None
    raw_date = msg.get("Date")
    if raw_date:
        try:
            date_value = parsedate_to_datetime(str(raw_date))
            date_value = date_value.astimezone(UTC) if date_value.tzinfo else date_value.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError):
            date_value = None
    content_type = str(msg.get("Content-Type") or "").lower()
    sender_text = " ".join(a for _, a in senders)
    maybe_report = ("multipart/report" in content_type or bool(_REPORT_SENDER.search(sender_text))
                    or msg.get("X-Failed-Recipients") is not None)
    in_reply_to = message_ids(str(msg.get("In-Reply-To") or ""))
    return MessageSummary(
        header_message_id=normalize_message_id(str(msg.get("Message-ID") or "")),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(message_ids(str(msg.get("References") or ""))),
        subject=_decode(str(msg.get("Subject") or ""))[:2000],
        from_name=(senders[0][0] or None) if senders else None,
        from_email=senders[0][1] if senders else None,
        to=_addresses(msg, "To"), cc=_addresses(msg, "Cc"), reply_to=_addresses(msg, "Reply-To"),
        date=date_value,
        snippet=_snippet(str(msg.get("Content-Type") or ""), str(msg.get("Content-Transfer-Encoding") or ""),
                         text_prefix) if text_prefix else "",
        maybe_report=maybe_report,
    )


def _snippet(content_type: str, transfer_encoding: str, text_prefix: bytes) -> str:
    """The first words of the readable text, from a possibly truncated body.

    Only the body prefix is parsed (under a synthetic header carrying the message's own
    Content-Type and Content-Transfer-Encoding), not the message's headers a second time.
    """
    try:
        ctype_value = " ".join(content_type.split()) or "text/plain"
        cte_value = " ".join(transfer_encoding.split()) or "7bit"
        simple = _SIMPLE_TEXT.match(ctype_value)
        if simple and cte_value.lower() in ("7bit", "8bit", "binary"):
            # The common single-part plain-text mail: decode directly, no MIME parser needed.
            charset = (simple.group(1) or "utf-8").strip('"')
            try:
                text = text_prefix.decode(charset, "replace")
            except LookupError:
                text = text_prefix.decode("utf-8", "replace")
            return " ".join(text.split())[:_SNIPPET_CHARS]
        synthetic = (f"Content-Type: {ctype_value}\r\nContent-Transfer-Encoding: {cte_value}\r\n\r\n"
                     ).encode("ascii", "replace")
        msg = message_from_bytes(synthetic + text_prefix, policy=compat32)
        for part in msg.walk():
            ctype = part.get_content_type()
            if ctype not in ("text/plain", "text/html") or str(part.get("Content-Disposition", "")).startswith(
                    "attachment"):
                continue
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            charset = part.get_content_charset() or "utf-8"
            try:
                text = payload.decode(charset, "replace")
            except LookupError:
                text = payload.decode("utf-8", "replace")
            if ctype == "text/html":
                text = unescape(re.sub(r"(?is)<(script|style).*?</\1>|<[^>]+>", " ", text))
            text = " ".join(text.split())
            if text:
                return text[:_SNIPPET_CHARS]
    except (ValueError, TypeError, LookupError, IndexError, AssertionError):
        return ""
    return ""
