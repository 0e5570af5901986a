"""A document + its recipients -> the exact bytes and SMTP envelope to send.

Pure: the Message-ID token and the Date come from the caller (``make_id``, ``now``), and MIME
boundaries are derived from the Message-ID, so the same draft built with the same inputs gives the
same bytes — which is what lets a retry after a crash resend an identical message.

What this module guarantees about the output:

* CRLF line ends, every header line ASCII (RFC 2047 encoded words for display names and subjects,
  RFC 2231 for attachment file names, IDN domains as punycode) — unless an address has a non-ASCII
  *local part*, which no encoding can carry: then the message is rendered with raw UTF-8 headers
  (RFC 6532) and :attr:`BuiltMessage.smtputf8` tells the sender it needs a server offering SMTPUTF8.
* No header injection: CR, LF, other C0/C1 controls and the Unicode line/paragraph separators are
  refused in every header-bound value with :class:`~mailport.errors.HeaderInjectionError` naming
  the field (``to[1].name``, ``attachments[0].filename``, ``headers.X-Invoice-Id`` …).
* Bcc recipients are in the envelope only, never in the bytes.
* The tree is the one mail clients expect::

      multipart/mixed                  (only when there are attachments)
      ├── multipart/alternative        (only when both text and html are given)
      │   ├── text/plain
      │   └── text/html
      └── attachment …                 (base64, filename in Content-Disposition and Content-Type)

Custom headers (:data:`ALLOWED_HEADERS` plus any ``X-*`` except ``X-Mailport-*``) are an
allow-list on purpose: anything that decides who the mail is from or to, how it is authenticated or
how its body is parsed (From, Sender, Return-Path, DKIM-Signature, Content-*, …) is ours to set.
``metadata`` never reaches the wire — it is the host application's private data, echoed in events.
"""

from __future__ import annotations

import email.parser
import email.utils
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from types import MappingProxyType
from typing import TypeAlias

import idna

from mailport.core import mime_fast
from mailport.core.addresses import Address, parse_address, reject_control_chars
from mailport.core.displaynames import check_from_name
from mailport.core.filenames import attachment_name, mime_param_header
from mailport.errors import HeaderInjectionError, ValidationError

__all__ = [
    "ALLOWED_HEADERS",
    "Attachment",
    "BuiltMessage",
    "Envelope",
    "Mailbox",
    "MessageDraft",
    "build_message",
    "guess_content_type",
    "megabytes",
    "sent_copy",
    "with_bcc_header",
]

# Headers a caller may add, with a validator each (None: free text). ``X-*`` is allowed as well.
_MSG_ID = r"<[!-;=?-~]+@[!-;=?-~]+>"  # printable ASCII without < > and whitespace
_MSG_ID_LIST = re.compile(rf"\s*{_MSG_ID}(\s+{_MSG_ID})*\s*")
_UNSUBSCRIBE = re.compile(
    r"\s*<(mailto:|https://)[^<>\s]+>(\s*,\s*<(mailto:|https://)[^<>\s]+>)*\s*"
)


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


def _one_of(*values: str) -> Callable[[str], bool]:
    allowed = {v.lower() for v in values}
    return lambda value: value.strip().lower() in allowed


