"""Microsoft Graph v1.0 mail: send the outbox's exact MIME bytes and read the inbox by delta.

Sending (delegated ``Mail.Send``):

* a message whose base64 form fits Graph's 4 MB request limit goes out in one
  ``POST /me/sendMail`` (``Content-Type: text/plain``, body = base64 MIME); Exchange files the
  Sent Items copy itself, so mailport never APPENDs one;
* a larger one is sent as a draft: the MIME without its biggest attachments
  (``POST /me/messages``, base64 MIME, needs ``Mail.ReadWrite``), each removed attachment added
  back — from 3 MB on through an upload session (``createUploadSession`` with
  ``AttachmentItem``, then ``PUT`` chunks of at most 4 MB with ``Content-Range`` to the session's
  pre-authorised URL, following ``nextExpectedRanges``), smaller ones as a ``fileAttachment`` —
  then ``POST /me/messages/{id}/send``. A draft left behind by a failure is deleted (best effort).

Reading (``Mail.Read``): ``/me/mailFolders/inbox/messages/delta`` page by page
(``@odata.nextLink``) until the ``@odata.deltaLink``, which the caller stores and hands back next
time. A link Graph no longer knows (410 ``SyncStateNotFound`` and its spellings) restarts with
a full sync, flagged on the pages (:attr:`DeltaPage.full_resync`). Each message is summarised
from its ``internetMessageHeaders`` by the same :func:`~mailport.core.summary.summarize`
the IMAP sync uses, so bounces and contacts are linked the same way; possible delivery reports
are fetched whole (``$value``) for the bounce parser.

Errors are translated here, at the adapter edge (:func:`translate`): ``ErrorExceededMessageLimit``
→ ``send.daily_limit_reached``, ``MailboxNotEnabledForRESTAPI`` → ``api.mailbox_not_enabled``,
``ErrorAccessDenied`` → ``auth.insufficient_permissions``, ``ErrorSendAsDenied`` →
``send.sender_not_allowed``, an admin-consent ``AADSTS`` number → ``auth.admin_consent_required``;
401 refresh-once and 429/503 ``Retry-After`` deferral come from
:class:`~mailport.adapters.provider_api.ProviderApi`.
"""

from __future__ import annotations

import base64
import email.policy
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from typing import Any, Final, Literal

from mailport.adapters.provider_api import ApiFailure, ProviderApi, TokenSource, rejected
from mailport.core.diagnostics import classify_text
from mailport.core.summary import MessageSummary, summarize
from mailport.core.threading import normalize_message_id
from mailport.errors import (
    MailportError,
    ProtocolError,
    RemoteAuthError,
    RemoteError,
    RemoteRejected,
    RemoteThrottled,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_REQUEST",
    "DeltaPage",
    "GraphMailbox",
    "GraphMessage",
    "GraphSendResult",
    "SyncStateLost",
    "graph_api",
    "split_for_draft",
    "translate",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://graph.microsoft.com/v1.0"
MAX_REQUEST: Final = 4 * 1024 * 1024
"""Graph's request body limit; a MIME ``sendMail`` body is the base64 of the message."""
UPLOAD_SESSION_FROM: Final = 3 * 1024 * 1024
"""Attachments from 3 MB on must go through an upload session (Microsoft: 3 MB – 150 MB)."""
CHUNK: Final = 4 * 1024 * 1024 - 64 * 1024
"""Bytes per upload PUT: at most 4 MB each (a little under, for proxies that count headers)."""
_DRAFT_BUDGET: Final = MAX_REQUEST - 64 * 1024
_SELECT: Final = ("id,internetMessageId,subject,from,toRecipients,ccRecipients,replyTo,receivedDateTime,"
                  "sentDateTime,bodyPreview,hasAttachments,isRead,internetMessageHeaders")
_SYNC_LOST: Final = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired",
                               "errorinvalidsyncstatedata", "invaliddeltatoken"})


class SyncStateLost(MailportError):
    """Graph no longer knows the stored delta link: the inbox must be synced from scratch."""

    code = "api.sync_state_lost"


# --- errors -----------------------------------------------------------------------------------------

