"""The Gmail API v1 (``gmail.googleapis.com``) for sending and for reading the inbox.

Sending hands Gmail the exact RFC 822 bytes the outbox built (``users.messages.send``): a JSON
body with the base64url ``raw`` for messages up to :data:`SIMPLE_LIMIT`, a media upload
(``uploadType=multipart``, ``message/rfc822``) above it, up to Gmail's :data:`MAX_MESSAGE` of
35 MB. Gmail files the sent message under SENT itself, so no IMAP APPEND follows.

Reading (``gmail.readonly``): ``users.messages.list`` (paged), ``users.messages.get`` with
``format=metadata`` or ``raw``, ``users.history.list`` from a stored ``historyId`` (Google answers
``404`` once that id is too old: :class:`HistoryExpired`), and ``users.getProfile`` for the
mailbox's current ``historyId``.

Google's error bodies (``{"error": {"code", "message", "status", "errors": [{"reason", …}]}}``)
are translated here into ``mailport.errors`` with stable diagnosis codes
(:func:`translate_gmail_error`).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Self

from mailport.adapters.provider_api import ApiFailure, ProviderApi, TokenSource, rejected
from mailport.errors import (
    NotFound,
    RemoteAuthError,
    RemoteError,
    RemoteRejected,
    RemoteThrottled,
    ValidationError,
)

__all__ = [
    "GMAIL_URL",
    "MAX_MESSAGE",
    "NOT_FOUND",
    "SIMPLE_LIMIT",
    "GmailApi",
    "GmailMessageRef",
    "HistoryExpired",
    "HistoryPage",
    "metadata_headers",
    "translate_gmail_error",
]

GMAIL_URL: Final = "https://gmail.googleapis.com"
SIMPLE_LIMIT: Final = 5 * 1024 * 1024
"""Above this the message goes as a media upload instead of base64url inside JSON (Google's
guidance for ``users.messages.send``: simple requests for small messages)."""
MAX_MESSAGE: Final = 35 * 1024 * 1024
"""Gmail's limit for ``users.messages.send`` media uploads (``maxSize: 35MB`` in the discovery
document)."""

NOT_FOUND: Final = "remote.not_found"
"""Code of a 404 (a message deleted meanwhile, an expired history id); callers that expect it
catch it, everywhere else it is a permanent refusal."""

_RATE_REASONS: Final = frozenset({"userRateLimitExceeded", "rateLimitExceeded",
                                  "concurrentLimitExceeded"})
_QUOTA_REASONS: Final = frozenset({"dailyLimitExceeded", "quotaExceeded"})


class HistoryExpired(NotFound):
    """The stored ``historyId`` is older than Gmail keeps history: a full sync is needed."""

    code = "inbox.history_expired"


def translate_gmail_error(failure: ApiFailure) -> RemoteError:
    """A Gmail API error answer as a ``mailport.errors`` exception with a diagnosis code."""
    reason, text = failure.reason, failure.message
    lowered = text.lower()
    if failure.status == 401 or reason in ("authError", "invalid_grant", "invalid_token", "UNAUTHENTICATED"):
        return RemoteAuthError(text or "Google refused the access token", code="auth.token_invalid",
                               server_text=failure.server_text, stage=failure.stage)
    if reason in _RATE_REASONS:
        return RemoteThrottled(text or "Google asks to slow down", retry_after=failure.retry_after,
                               server_text=failure.server_text, stage=failure.stage)
    if "daily sending quota" in lowered or "daily user sending limit" in lowered or (
            reason in _QUOTA_REASONS and "send" in lowered):
        # The account's daily sending limit (about 500 a day for gmail.com, 2,000 for Workspace):
        # nothing to fix, the window turns — a deferral (core.outbox treats the code as quota).
        return RemoteThrottled(text, code="send.daily_limit_reached", retry_after=failure.retry_after,
                               server_text=failure.server_text, stage=failure.stage)
    if reason in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT") or (
            failure.status == 403 and "insufficient" in lowered and "scope" in lowered):
        return RemoteAuthError(text or "the sign-in did not grant this permission",
                               code="auth.insufficient_permissions", server_text=failure.server_text,
                               stage=failure.stage)
    if reason == "failedPrecondition" and "mail service not enabled" in lowered:
        return rejected(failure, "send.account_blocked", text)
    if failure.status == 404:
        return rejected(failure, NOT_FOUND, text or "not found")
    if failure.status == 413 or "too large" in lowered:
        return rejected(failure, "send.message_too_large", text or "the message is too large for Gmail")
    if failure.status == 400 and "invalid to header" in lowered:
        return rejected(failure, "send.recipient_unknown", text)
    if failure.status >= 500:
        return RemoteError(text or "Gmail failed", code="server.temporary_failure",
                           server_text=failure.server_text, stage=failure.stage)
    return rejected(failure, "unknown", text or f"Gmail answered {failure.status}")


@dataclass(frozen=True, slots=True)
class GmailMessageRef:
    id: str
    thread_id: str


@dataclass(frozen=True, slots=True)
class HistoryPage:
    added: tuple[GmailMessageRef, ...]
    history_id: str
    next_page_token: str | None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class GmailApi:
    """One account's Gmail API (``userId=me``); close with :meth:`aclose` or ``async with``."""

    def __init__(self, *, tokens: TokenSource, base_url: str = "", timeout: float = 60.0, ca_file: str = "",
                 api: ProviderApi | None = None) -> None:
        self.api = api or ProviderApi(base_url=base_url or GMAIL_URL, tokens=tokens, translate=translate_gmail_error,
                                      timeout=timeout, ca_file=ca_file)

    async def aclose(self) -> None:
        await self.api.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- sending ---------------------------------------------------------------------------

    async def send(self, raw: bytes) -> dict[str, Any]:
        """``users.messages.send`` of the RFC 822 ``raw`` bytes, unchanged; Gmail's Message."""
        if len(raw) > MAX_MESSAGE:
            raise ValidationError(f"the message is {len(raw)} bytes; Gmail sends at most 35 MB",
                                  code="send.message_too_large", field="raw")
        if len(raw) <= SIMPLE_LIMIT:
            response = await self.api.request("POST", "/gmail/v1/users/me/messages/send", stage="gmail.send",
                                              json_body={"raw": b64url(raw)})
        else:
            # multipart/related: JSON metadata, then the message itself (no base64: the upload
            # carries the bytes as they are, which also spares a third of the size).
            boundary = f"mailport_{uuid.uuid4().hex}"
            body = b"".join((
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{}}\r\n".encode(),
                f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n".encode(), raw,
                f"\r\n--{boundary}--\r\n".encode(),
            ))
            response = await self.api.request(
                "POST", "/upload/gmail/v1/users/me/messages/send", stage="gmail.send",
                params={"uploadType": "multipart"}, content=body,
                headers={"Content-Type": f"multipart/related; boundary={boundary}"})
        return _json(response.json())

    # -- reading ---------------------------------------------------------------------------

    async def profile(self) -> dict[str, Any]:
        """``users.getProfile``: ``emailAddress``, ``historyId``, counts."""
        return _json((await self.api.request("GET", "/gmail/v1/users/me/profile", stage="gmail.profile")).json())

    async def list_messages(self, *, query: str = "", label_ids: Sequence[str] = ("INBOX",),
                            page_size: int = 500) -> AsyncIterator[GmailMessageRef]:
        """Every message matching ``query`` in ``label_ids``, newest first, page by page."""
        token: str | None = None
        while True:
            params: list[tuple[str, str]] = [("maxResults", str(page_size))]
            params += [("labelIds", label) for label in label_ids]
            if query:
                params.append(("q", query))
            if token:
                params.append(("pageToken", token))
            page = _json((await self.api.request("GET", "/gmail/v1/users/me/messages", stage="gmail.list",
                                                 params=params)).json())
            for item in page.get("messages") or ():
                yield GmailMessageRef(id=str(item["id"]), thread_id=str(item.get("threadId") or ""))
            token = page.get("nextPageToken")
            if not token:
                return

    async def get_message(self, message_id: str, *, fmt: str = "metadata",
                          headers: Sequence[str] = ()) -> dict[str, Any]:
        """``users.messages.get``; ``fmt`` ``metadata`` (headers only, ``headers`` chosen) or ``raw``."""
        params: list[tuple[str, str]] = [("format", fmt)] + [("metadataHeaders", h) for h in headers]
        response = await self.api.request("GET", f"/gmail/v1/users/me/messages/{_id(message_id)}",
                                          stage="gmail.get", params=params)
        return _json(response.json())

    async def trash(self, message_id: str) -> None:
        """``users.messages.trash`` (``gmail.modify``): into Trash, which Gmail empties after 30 days."""
        await self.api.request("POST", f"/gmail/v1/users/me/messages/{_id(message_id)}/trash", stage="gmail.trash")

    async def raw_message(self, message_id: str) -> bytes:
        message = await self.get_message(message_id, fmt="raw")
        return b64url_decode(str(message.get("raw") or ""))

    async def history(self, start_history_id: str, *, page_token: str | None = None,
                      label_id: str = "INBOX") -> HistoryPage:
        """One page of ``users.history.list`` (messages added since ``start_history_id``).

        Raises :class:`HistoryExpired` when Google answers 404: the id is too old.
        """
        params = {"startHistoryId": start_history_id, "historyTypes": "messageAdded", "labelId": label_id,
                  "maxResults": "500"}
        if page_token:
            params["pageToken"] = page_token
        try:
            response = await self.api.request("GET", "/gmail/v1/users/me/history", stage="gmail.history",
                                              params=params)
        except RemoteRejected as exc:
            if exc.code == NOT_FOUND:
                raise HistoryExpired("the stored history id has expired; a full sync follows") from exc
            raise
        page = _json(response.json())
        added: list[GmailMessageRef] = []
        for record in page.get("history") or ():
            for item in record.get("messagesAdded") or ():
                message = item.get("message") or {}
                labels = message.get("labelIds") or []
                if label_id and labels and label_id not in labels:
                    continue
                added.append(GmailMessageRef(id=str(message["id"]), thread_id=str(message.get("threadId") or "")))
        return HistoryPage(added=tuple(added), history_id=str(page.get("historyId") or start_history_id),
                           next_page_token=page.get("nextPageToken"))


def _json(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RemoteError("Gmail answered with something other than a JSON object", code="unknown",
                          stage="gmail")
    return value


def _id(message_id: str) -> str:
    if not message_id or not all(c.isalnum() or c in "-_" for c in message_id):
        raise ValidationError("not a Gmail message id", field="message_id")
    return message_id


def metadata_headers(message: Mapping[str, Any]) -> dict[str, str]:
    """The ``payload.headers`` of a ``format=metadata`` message, by lower-case name."""
    payload = message.get("payload") or {}
    return {str(h.get("name", "")).lower(): str(h.get("value", "")) for h in payload.get("headers") or ()}
