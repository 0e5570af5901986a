"""Platform address: the sender name customers see, and the reply address (confirmed by a link
mailed to it before it is used)."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailport.errors import AddressError, MailportError, RemoteError, ValidationError
from mailport.web import labels
from mailport.web.session import WriteSessionDep, runtime_of

router = APIRouter(prefix="/ui/settings/email/platform", include_in_schema=False)

BACK = "/ui/settings/email?method=platform"


@router.post("")
async def save_name(request: Request, session: WriteSessionDep) -> Response:
    name = str((await request.form()).get("display_name") or "").strip()
    try:
        await asyncio.to_thread(runtime_of(request).platform.configure, session.tenant_id, display_name=name)
    except ValidationError as exc:
        error = {"platform.display_name_spoofing": "name_address",
                 "platform.display_name_brand": "name_brand"}.get(exc.code or "", "name")
        return RedirectResponse(f"{BACK}&platform_error={error}&typed={_typed(name)}#chosen", status_code=303)
    return RedirectResponse(f"{BACK}&platform_saved=name#chosen", status_code=303)


@router.post("/reply-to")
async def request_reply_to(request: Request, session: WriteSessionDep) -> Response:
    email = str((await request.form()).get("reply_to") or "").strip()
    try:
        await runtime_of(request).platform.request_reply_to(session.tenant_id, email, lang=session.lang)
    except AddressError:
        return RedirectResponse(f"{BACK}&platform_error=reply_to&typed={_typed(email)}#chosen", status_code=303)
    except (RemoteError, MailportError):
        return RedirectResponse(f"{BACK}&platform_error=send#chosen", status_code=303)
    return RedirectResponse(f"{BACK}&platform_saved=reply_to#chosen", status_code=303)


def _typed(value: str) -> str:
    """What the user typed, back in the field beside the error, so that a refusal costs no retyping
    (bounded: the page's own fields take no more)."""
    return quote(value[:254], safe="")


def typed_back(error: str, typed: str) -> dict[str, str]:
    """The refused value for the field it was typed in (``name`` or ``reply_to``), else nothing."""
    if error in ("name", "name_address", "name_brand"):
        return {"name": typed[:254]}
    return {"reply_to": typed[:254]} if error == "reply_to" else {}


ERRORS = {
    "name": labels.N_("This sender name cannot be used; avoid special characters such as < > and quotes."),
    "name_address": labels.N_("The sender name may not look like an e-mail or web address (no @, < > or "
                              "names like example.com): it is shown next to the shared sending address."),
    "name_brand": labels.N_("The sender name may not be that of a well-known company, bank or authority (such as "
                            "PayPal, Microsoft or the tax office): your customers could take your mail for theirs. "
                            "Use your business's own name."),
    "reply_to": labels.N_("Enter a valid e-mail address, like name@example.com."),
    "send": labels.N_("The confirmation mail could not be sent. Please try again later."),
    "no_reply_to": labels.N_("Confirm a reply address first, so that your customers' replies reach you."),
}
SAVED = {
    "name": labels.N_("The sender name was saved."),
    "reply_to": labels.N_("We sent a confirmation link to the reply address. Replies go there once it is confirmed."),
}