ALLOWED_HEADERS: Mapping[str, Callable[[str], bool] | None] = MappingProxyType(
    {
        # Threading: a reminder that replies to the original invoice mail.
        "In-Reply-To": _matches(re.compile(rf"\s*{_MSG_ID}\s*")),
        "References": _matches(_MSG_ID_LIST),
        # RFC 3834: tells auto-responders not to answer machine-sent invoices.
        "Auto-Submitted": _one_of("no", "auto-generated", "auto-replied", "auto-notified"),
        # RFC 2369 / RFC 8058 for newsletters sent by the host.
        "List-Unsubscribe": _matches(_UNSUBSCRIBE),
        "List-Unsubscribe-Post": _one_of("List-Unsubscribe=One-Click"),
        "List-Id": _matches(re.compile(r"[^<>]*<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+>\s*")),
        "Importance": _one_of("low", "normal", "high"),
        "Priority": _one_of("non-urgent", "normal", "urgent"),
        "Organization": None,
        "Keywords": None,
    }
)
_ALLOWED_BY_LOWER = {name.lower(): name for name in ALLOWED_HEADERS}
# Headers that have their own draft field — the error message points there.
_DEDICATED_FIELDS = {
    "from": "from",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "reply-to": "reply_to",
    "subject": "subject",
}
_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,75}")
_MAX_HEADER_VALUE = 2000
_MAX_SUBJECT = 2000
_MAX_NAME = 300
_MAX_FILENAME = 255
_MAX_METADATA_KEYS = 50
_METADATA_KEY = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_MAX_METADATA_VALUE = 500
_ID_TOKEN = re.compile(r"[A-Za-z0-9._=+-]{1,128}")
_CONTENT_TYPE = re.compile(r"([a-z0-9][a-z0-9!#$&^_.+-]{0,126})/([a-z0-9][a-z0-9!#$&^_.+-]{0,126})")

# Beyond what ``reject_control_chars`` catches: C1 controls and the characters Python's
# ``str.splitlines`` (used when folding headers) treats as line breaks.
_EXTRA_BREAKS = re.compile("[\x80-\x9f\u2028\u2029]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

# By extension, for callers that do not say what they attach; common business documents first.
_TYPES_BY_EXTENSION = MappingProxyType(
    {
        "pdf": "application/pdf",
        "xml": "application/xml",  # UBL / Factur-X / XRechnung e-invoices
        "csv": "text/csv",
        "txt": "text/plain",
        "htm": "text/html",
        "html": "text/html",
        "json": "application/json",
        "ics": "text/calendar",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "svg": "image/svg+xml",
        "tif": "image/tiff",
        "tiff": "image/tiff",
        "zip": "application/zip",
        "gz": "application/gzip",
        "7z": "application/x-7z-compressed",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt": "application/vnd.ms-powerpoint",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text",
        "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "rtf": "application/rtf",
        "p7m": "application/pkcs7-mime",
        "p7s": "application/pkcs7-signature",
    }
)
# Leading bytes, for files whose name has no known extension.
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
)
_OCTET_STREAM = "application/octet-stream"
# Generic only in typeshed, so the alias stays a string at runtime.
_Policy: TypeAlias = "email_policy.EmailPolicy[EmailMessage]"


def check_header_text(value: str, *, field: str) -> str:
    """``value`` unchanged when it may stand in a header (a display name saved for later mail):
    no CR, LF or other control character, no C1 control or Unicode line separator — what a
    message refuses, so a saved name cannot make every later message from it fail."""
    return _check_text(value, field=field)