def translate(failure: ApiFailure) -> RemoteError:
    """A Graph error answer (``{"error": {"code", "message"}}``) as a ``mailport.errors`` exception
    with a stable diagnosis code."""
    code = failure.reason
    lowered = code.lower()
    text = failure.server_text
    if lowered == "errorexceededmessagelimit":
        # A quota that resets: the outbox retries later instead of failing the message.
        return RemoteThrottled("the mailbox has used up its sending limit for now", code="send.daily_limit_reached",
                               retry_after=None, server_text=text, stage=failure.stage)
    if lowered == "mailboxnotenabledforrestapi" or lowered == "mailboxnotsupportedforrestapi":
        return rejected(failure, "api.mailbox_not_enabled",
                        "this mailbox cannot be used through Microsoft Graph")
    if lowered == "errorsendasdenied":
        return rejected(failure, "send.sender_not_allowed", "the mailbox may not send as this sender")
    if lowered in _SYNC_LOST or failure.status == 410:
        return SyncStateLostError(failure)
    if failure.status == 401 or lowered == "invalidauthenticationtoken":
        found = classify_text(text)
        return RemoteAuthError("Microsoft Graph refused the access token",
                               code=found.code if found.code.startswith("auth.") else "auth.token_invalid",
                               server_text=text, stage=failure.stage)
    if failure.status == 403 and lowered in ("erroraccessdenied", "accessdenied", "authorization_requestdenied"):
        found = classify_text(text)
        if found.code == "auth.admin_consent_required":
            return rejected(failure, found.code, "an administrator must approve this app")
        return rejected(failure, "auth.insufficient_permissions",
                        "the permission granted to this app does not cover this request")
    if lowered in ("errormessagesizeexceeded", "errorrequestentitytoolarge") or failure.status == 413:
        return rejected(failure, "send.message_too_large", "the message is larger than Microsoft 365 accepts")
    if lowered in ("errorinvalidrecipients",):
        return rejected(failure, "send.recipient_unknown", "Microsoft 365 refused the recipients")
    if failure.status >= 500:
        return RemoteError("Microsoft Graph failed", code="server.temporary_failure", server_text=text,
                           stage=failure.stage)
    found = classify_text(text)
    return RemoteRejected(f"Microsoft Graph refused the request ({code or failure.status})", code=found.code,
                          server_text=text, stage=failure.stage)


class SyncStateLostError(RemoteRejected):
    """The translated 410: :meth:`GraphMailbox.delta` turns it into a full resync."""

    code = "api.sync_state_lost"

    def __init__(self, failure: ApiFailure) -> None:
        super().__init__("the stored delta link is no longer valid", server_text=failure.server_text,
                         stage=failure.stage)


def graph_api(*, tokens: TokenSource, base_url: str = DEFAULT_BASE_URL, timeout: float = 60.0,
              ca_file: str = "", client: Any = None) -> ProviderApi:
    """The shared provider HTTP layer, pointed at Graph with Graph's error translator."""
    return ProviderApi(base_url=base_url, tokens=tokens, translate=translate, timeout=timeout,
                       ca_file=ca_file, client=client)


# --- sending ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Detached:
    """An attachment taken out of the MIME to be uploaded separately."""

    name: str
    content_type: str
    content: bytes
    inline: bool
    content_id: str | None


def _is_attachment(part: Message) -> bool:
    if part.is_multipart():
        return False
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition == "inline" and part.get_filename() is not None)


def split_for_draft(raw: bytes, *, budget: int = _DRAFT_BUDGET) -> tuple[bytes, list[Detached]]:
    """``raw`` without its largest attachments, so that its base64 form fits ``budget``; and the
    attachments taken out (largest first). Pure."""
    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    found: list[tuple[Message, Message, int]] = []

    def walk(parent: Message) -> None:
        payload = parent.get_payload()
        if not isinstance(payload, list):
            return
        for child in payload:
            if not isinstance(child, Message):
                continue
            if _is_attachment(child):
                found.append((parent, child, len(_decoded(child))))
            elif child.is_multipart():
                walk(child)

    walk(msg)
    detached: list[Detached] = []
    current = raw
    for parent, part, _size in sorted(found, key=lambda item: -item[2]):
        if _b64_len(len(current)) <= budget:
            break
        content = _decoded(part)
        cid = part.get("Content-ID")
        detached.append(Detached(name=part.get_filename() or "attachment", content_type=part.get_content_type(),
                                 content=content, inline=(part.get_content_disposition() == "inline"),
                                 content_id=str(cid).strip("<> ") if cid else None))
        siblings = parent.get_payload()
        assert isinstance(siblings, list)
        siblings.remove(part)
        current = msg.as_bytes(policy=email.policy.SMTP)
    if _b64_len(len(current)) > budget:
        raise RemoteRejected("the message text alone is larger than Microsoft Graph accepts in one request",
                             code="send.message_too_large", stage="graph.draft")
    return current, detached


