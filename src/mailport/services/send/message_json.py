"""The JSON shape of a message to send (``POST /v1/messages``, each batch item, each line of
``mailport send --batch``), validated by pydantic and turned into a :class:`SendRequest`."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

import pybase64
from pydantic import BaseModel, ConfigDict, Field

from mailport.core.message import Attachment, Mailbox
from mailport.errors import ValidationError
from mailport.services.send.submit import SendRequest

__all__ = ["AttachmentIn", "BatchItemIn", "MailboxIn", "MessageIn", "batch_item", "decode_attachment",
           "send_request"]


class MailboxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    name: str = Field("", max_length=300)


Address = Annotated[str | MailboxIn, Field(union_mode="left_to_right")]


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255, examples=["factuur-2026-0042.pdf"])
    content: str = Field(description="The file, base64-encoded.")
    content_type: str = Field("", max_length=255, description="Guessed from the name when empty.")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={"examples": [{
        "account": "acc_…", "to": [{"email": "debiteur@example.nl", "name": "Debiteur BV"}],
        "subject": "Factuur 2026-0042", "text": "Beste klant,\n\nIn de bijlage vindt u de factuur.",
        "attachments": [{"filename": "factuur-2026-0042.pdf", "content": "JVBERi0xLjQKJeLjz9MK"}],
        "metadata": {"invoice_id": "2026-0042"},
    }]})
    method: Literal["account", "platform", "domain"] | None = Field(
        None, description="`account`: a connected mailbox; `platform`: from the tenant's platform address "
                          "(Reply-To: its confirmed reply address); `domain`: `from` at one of the tenant's "
                          "own domains, DKIM-signed for it. Omitted: `account` when `account` or `from` is "
                          "given, else the tenant's default (`PATCH /v1/tenant`, or chosen on the settings "
                          "page), else its only mailbox.")
    account: str | None = Field(None, max_length=32, description="The sending account (default: the one of `from`).")
    from_: Address | None = Field(None, alias="from", description="Default: the account's address.")
    to: list[Address] = Field(default_factory=list, max_length=100,
                              description="Recipients: `\"a@b.nl\"` or `{\"email\", \"name\"}`; at least one of "
                                          "to, cc, bcc.")
    cc: list[Address] = Field(default_factory=list, max_length=100, description="Like `to`.")
    bcc: list[Address] = Field(default_factory=list, max_length=100,
                               description="Like `to`; not shown to the other recipients.")
    reply_to: list[Address] = Field(default_factory=list, max_length=10,
                                    description="Where replies go (not with `method` `platform`).")
    subject: str = Field("", max_length=2000)
    text: str | None = Field(None, description="The plain-text body.")
    html: str | None = Field(None, description="An HTML body (with `text`: both, as alternatives).")
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=100,
        description="`{filename, content (base64), content_type}`; or send them as multipart file parts. The "
                    "size limit (`MAILPORT_MAX_MESSAGE_BYTES`, 25 MB) counts the files and texts as they "
                    "are, not their base64.")
    headers: dict[str, str] = Field(default_factory=dict, description="X-* and a safe allow-list.")
    metadata: dict[str, str] = Field(default_factory=dict, description="Yours (e.g. the invoice id); echoed in events.")
    send_at: datetime | None = Field(None, description="Send later (RFC 3339 with time zone).")
    ignore_suppression: bool = Field(
        False, description="Send even to addresses on the suppression list (otherwise refused with "
                           "`send.recipient_suppressed`).")


class BatchItemIn(MessageIn):
    idempotency_key: str | None = Field(None, max_length=255, description="This item's own "
                                        "Idempotency-Key: the same key and body again returns the same message.")


def _mailbox(value: str | MailboxIn, field: str) -> str | Mailbox:
    if isinstance(value, str):
        return value
    return Mailbox.parse(value.email, name=value.name, field=field)


def _b64decode(text: str) -> bytes:
    """Strict base64 as ``base64.b64decode(text, validate=True)`` decodes it. pybase64's SIMD
    decoder takes 2 µs where the stdlib takes 60 for a 20 KB invoice (a tenth of a batch item's
    API CPU); it refuses a few inputs the stdlib takes (padding beyond the first ``==``), so
    anything it refuses goes to the stdlib, whose answer — bytes or the error — stands."""
    try:
        return pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(text, validate=True)


def decode_attachment(attachment: AttachmentIn, index: int) -> Attachment:
    try:
        content = _b64decode(attachment.content)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(f"attachments[{index}].content is not valid base64",
                              field=f"attachments[{index}].content") from exc
    return Attachment(filename=attachment.filename, content=content, content_type=attachment.content_type)


def send_request(body: MessageIn, attachments: list[Attachment]) -> SendRequest:
    sender = body.from_
    return SendRequest(
        method=body.method, account_id=body.account,
        from_email=sender if isinstance(sender, str) else (sender.email if sender else None),
        from_name=sender.name if isinstance(sender, MailboxIn) else None,
        to=[_mailbox(v, f"to[{i}]") for i, v in enumerate(body.to)],
        cc=[_mailbox(v, f"cc[{i}]") for i, v in enumerate(body.cc)],
        bcc=[_mailbox(v, f"bcc[{i}]") for i, v in enumerate(body.bcc)],
        reply_to=[_mailbox(v, f"reply_to[{i}]") for i, v in enumerate(body.reply_to)],
        subject=body.subject, text=body.text, html=body.html, attachments=attachments,
        headers=body.headers, metadata=body.metadata, send_at=body.send_at,
        ignore_suppression=body.ignore_suppression,
    )


def batch_item(raw: Any, index: int) -> tuple[SendRequest, str | None]:
    """One batch item (a JSON object: a message plus its ``idempotency_key``) as a request.

    Raises :class:`pydantic.ValidationError` for a shape error, :class:`~mailport.errors.
    ValidationError` for bad content (base64, addresses)."""
    body = BatchItemIn.model_validate(raw)
    return send_request(body, [decode_attachment(a, i) for i, a in enumerate(body.attachments)]), body.idempotency_key