def _check_text(value: str, *, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string", field=field)
    reject_control_chars(value, field=field)
    if _EXTRA_BREAKS.search(value):
        raise HeaderInjectionError(
            f"{field} must not contain line breaks or control characters", field=field
        )
    return value


def guess_content_type(filename: str, content: bytes = b"") -> str:
    """The media type for an attachment: by extension, else by leading bytes, else octet-stream."""
    _, dot, extension = filename.rpartition(".")
    if dot:
        known = _TYPES_BY_EXTENSION.get(extension.lower())
        if known:
            return known
    for magic, media_type in _MAGIC:
        if content.startswith(magic):
            return media_type
    return _OCTET_STREAM


@dataclass(frozen=True, slots=True)
class Mailbox:
    """An address with an optional display name (``"Doe, Jan" <jan@example.com>``)."""

    address: Address
    name: str = ""

    def __post_init__(self) -> None:
        if len(_check_text(self.name, field="name")) > _MAX_NAME:
            raise ValidationError(f"name is longer than {_MAX_NAME} characters", field="name")

    @classmethod
    def parse(cls, email: str, *, name: str = "", field: str = "email") -> Mailbox:
        """Validate a bare address and a display name; errors name ``field`` / ``field.name``."""
        address = parse_address(email, field=field)
        _check_text(name, field=f"{field}.name")
        if len(name) > _MAX_NAME:
            raise ValidationError(
                f"{field}.name is longer than {_MAX_NAME} characters", field=f"{field}.name"
            )
        return cls(address=address, name=name.strip())

    def header_address(self) -> HeaderAddress:
        # The domain goes out as punycode even in UTF-8 mode: every server understands it.
        return HeaderAddress(
            display_name=self.name,
            username=self.address.local_part,
            domain=self.address.ascii_domain,
        )

    @property
    def envelope_address(self) -> str:
        """The form for MAIL FROM / RCPT TO: ASCII when possible, UTF-8 only if it must be."""
        return self.address.ascii_email or f"{self.address.local_part}@{self.address.ascii_domain}"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to attach. ``content_type`` is guessed from the name (then the bytes) when omitted.

    Checked when put into a :class:`MessageDraft`, so errors name it ``attachments[i]…``.
    """

    filename: str
    content: bytes
    content_type: str = ""

    def __post_init__(self) -> None:
        # Every way in (JSON, a multipart upload, the batch, the CLI, the library) makes one
        # name: composed (NFC), so "März" from a Mac's upload and from JSON are the same bytes.
        if isinstance(self.filename, str):
            object.__setattr__(self, "filename", attachment_name(self.filename))

    @property
    def media_type(self) -> str:
        return self.content_type or guess_content_type(self.filename, self.content)


def _check_attachment(attachment: Attachment, *, field: str) -> None:
    name_field = f"{field}.filename"
    filename = _check_text(attachment.filename, field=name_field)
    if not filename.strip():
        raise ValidationError(f"{name_field} is empty", field=name_field)
    if len(filename) > _MAX_FILENAME:
        raise ValidationError(
            f"{name_field} is longer than {_MAX_FILENAME} characters", field=name_field
        )
    # A path in a file name is at best a leak of the host's directory layout, at worst a
    # path-traversal for the recipient's client: refuse rather than silently strip.
    if "/" in filename or "\\" in filename:
        raise ValidationError(f"{name_field} must not contain a path", field=name_field)
    # Bidi overrides make "invoice\u202efdp.exe" display as "invoiceexe.pdf" — a classic lure.
    if _BIDI_CONTROLS.search(filename):
        raise ValidationError(
            f"{name_field} must not contain bidirectional control characters", field=name_field
        )
    if not isinstance(attachment.content, bytes):
        raise ValidationError(f"{field}.content must be bytes", field=f"{field}.content")
    if attachment.content_type:
        type_field = f"{field}.content_type"
        _check_text(attachment.content_type, field=type_field)
        match = _CONTENT_TYPE.fullmatch(attachment.content_type.lower())
        if match is None:
            raise ValidationError(
                f"{type_field} must look like type/subtype (e.g. application/pdf)", field=type_field
            )
        if match.group(1) in ("multipart", "message"):
            raise ValidationError(
                f"{type_field} {match.group(1)}/* cannot be attached as a file", field=type_field
            )


def _mailboxes(values: Sequence[str | Mailbox] | None, *, field: str) -> tuple[Mailbox, ...]:
    if values is None:
        return ()
    if isinstance(values, (str, Mailbox)):
        values = [values]
    return tuple(
        value if isinstance(value, Mailbox) else Mailbox.parse(value, field=f"{field}[{index}]")
        for index, value in enumerate(values)
    )


@dataclass(frozen=True)
class MessageDraft:
    """Everything the caller decides about a message; validated on construction.

    Prefer :meth:`create`, which accepts bare address strings and names errors by field path.
    """

    from_: Mailbox
    to: tuple[Mailbox, ...] = ()
    cc: tuple[Mailbox, ...] = ()
    bcc: tuple[Mailbox, ...] = ()
    reply_to: tuple[Mailbox, ...] = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        *,
        from_: str | Mailbox,
        to: Sequence[str | Mailbox] = (),
        cc: Sequence[str | Mailbox] = (),
        bcc: Sequence[str | Mailbox] = (),
        reply_to: Sequence[str | Mailbox] = (),
        subject: str = "",
        text: str | None = None,
        html: str | None = None,
        attachments: Sequence[Attachment] = (),
        headers: Mapping[str, str] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> MessageDraft:
        sender = from_ if isinstance(from_, Mailbox) else Mailbox.parse(from_, field="from")
        return cls(
            from_=sender,
            to=_mailboxes(to, field="to"),
            cc=_mailboxes(cc, field="cc"),
            bcc=_mailboxes(bcc, field="bcc"),
            reply_to=_mailboxes(reply_to, field="reply_to"),
            subject=subject,
            text=text,
            html=html,
            attachments=tuple(attachments),
            headers=dict(headers or {}),
            metadata=dict(metadata or {}),
        )

    def __post_init__(self) -> None:
        for name in ("to", "cc", "bcc", "reply_to", "attachments"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not isinstance(self.from_, Mailbox):
            raise ValidationError("from must be a Mailbox", field="from")
        for name in ("to", "cc", "bcc", "reply_to"):
            for index, mailbox in enumerate(getattr(self, name)):
                if not isinstance(mailbox, Mailbox):
                    raise ValidationError(
                        f"{name}[{index}] must be a Mailbox", field=f"{name}[{index}]"
                    )
        if self.from_.name:
            sender = self.from_.address
            check_from_name(self.from_.name, (sender.email, sender.ascii_email or sender.email), field="from.name")
        if not (self.to or self.cc or self.bcc):
            raise ValidationError("at least one recipient (to, cc or bcc) is required", field="to")
        _check_text(self.subject, field="subject")
        if len(self.subject) > _MAX_SUBJECT:
            raise ValidationError(
                f"subject is longer than {_MAX_SUBJECT} characters", field="subject"
            )
        if self.text is None and self.html is None:
            raise ValidationError("a text or html body is required", field="text")
        for body_field in ("text", "html"):
            body = getattr(self, body_field)
            if body is not None and not isinstance(body, str):
                raise ValidationError(f"{body_field} must be a string", field=body_field)
            if body is not None and "\x00" in body:
                # No transfer encoding may carry a NUL as text (RFC 5322 2.3, RFC 2045 2.7):
                # sent as 7bit it reached the mailbox altered (Dovecot stores 0x80 instead).
                raise ValidationError(f"{body_field} must not contain NUL characters (U+0000)",
                                      field=body_field)
        for index, attachment in enumerate(self.attachments):
            if not isinstance(attachment, Attachment):
                raise ValidationError(
                    f"attachments[{index}] must be an Attachment", field=f"attachments[{index}]"
                )
            _check_attachment(attachment, field=f"attachments[{index}]")
        object.__setattr__(self, "headers", MappingProxyType(_checked_headers(self.headers)))
        object.__setattr__(self, "metadata", MappingProxyType(_checked_metadata(self.metadata)))

    @property
    def recipients(self) -> tuple[Mailbox, ...]:
        """to, cc and bcc without duplicates (compared case-insensitively), in that order."""
        seen: set[str] = set()
        unique: list[Mailbox] = []
        for mailbox in (*self.to, *self.cc, *self.bcc):
            if mailbox.address.key not in seen:
                seen.add(mailbox.address.key)
                unique.append(mailbox)
        return tuple(unique)

    @property
    def needs_smtputf8(self) -> bool:
        """True when an address has a non-ASCII local part (no encoding can carry it)."""
        everyone = (self.from_, *self.to, *self.cc, *self.bcc, *self.reply_to)
        return any(mailbox.address.smtputf8 for mailbox in everyone)


def _checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(headers, Mapping):
        raise ValidationError("headers must be an object of name: value", field="headers")
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for raw_name, value in headers.items():
        if not isinstance(raw_name, str):
            raise ValidationError("header names must be strings", field="headers")
        # The name is checked for controls first: it is echoed in the field path of errors.
        _check_text(raw_name, field="headers")
        name = raw_name.strip()
        field_name = f"headers.{name}"
        if not _HEADER_NAME.fullmatch(name):
            raise ValidationError(
                f"header name {name!r} must be letters, digits and dashes", field=field_name
            )
        lower = name.lower()
        if lower in seen:
            raise ValidationError(f"header {name} is given twice", field=field_name)
        seen.add(lower)
        _check_text(value, field=field_name)
        if len(value) > _MAX_HEADER_VALUE:
            raise ValidationError(
                f"header {name} is longer than {_MAX_HEADER_VALUE} characters", field=field_name
            )
        if lower in _DEDICATED_FIELDS:
            raise ValidationError(
                f"header {name} cannot be set as a custom header; use the "
                f"{_DEDICATED_FIELDS[lower]!r} field",
                field=field_name,
            )
        if lower.startswith("x-"):
            if lower.startswith("x-mailport-"):
                raise ValidationError(
                    f"header {name} is reserved for mailport itself", field=field_name
                )
            checked[name] = value.strip()
            continue
        canonical = _ALLOWED_BY_LOWER.get(lower)
        if canonical is None:
            raise ValidationError(
                f"header {name} is not allowed; allowed are X-* and " + ", ".join(ALLOWED_HEADERS),
                field=field_name,
            )
        validator = ALLOWED_HEADERS[canonical]
        if validator is not None and not validator(value):
            raise ValidationError(f"header {canonical} has an invalid value", field=field_name)
        checked[canonical] = value.strip()
    if "List-Unsubscribe-Post" in checked and "List-Unsubscribe" not in checked:
        raise ValidationError(
            "header List-Unsubscribe-Post needs a List-Unsubscribe header",
            field="headers.List-Unsubscribe-Post",
        )
    return checked


def _checked_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(metadata, Mapping):
        raise ValidationError("metadata must be an object of key: value", field="metadata")
    if len(metadata) > _MAX_METADATA_KEYS:
        raise ValidationError(f"metadata has more than {_MAX_METADATA_KEYS} keys", field="metadata")
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY.fullmatch(key):
            raise ValidationError(
                "metadata keys must be 1-40 letters, digits, '_', '.' or '-'", field="metadata"
            )
        if not isinstance(value, str) or len(value) > _MAX_METADATA_VALUE:
            raise ValidationError(
                f"metadata.{key} must be a string of at most {_MAX_METADATA_VALUE} characters",
                field=f"metadata.{key}",
            )
        if "\x00" in value:  # no database stores it as text, and it marks a broken caller
            raise ValidationError(f"metadata.{key} must not contain NUL characters (U+0000)",
                                  field=f"metadata.{key}")
    return dict(metadata)


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP envelope: ``MAIL FROM`` and every ``RCPT TO`` (Bcc included)."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    smtputf8: bool

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for storing next to the message bytes."""
        return {
            "mail_from": self.mail_from,
            "rcpt_to": list(self.rcpt_to),
            "smtputf8": self.smtputf8,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, object]) -> Envelope:
        mail_from, rcpt_to, smtputf8 = (
            value.get("mail_from"),
            value.get("rcpt_to"),
            value.get("smtputf8"),
        )
        if (
            not isinstance(mail_from, str)
            or not isinstance(rcpt_to, (list, tuple))
            or not rcpt_to
            or not all(isinstance(r, str) for r in rcpt_to)
            or not isinstance(smtputf8, bool)
        ):
            raise ValidationError("not a stored envelope", field="envelope")
        for address in (mail_from, *rcpt_to):
            _check_text(address, field="envelope")
        return cls(mail_from=mail_from, rcpt_to=tuple(rcpt_to), smtputf8=smtputf8)


