"""What the sync and the async client share: configuration, request bodies, retry decisions.

Pure functions on plain values, so both clients (one generated from the other) build exactly the
same requests.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from mailport import __version__, errors
from mailport.client.models import Attachment, Mailbox, OutgoingMessage

__all__ = ["AddressLike", "ClientConfig", "batch_request", "message_request", "new_idempotency_key", "parse",
           "parse_list"]

USER_AGENT = f"mailport-client/{__version__}"
# Above this many attachment bytes the message goes as multipart/form-data: no base64 inflation
# (a third more bytes) and no multi-megabyte JSON string for the server to parse.
MULTIPART_THRESHOLD = 256 * 1024
RETRY_STATUSES = frozenset({502, 503, 504})

AddressLike = str | Mailbox
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    base_url: str
    api_key: str | None
    timeout: float
    language: str | None
    max_retries: int
    retry_backoff: float

    def __post_init__(self) -> None:
        url = httpx.URL(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise errors.ValidationError("base_url must be an absolute http(s) URL", field="base_url")
        if self.max_retries < 0 or self.timeout <= 0 or self.retry_backoff < 0:
            raise errors.ValidationError("timeout must be positive, max_retries and retry_backoff not negative",
                                         field="max_retries")

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.language:
            headers["Accept-Language"] = self.language
        return headers

    def delay(self, attempt: int) -> float:
        return float(self.retry_backoff * (2 ** attempt))


def new_idempotency_key() -> str:
    """A fresh key: the same key on a retry makes the server return the first message."""
    return str(uuid.uuid4())


def retryable(*, method: str, idempotent: bool, status: int | None) -> bool:
    """Retry a request that failed in transit (``status`` None) or with 502/503/504 only if
    repeating it cannot do anything twice. A 502 whose body is a mailport problem is a mail
    server's verdict, not a gateway hiccup: :func:`is_gateway_error` tells them apart."""
    safe = idempotent or method in ("GET", "HEAD", "PUT", "DELETE")
    return safe and (status is None or status in RETRY_STATUSES)


def is_gateway_error(response: httpx.Response) -> bool:
    """A 502/503/504 from a load balancer or a restarting process, not mailport's own answer."""
    if response.status_code not in RETRY_STATUSES:
        return False
    if response.status_code == 503:
        return True  # mailport's own 503s (database down) are worth a retry as well
    return not response.headers.get("content-type", "").startswith("application/problem+json")


def params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones."""
    return {k: v for k, v in values.items() if v is not None}


def address(value: AddressLike) -> str | dict[str, str]:
    if isinstance(value, Mailbox):
        return value.to_json()
    if isinstance(value, str):
        return value
    raise errors.ValidationError("an address is a string or a Mailbox", field="to")


def _check_sequence(value: object, name: str) -> None:
    if isinstance(value, (str, bytes)):
        raise errors.ValidationError(f"{name} is a list of addresses, not one string", field=name)


def message_request(
    *,
    to: Sequence[AddressLike],
    subject: str,
    text: str | None,
    html: str | None,
    account: str | None,
    from_: AddressLike | None,
    cc: Sequence[AddressLike],
    bcc: Sequence[AddressLike],
    reply_to: Sequence[AddressLike],
    attachments: Sequence[Attachment],
    headers: Mapping[str, str] | None,
    metadata: Mapping[str, str] | None,
    send_at: datetime | None,
    multipart_threshold: int,
    ignore_suppression: bool = False,
) -> dict[str, Any]:
    """The keyword arguments for ``httpx`` (``json=`` or ``files=``) of ``POST /v1/messages``."""
    for name, value in (("to", to), ("cc", cc), ("bcc", bcc), ("reply_to", reply_to)):
        _check_sequence(value, name)
    if send_at is not None and send_at.tzinfo is None:
        raise errors.ValidationError("send_at must carry a time zone", field="send_at")
    body: dict[str, Any] = {
        "to": [address(a) for a in to],
        "cc": [address(a) for a in cc],
        "bcc": [address(a) for a in bcc],
        "reply_to": [address(a) for a in reply_to],
        "subject": subject,
        "headers": dict(headers or {}),
        "metadata": dict(metadata or {}),
    }
    if ignore_suppression:
        body["ignore_suppression"] = True
    optional = {"account": account, "from": address(from_) if from_ is not None else None,
                "text": text, "html": html, "send_at": send_at.isoformat() if send_at else None}
    body.update({k: v for k, v in optional.items() if v is not None})
    size = sum(len(a.content) for a in attachments)
    if attachments and size > multipart_threshold:
        files: list[tuple[str, tuple[str | None, str | bytes, str]]] = [
            ("message", (None, json.dumps(body), "application/json"))]
        files += [("attachments", (a.filename, a.content, a.content_type or "application/octet-stream"))
                  for a in attachments]
        return {"files": files}
    body["attachments"] = [
        {"filename": a.filename, "content": base64.b64encode(a.content).decode("ascii"),
         "content_type": a.content_type} for a in attachments
    ]
    return {"json": body}


BATCH_MAX = 500


def batch_request(messages: Sequence[OutgoingMessage]) -> dict[str, Any]:
    """The JSON of ``POST /v1/messages/batch``; items without a key get a fresh one, so a retry
    of the call itself (a lost answer) replays instead of sending twice."""
    if not 1 <= len(messages) <= BATCH_MAX:
        raise errors.ValidationError(f"a batch holds 1 to {BATCH_MAX} messages, not {len(messages)}",
                                     field="messages")
    items = []
    for m in messages:
        body = message_request(
            to=m.to, subject=m.subject, text=m.text, html=m.html, account=m.account, from_=m.from_,
            cc=m.cc, bcc=m.bcc, reply_to=m.reply_to, attachments=m.attachments, headers=m.headers,
            metadata=m.metadata, send_at=m.send_at, multipart_threshold=sys.maxsize)["json"]
        body["idempotency_key"] = m.idempotency_key or new_idempotency_key()
        items.append(body)
    return {"messages": items}


def parse(model: type[M], response: httpx.Response) -> M:
    return model.model_validate(response.json())


def parse_list(model: type[M], response: httpx.Response) -> list[M]:
    data = response.json()
    if not isinstance(data, list):
        raise errors.ProtocolError("mailport answered an object where a list was expected",
                                   code="net.wrong_service", stage="api")
    return [model.model_validate(item) for item in data]


def endpoint(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        result: dict[str, Any] = to_json()
        return result
    raise errors.ValidationError("server settings are an EndpointSettings or a dict", field="smtp")
