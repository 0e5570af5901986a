"""The inbox: synchronized mail with the host's contact names, search, one message with its
attachments, and each mailbox's sync status with its diagnosis."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from html.parser import HTMLParser
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailport.core.filenames import content_disposition
from mailport.errors import MailportError, NotFound, RemoteError, ValidationError
from mailport.services.ui_sessions import UiSession
from mailport.web.mailbox_state import needing_attention
from mailport.web.pages import page
from mailport.web.routes_outbox import explain_code
from mailport.web.session import SessionDep, runtime_of

router = APIRouter(prefix="/ui/inbox", include_in_schema=False)

PAGE_SIZE = 50
MAX_BODY_CHARS = 200_000


def _contact_names(request: Request, session: UiSession, ids: set[str]) -> dict[str, str]:
    """The host's names for its contacts (ids as the host gave them)."""
    names: dict[str, str] = {}
    for contact_id in sorted(ids):
        try:
            contact = runtime_of(request).contacts.get(session.tenant_id, contact_id)
        except NotFound:
            continue
        if contact.name:
            names[contact_id] = contact.name
    return names


def _sync_states(request: Request, session: UiSession) -> list[dict[str, Any]]:
    runtime = runtime_of(request)
    states = []
    for account in runtime.accounts.list_accounts(session.tenant_id):
        if account.imap is None:
            continue
        state = runtime.inbox.sync_state(session.tenant_id, account.id)
        states.append({"account": account, "state": state,
                       "explanation": explain_code(state.error_code, server_text=state.error, lang=session.lang)})
    return states


@router.get("")
async def inbox(request: Request, session: SessionDep, q: str = "", before: str = "") -> Response:
    service = runtime_of(request).inbox
    query = q.strip()[:200] or None
    cursor = None
    if before:
        try:
            cursor = datetime.fromisoformat(before)
        except ValueError:
            cursor = None
    try:
        messages = await asyncio.to_thread(service.list_messages, session.tenant_id, q=query,
                                           before=cursor if cursor and cursor.tzinfo else None,
                                           limit=PAGE_SIZE + 1)
    except ValidationError:
        messages = []
    more = len(messages) > PAGE_SIZE
    messages = messages[:PAGE_SIZE]
    ids = {c for m in messages for c in m.contacts}
    names = await asyncio.to_thread(_contact_names, request, session, ids)
    states = await asyncio.to_thread(_sync_states, request, session)
    last = messages[-1] if messages and more else None
    next_before = (last.date or last.received_at) if last else None
    contact_of = {m.id: next((names[c] for c in m.contacts if c in names), None) for m in messages}
    sent_state = await asyncio.to_thread(service.sent_states, session.tenant_id, messages)
    return page(request, session, "inbox.html", troubled=await needing_attention(request, session),
                messages=messages, contact_of=contact_of, sent_state=sent_state, q=q, states=states,
                next_before=next_before.isoformat() if next_before else None)


class _Text(HTMLParser):
    """Visible text of an HTML mail: shown as text, never as HTML (no script, no tracking)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        elif tag in ("p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def body_text(raw: bytes) -> str:
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken encoding: show what decodes
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_type() == "text/html":
        parser = _Text()
        parser.feed(str(content))
        content = "".join(parser.parts)
    text = re.sub(r"\n{3,}", "\n\n", str(content)).strip()
    return text[:MAX_BODY_CHARS]


@router.get("/{message_id}")
async def message(request: Request, session: SessionDep, message_id: str) -> Response:
    service = runtime_of(request).inbox
    try:
        view = await asyncio.to_thread(service.get_message, session.tenant_id, message_id)
    except NotFound:
        return page(request, session, "not_found.html", status_code=404)
    names = await asyncio.to_thread(_contact_names, request, session, set(view.contacts))
    body, attachments, problem = "", [], None
    try:
        raw = await service.raw(session.tenant_id, message_id)
        body, attachments = body_text(raw), service.attachment_list(raw)
    except RemoteError as exc:
        problem = explain_code(exc.code, server_text=None, lang=session.lang)
    except MailportError:
        problem = explain_code("unknown", server_text=None, lang=session.lang)
    return page(request, session, "inbox_message.html", message=view, names=names, body=body,
                 attachments=attachments, problem=problem)


@router.get("/{message_id}/attachments/{index}")
async def attachment(request: Request, session: SessionDep, message_id: str, index: int) -> Response:
    try:
        data = await runtime_of(request).inbox.attachment(session.tenant_id, message_id, index)
    except (NotFound, ValidationError):
        return page(request, session, "not_found.html", status_code=404)
    # Always a download, never shown inline: a sender's HTML or SVG must not run in our origin.
    return Response(data.data, media_type="application/octet-stream", headers={
        "Content-Disposition": content_disposition(data.filename, fallback=f"attachment-{index + 1}"),
    })