@dataclass(frozen=True, slots=True)
class BuiltMessage:
    """The wire form of a draft."""

    raw: bytes
    envelope: Envelope
    message_id: str

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def smtputf8(self) -> bool:
        return self.envelope.smtputf8


def megabytes(size: int) -> str:
    """``25 MB`` (MiB, as mail providers count their limits), one decimal when it matters."""
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


def _too_large(*, size: int, limit: int, at_least: bool, field: str = "attachments") -> ValidationError:
    qualifier = "at least " if at_least else ""
    return ValidationError(
        f"the message is {qualifier}{megabytes(size)}, larger than the limit of {megabytes(limit)}",
        code="request.message_too_large",
        field=field,
        size=size,
        limit=limit,
    )


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_cte(text: str, *, allow_8bit: bool) -> str:
    """The transfer encoding for a body: the most readable one that every relay accepts.

    8bit only when the message needs SMTPUTF8 anyway (RFC 6531 implies 8BITMIME); otherwise
    quoted-printable for mostly-Latin text, base64 for mostly non-Latin (CJK, Cyrillic …) text.
    """
    data = text.encode("utf-8")
    longest = max((len(line) for line in data.split(b"\n")), default=0)
    if longest <= 998:
        if data.isascii():
            return "7bit"
        if allow_8bit:
            return "8bit"
    # Latin scripts with accents stay readable in quoted-printable; scripts that are mostly
    # non-ASCII would have each of their 2-3 UTF-8 bytes tripled by it.
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return "quoted-printable" if non_ascii * 4 <= len(text) else "base64"


