"""The outbox: documents sent through mailport, their status, and why a delivery failed."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mailport.core.accountstate import is_mailbox_problem
from mailport.core.diagnostics import CODES, Diagnosis
from mailport.diagnosis_text import explain
from mailport.errors import Conflict, NotFound, ValidationError
from mailport.services.platform import is_platform_sender
from mailport.web import labels
from mailport.web.mailbox_state import needing_attention
from mailport.web.pages import page
from mailport.web.sections import available_sections
from mailport.web.session import SessionDep, WriteSessionDep, runtime_of

router = APIRouter(prefix="/ui/outbox", include_in_schema=False)

PAGE_SIZE = 25


def explain_code(code: str | None, *, server_text: str | None, lang: str) -> Any:
    """Title and steps for a stored diagnosis code (``None`` when there is none to explain)."""
    if not code or code not in CODES:
        return None
    info = CODES[code]
    return explain(Diagnosis(code=code, severity=info.severity, retryable=info.retryable, provider=None,
                             server_text=server_text), lang)


SUPPRESSED_SHOWN = 100


@router.get("")
async def outbox(request: Request, session: SessionDep, status: str = "", before: str = "",
                 removed: str = "") -> Response:
    service = runtime_of(request).outbox
    states = [status] if status in labels.MESSAGE_STATES else []
    try:
        messages = await asyncio.to_thread(service.list_messages, session.tenant_id, states=states,
                                           limit=PAGE_SIZE + 1, before=before or None)
    except (NotFound, ValidationError):
        messages = []  # a stale "older" link: show the first page's filter as empty, not an error
    more = len(messages) > PAGE_SIZE
    # Addresses mail is refused for: the business sees why, and removes one once it is fixed.
    listed = await asyncio.to_thread(runtime_of(request).suppression.list_suppressions, session.tenant_id,
                                     limit=SUPPRESSED_SHOWN)
    suppressed = [{"entry": v, "explanation": explain_code(v.diagnosis, server_text=v.server_text,
                                                           lang=session.lang)} for v in listed]
    return page(request, session, "outbox.html", messages=messages[:PAGE_SIZE], status=status,
                 next_before=messages[PAGE_SIZE - 1].id if more else None, suppressed=suppressed,
                 removed=removed, troubled=await needing_attention(request, session))


@router.post("/suppressions/remove")
async def remove_suppression(request: Request, session: WriteSessionDep,
                             address: str = Form(max_length=320)) -> Response:
    try:
        await asyncio.to_thread(runtime_of(request).suppression.remove, session.tenant_id, address)
    except (NotFound, ValidationError):
        pass  # already removed (another tab): the page shows the list as it is now
    return RedirectResponse("/ui/outbox?removed=1#suppressed", status_code=303)


@router.get("/{message_id}")
async def message(request: Request, session: SessionDep, message_id: str, done: str = "",
                  problem: str = "") -> Response:
    try:
        view = await asyncio.to_thread(runtime_of(request).outbox.get, session.tenant_id, message_id)
    except NotFound:
        return page(request, session, "not_found.html", status_code=404)
    recipients = [
        {**r, "explanation": explain_code(r.get("diagnosis"), server_text=r.get("text") or None,
                                          lang=session.lang)}
        for r in view.recipients
    ]
    reason = explain_code(view.reason, server_text=None, lang=session.lang)
    # A mailbox problem is fixed in the mailbox's settings: the failure links there.
    fix_at = (f"/ui/settings/email/mailbox/{view.account_id}"
              if is_mailbox_problem(view.reason) and not is_platform_sender(view.account_id) else None)
    linked = (await asyncio.to_thread(runtime_of(request).inbox.linked_to, session.tenant_id, view.id)
              if available_sections(runtime_of(request)).inbox else [])
    return page(request, session, "outbox_message.html", message=view, recipients=recipients,
                 reason=reason, fix_at=fix_at, linked=linked, done=done if done in ("retried", "cancelled") else "",
                 problem=problem if problem in ("not_retryable", "not_cancellable") else "")


@router.post("/{message_id}/retry")
async def retry(request: Request, session: WriteSessionDep, message_id: str) -> Response:
    """"Send again": after the user fixed what made it fail."""
    try:
        await runtime_of(request).outbox.retry_async(session.tenant_id, message_id)
    except NotFound:
        return page(request, session, "not_found.html", status_code=404)
    except Conflict:
        return RedirectResponse(f"/ui/outbox/{message_id}?problem=not_retryable", status_code=303)
    return RedirectResponse(f"/ui/outbox/{message_id}?done=retried", status_code=303)


@router.post("/{message_id}/cancel")
async def cancel(request: Request, session: WriteSessionDep, message_id: str) -> Response:
    try:
        await asyncio.to_thread(runtime_of(request).outbox.cancel, session.tenant_id, message_id)
    except NotFound:
        return page(request, session, "not_found.html", status_code=404)
    except Conflict:
        return RedirectResponse(f"/ui/outbox/{message_id}?problem=not_cancellable", status_code=303)
    return RedirectResponse(f"/ui/outbox/{message_id}?done=cancelled", status_code=303)