def _decoded(part: Message) -> bytes:
    content = part.get_payload(decode=True)
    return content if isinstance(content, bytes) else b""


def _b64_len(n: int) -> int:
    return 4 * ((n + 2) // 3)


@dataclass(frozen=True, slots=True)
class GraphSendResult:
    route: Literal["sendMail", "draft"]
    uploaded: int = 0
    """Attachments added through upload sessions."""
    requests: int = 1


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GraphMessage:
    id: str
    summary: MessageSummary
    received_at: datetime | None
    is_read: bool
    raw: bytes | None = None
    """The whole MIME, fetched for possible delivery reports only."""


@dataclass(frozen=True, slots=True)
class DeltaPage:
    messages: list[GraphMessage]
    removed: list[str] = field(default_factory=list)
    delta_link: str | None = None
    """Set on the last page: store it and pass it to the next :meth:`GraphMailbox.delta`."""
    full_resync: bool = False
    """The stored link was refused; this round starts again from the beginning."""


def _headers_bytes(headers: Sequence[dict[str, Any]]) -> bytes:
    lines = []
    for h in headers:
        name, value = str(h.get("name") or ""), str(h.get("value") or "")
        if name and re.fullmatch(r"[!-9;-~]+", name):
            # Values come unfolded; keep them on one line (summarize decodes RFC 2047 itself).
            lines.append(f"{name}: {' '.join(value.splitlines())}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def _recipients(items: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items or []:
        address = (item or {}).get("emailAddress") or {}
        if "@" in str(address.get("address") or ""):
            out.append((str(address.get("name") or ""), str(address["address"])))
    return tuple(out)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def summary_of(item: dict[str, Any]) -> MessageSummary:
    """A Graph message resource as the inbox store's summary (headers when Graph sent them)."""
    headers = item.get("internetMessageHeaders")
    if isinstance(headers, list) and headers:
        base = summarize(_headers_bytes(headers))
    else:
        sender = _recipients([item.get("from")] if item.get("from") else [])
        base = MessageSummary(
            header_message_id=None, in_reply_to=None, references=(), subject=str(item.get("subject") or ""),
            from_name=sender[0][0] or None if sender else None, from_email=sender[0][1] if sender else None,
            to=_recipients(item.get("toRecipients")), cc=_recipients(item.get("ccRecipients")),
            reply_to=_recipients(item.get("replyTo")), date=_parse_time(item.get("sentDateTime")), snippet="",
            maybe_report=False)
    message_id = base.header_message_id or normalize_message_id(str(item.get("internetMessageId") or ""))
    return MessageSummary(
        header_message_id=message_id, in_reply_to=base.in_reply_to, references=base.references,
        subject=base.subject or str(item.get("subject") or ""), from_name=base.from_name,
        from_email=base.from_email, to=base.to, cc=base.cc, reply_to=base.reply_to,
        date=base.date or _parse_time(item.get("sentDateTime")),
        snippet=" ".join(str(item.get("bodyPreview") or "").split())[:200], maybe_report=base.maybe_report,
    )


class GraphMailbox:
    """One Microsoft 365 / Outlook.com mailbox through Graph (``/me``)."""

    def __init__(self, api: ProviderApi, *, chunk_size: int = CHUNK, page_size: int = 100) -> None:
        if not 0 < chunk_size <= MAX_REQUEST:
            raise ValueError("chunk_size must be between 1 byte and 4 MB")
        self.api = api
        self.chunk_size = chunk_size
        self.page_size = page_size
        self._folders: dict[str, str] | None = None

    # -- send
    async def send(self, raw: bytes) -> GraphSendResult:
        """Send the exact MIME bytes; Exchange files the Sent Items copy."""
        encoded = base64.b64encode(raw)
        if len(encoded) <= MAX_REQUEST:
            await self.api.request("POST", "/me/sendMail", stage="graph.send", content=encoded,
                                   headers={"Content-Type": "text/plain"})
            return GraphSendResult(route="sendMail")
        return await self._send_as_draft(raw)

    async def _send_as_draft(self, raw: bytes) -> GraphSendResult:
        body, detached = split_for_draft(raw)
        created = await self.api.request("POST", "/me/messages", stage="graph.draft",
                                         content=base64.b64encode(body), headers={"Content-Type": "text/plain"})
        draft_id = _json(created, "graph.draft").get("id")
        if not isinstance(draft_id, str) or not draft_id:
            raise ProtocolError("Microsoft Graph created a draft without an id", stage="graph.draft")
        requests, uploaded = 2, 0
        try:
            for item in detached:
                if len(item.content) >= UPLOAD_SESSION_FROM:
                    requests += await self._upload(draft_id, item)
                    uploaded += 1
                else:
                    await self.api.request("POST", f"/me/messages/{draft_id}/attachments", stage="graph.attach",
                                           json_body=_file_attachment(item))
                    requests += 1
            await self.api.request("POST", f"/me/messages/{draft_id}/send", stage="graph.send",
                                   content=b"", headers={"Content-Length": "0"})
        except BaseException:
            await self._discard(draft_id)
            raise
        return GraphSendResult(route="draft", uploaded=uploaded, requests=requests + 1)

    async def _upload(self, draft_id: str, item: Detached) -> int:
        attachment_item: dict[str, Any] = {"attachmentType": "file", "name": item.name, "size": len(item.content),
                                           "contentType": item.content_type, "isInline": item.inline}
        if item.content_id:
            attachment_item["contentId"] = item.content_id
        session = _json(await self.api.request(
            "POST", f"/me/messages/{draft_id}/attachments/createUploadSession", stage="graph.upload",
            json_body={"AttachmentItem": attachment_item}), "graph.upload")
        url = session.get("uploadUrl")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProtocolError("Microsoft Graph's upload session has no upload URL", stage="graph.upload")
        total, start, requests = len(item.content), 0, 1
        while start < total:
            end = min(start + self.chunk_size, total) - 1
            response = await self.api.request(
                "PUT", url, stage="graph.upload", authorized=False, content=item.content[start:end + 1],
                headers={"Content-Range": f"bytes {start}-{end}/{total}", "Content-Type": "application/octet-stream"})
            requests += 1
            if response.status_code == 201 or end + 1 >= total:
                break
            # Graph says where it wants to continue ("{start}"); trust it over our arithmetic.
            start = _next_start(_json(response, "graph.upload"), fallback=end + 1)
        return requests

    async def _discard(self, draft_id: str) -> None:
        try:
            await self.api.request("DELETE", f"/me/messages/{draft_id}", stage="graph.cleanup")
        except (MailportError, OSError) as exc:  # the send already failed; keep its error
            log.info("could not delete the unsent Graph draft: %s", type(exc).__name__)

    # -- read
    async def delta(self, delta_link: str | None, *, since: datetime | None = None) -> AsyncIterator[DeltaPage]:
        """Pages of inbox changes since ``delta_link`` (all of the inbox, or from ``since``, when
        None). The last page carries the new delta link."""
        full_resync = False
        try:
            async for page in self._pages(delta_link, since):
                yield page
            return
        except SyncStateLostError:
            if delta_link is None:
                raise
            log.info("Graph no longer knows the stored delta link; syncing the inbox again")
            full_resync = True
        async for page in self._pages(None, since):
            yield DeltaPage(messages=page.messages, removed=page.removed, delta_link=page.delta_link,
                            full_resync=full_resync)

    async def _pages(self, link: str | None, since: datetime | None) -> AsyncIterator[DeltaPage]:
        prefer = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        if link is None:
            params: dict[str, str] | None = {"$select": _SELECT}
            if since is not None:
                assert params is not None
                params["$filter"] = f"receivedDateTime ge {since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
            url = "/me/mailFolders/inbox/messages/delta"
        else:
            params, url = None, link
        while True:
            body = _json(await self.api.request("GET", url, stage="graph.delta", params=params, headers=prefer),
                         "graph.delta")
            messages, removed = [], []
            for item in body.get("value") or []:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    continue
                if "@removed" in item:
                    removed.append(item["id"])
                    continue
                summary = summary_of(item)
                raw = await self.message_mime(item["id"]) if summary.maybe_report else None
                messages.append(GraphMessage(id=item["id"], summary=summary,
                                             received_at=_parse_time(item.get("receivedDateTime")),
                                             is_read=bool(item.get("isRead")), raw=raw))
            next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
            if isinstance(next_link, str):
                yield DeltaPage(messages=messages, removed=removed)
                url, params = next_link, None
                continue
            if not isinstance(delta_link, str):
                raise ProtocolError("Microsoft Graph ended a delta round without a delta link", stage="graph.delta")
            yield DeltaPage(messages=messages, removed=removed, delta_link=delta_link)
            return

    async def landed_in(self, internet_message_id: str) -> Literal["inbox", "junk", "other"] | None:
        """Where a message with this ``Message-ID`` is in the mailbox (``Mail.Read``): the round
        trip of a verification. None: not (yet) there."""
        if self._folders is None:
            ids = {}
            for name in ("inbox", "junkemail"):
                folder = _json(await self.api.request("GET", f"/me/mailFolders/{name}", stage="graph.arrival",
                                                      params={"$select": "id"}), "graph.arrival")
                ids[str(folder.get("id"))] = "inbox" if name == "inbox" else "junk"
            self._folders = ids
        places = [self._folders.get(str(item.get("parentFolderId")), "other")
                  for item in await self._by_message_id(internet_message_id, "graph.arrival")]
        for place in ("inbox", "junk", "other"):
            if place in places:
                return place
        return None

    async def delete_all(self, internet_message_id: str) -> int:
        """Delete every message with this ``Message-ID`` (``Mail.ReadWrite``), in any folder
        (Inbox, Junk Email, Sent Items); how many there were."""
        found = [str(item["id"]) for item in await self._by_message_id(internet_message_id, "graph.delete")
                 if isinstance(item.get("id"), str)]
        for graph_id in found:
            await self.api.request("DELETE", f"/me/messages/{graph_id}", stage="graph.delete")
        return len(found)

    async def find_id(self, internet_message_id: str) -> str | None:
        """The Graph id of the message with this ``Message-ID`` (``Mail.Read``), or None."""
        found = await self._by_message_id(internet_message_id, "graph.fetch")
        return next((str(item["id"]) for item in found if isinstance(item.get("id"), str)), None)

    async def _by_message_id(self, internet_message_id: str, stage: str) -> list[dict[str, Any]]:
        quoted = internet_message_id.replace("'", "''")  # OData string literal
        found = _json(await self.api.request(
            "GET", "/me/messages", stage=stage,
            params={"$filter": f"internetMessageId eq '{quoted}'", "$select": "id,parentFolderId"}), stage)
        return [item for item in found.get("value") or [] if isinstance(item, dict)]

    async def message_mime(self, message_id: str) -> bytes:
        response = await self.api.request("GET", f"/me/messages/{message_id}/$value", stage="graph.fetch")
        return response.content


def _file_attachment(item: Detached) -> dict[str, Any]:
    body: dict[str, Any] = {"@odata.type": "#microsoft.graph.fileAttachment", "name": item.name,
                            "contentType": item.content_type, "isInline": item.inline,
                            "contentBytes": base64.b64encode(item.content).decode()}
    if item.content_id:
        body["contentId"] = item.content_id
    return body


def _json(response: Any, stage: str) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError as exc:
        raise ProtocolError("Microsoft Graph answered something that is not JSON", stage=stage) from exc
    if not isinstance(value, dict):
        raise ProtocolError("Microsoft Graph answered an unexpected JSON value", stage=stage)
    return value


def _next_start(session: dict[str, Any], *, fallback: int) -> int:
    ranges = session.get("nextExpectedRanges")
    if isinstance(ranges, list) and ranges:
        head = str(ranges[0]).split("-", 1)[0]
        if head.isdigit():
            return int(head)
    return fallback