def _text_part(text: str, subtype: str, *, allow_8bit: bool, msg_policy: _Policy) -> MIMEPart:
    body = _normalize_newlines(text)
    part = MIMEPart(policy=msg_policy)
    part.set_content(
        body, subtype=subtype, charset="utf-8", cte=_text_cte(body, allow_8bit=allow_8bit)
    )
    return part


def _attachment_part(attachment: Attachment, *, msg_policy: _Policy) -> MIMEPart:
    maintype, _, subtype = attachment.media_type.lower().partition("/")
    part = MIMEPart(policy=msg_policy)
    part.set_content(attachment.content, maintype=maintype, subtype=subtype, cte="base64")
    # The name as filenames.mime_param_header writes it, for mime_fast's bytes too — not the
    # stdlib's quoted string with backslash escapes (shown with the backslashes by Outlook and
    # webmail), nor raw UTF-8 in an SMTPUTF8 message. ``name`` on Content-Type as well: older
    # Outlook versions only look there. set_raw keeps the value as written (folded at 78 already).
    content_type = mime_param_header("Content-Type", f"{maintype}/{subtype}", "name", attachment.filename)
    disposition = mime_param_header("Content-Disposition", "attachment", "filename", attachment.filename)
    encoding = part["Content-Transfer-Encoding"]
    for name in list(part.keys()):
        del part[name]
    for line in (content_type, disposition):
        name, _, value = line.partition(": ")
        part.set_raw(name, value.removesuffix("\r\n"))
    part["Content-Transfer-Encoding"] = encoding
    return part


def _multipart(subtype: str, parts: list[MIMEPart], *, msg_policy: _Policy) -> MIMEPart:
    container = MIMEPart(policy=msg_policy)
    container["Content-Type"] = f"multipart/{subtype}"
    for part in parts:
        container.attach(part)
    return container


def _leaf_payloads(part: MIMEPart) -> list[str]:
    if part.is_multipart():
        return [text for sub in part.iter_parts() for text in _leaf_payloads(sub)]
    payload = part.get_payload()
    return [payload] if isinstance(payload, str) else []


def _set_boundaries(root: MIMEPart, *, seed: str) -> None:
    """Deterministic boundaries (the stdlib's are random), checked against every body: the
    fast path's own (:func:`mime_fast.boundaries`), so both paths write the same bytes."""
    fresh = mime_fast.boundaries(seed, _leaf_payloads(root))

    def assign(part: MIMEPart) -> None:
        if not part.is_multipart():
            return
        part.set_boundary(next(fresh))
        for sub in part.iter_parts():
            assign(sub)

    assign(root)


def _message_id(*, make_id: Callable[[], str], message_id_domain: str) -> str:
    token = make_id()
    if not isinstance(token, str) or not _ID_TOKEN.fullmatch(token):
        raise ValidationError(
            "make_id must return 1-128 letters, digits or ._=+-", field="message_id"
        )
    return f"<{token}@{_id_domain(message_id_domain)}>"


@functools.lru_cache(maxsize=1024)
def _id_domain(message_id_domain: str) -> str:
    """The Message-ID's domain in ASCII; the same few domains send thousands of messages, and
    IDNA (UTS 46) took ~5 µs of each accepted message's CPU."""
    try:
        domain = idna.encode(message_id_domain.strip().rstrip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(
            f"message_id_domain {message_id_domain!r} is not a valid domain",
            field="message_id_domain",
        ) from exc
    return domain.lower()


_last_date: tuple[datetime, str] = (datetime.min, "")


def _date_header(now: datetime) -> str:
    """``format_datetime(now)``, remembered for the last ``now``: a batch of messages is built
    with one (a pair swapped whole, as threads share it)."""
    global _last_date
    seen, text = _last_date
    if now is not seen:
        text = format_datetime(now)
        _last_date = (now, text)
    return text


def build_message(
    draft: MessageDraft,
    *,
    message_id_domain: str,
    now: datetime,
    make_id: Callable[[], str],
    max_bytes: int | None = None,
) -> BuiltMessage:
    """Render ``draft`` to wire bytes (CRLF) and its envelope.

    ``make_id`` returns the random part of the Message-ID (the caller's randomness, e.g.
    ``lambda: uuid.uuid4().hex``); ``now`` must be timezone-aware. With ``max_bytes`` the size of
    what the user sends — texts and attachments as they are, not their base64 on the wire (a 24 MB
    PDF fits a 25 MB limit) — is checked before anything is encoded, and a
    :class:`~mailport.errors.ValidationError` (code ``request.message_too_large``, fields ``size``
    and ``limit`` in bytes, the message in MB) is raised.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("now must be timezone-aware", field="now")
    if max_bytes is not None:
        if max_bytes <= 0:
            raise ValidationError("max_bytes must be positive", field="max_bytes")
        parts = {"attachments": sum(len(a.content) for a in draft.attachments),
                 "text": len(draft.text.encode("utf-8")) if draft.text is not None else 0,
                 "html": len(draft.html.encode("utf-8")) if draft.html is not None else 0}
        decoded = sum(parts.values())
        if decoded > max_bytes:  # ``field``: the part that makes it large (a 30 MB text is not an attachment)
            raise _too_large(size=decoded, limit=max_bytes, at_least=False, field=max(parts, key=parts.__getitem__))

    utf8 = draft.needs_smtputf8
    message_id = _message_id(make_id=make_id, message_id_domain=message_id_domain)
    envelope = Envelope(
        mail_from=draft.from_.envelope_address,
        rcpt_to=tuple(mailbox.envelope_address for mailbox in draft.recipients),
        smtputf8=utf8,
    )
    text_cte = {subtype: _text_cte(_normalize_newlines(text), allow_8bit=utf8)
                for subtype, text in (("plain", draft.text), ("html", draft.html)) if text is not None}
    raw = mime_fast.render(draft, message_id=message_id, date=_date_header(now), text_cte=text_cte)
    if raw is None:
        raw = _render_stdlib(draft, message_id=message_id, now=now, utf8=utf8)
    return BuiltMessage(raw=raw, envelope=envelope, message_id=message_id)


def _render_stdlib(draft: MessageDraft, *, message_id: str, now: datetime, utf8: bool) -> bytes:
    """The bytes through the ``email`` package: the reference :mod:`.mime_fast` matches."""
    msg_policy = (email_policy.SMTPUTF8 if utf8 else email_policy.SMTP).clone(max_line_length=78)

    bodies: list[MIMEPart] = []
    if draft.text is not None:
        bodies.append(_text_part(draft.text, "plain", allow_8bit=utf8, msg_policy=msg_policy))
    if draft.html is not None:
        bodies.append(_text_part(draft.html, "html", allow_8bit=utf8, msg_policy=msg_policy))
    body = (
        bodies[0] if len(bodies) == 1 else _multipart("alternative", bodies, msg_policy=msg_policy)
    )
    if draft.attachments:
        files = [_attachment_part(a, msg_policy=msg_policy) for a in draft.attachments]
        body = _multipart("mixed", [body, *files], msg_policy=msg_policy)
    _set_boundaries(body, seed=message_id)

    root = EmailMessage(policy=msg_policy)
    root["From"] = draft.from_.header_address()
    if draft.to:
        root["To"] = [mailbox.header_address() for mailbox in draft.to]
    if draft.cc:
        root["Cc"] = [mailbox.header_address() for mailbox in draft.cc]
    if draft.reply_to:
        root["Reply-To"] = [mailbox.header_address() for mailbox in draft.reply_to]
    root["Subject"] = draft.subject
    root["Date"] = format_datetime(now)
    root["Message-ID"] = message_id
    for name, value in draft.headers.items():
        root[name] = value
    root["MIME-Version"] = "1.0"
    for name, value in body.items():  # Content-Type, Content-Transfer-Encoding
        root[name] = value
    root.set_payload(body.get_payload())

    return root.as_bytes(policy=msg_policy.clone(linesep="\r\n"))


def sent_copy(built: BuiltMessage, *, draft: MessageDraft) -> bytes:
    """The bytes to APPEND to the sender's Sent folder.

    The sent bytes plus a ``Bcc`` header — the sender should still see whom they blind-copied,
    as every mail client keeps it in its own copy. Only the Bcc line is new, so the Sent copy
    and the delivered message share Message-ID, Date and body byte for byte.
    """
    if not draft.bcc:
        return built.raw
    if not built.smtputf8:
        return mime_fast.address_header("Bcc", draft.bcc) + built.raw
    msg_policy = email_policy.SMTPUTF8 if built.smtputf8 else email_policy.SMTP
    header = EmailMessage(policy=msg_policy)
    header["Bcc"] = [mailbox.header_address() for mailbox in draft.bcc]
    line = header.as_bytes(policy=msg_policy.clone(linesep="\r\n")).split(b"\r\n\r\n", 1)[0]
    return line + b"\r\n" + built.raw


def with_bcc_header(raw: bytes, recipients: Sequence[str]) -> bytes:
    """``raw`` with a ``Bcc:`` header naming the envelope ``recipients`` its To/Cc lack.

    Provider APIs (Gmail ``users.messages.send``, Graph ``sendMail`` with MIME) take their
    recipients from the headers, not from an envelope; Bcc recipients live only in the envelope
    here (see the module doc), so they would be silently dropped. Both providers remove the Bcc
    header before delivery. The rest of the bytes stay exactly as built.
    """
    head, sep, _body = raw.partition(b"\r\n\r\n")
    if not sep:
        return raw
    parsed = email.parser.BytesHeaderParser(policy=email_policy.compat32).parsebytes(head + sep)
    named = {addr.lower() for _, addr in email.utils.getaddresses(
        [str(v) for k in ("To", "Cc", "Bcc") for v in (parsed.get_all(k) or [])]) if addr}
    missing = [r for r in recipients if r.lower() not in named]
    if not missing:
        return raw
    for r in missing:
        reject_control_chars(r, field="bcc")
    return head + b"\r\nBcc: " + ", ".join(missing).encode() + raw[len(head):]
