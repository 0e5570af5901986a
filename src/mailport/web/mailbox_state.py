"""The state of each mailbox, as every page shows it: working, needs attention (with the
diagnosis and a link to fix it), or not tested yet — one state, wherever it was learnt."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request

from mailport.core.diagnostics import CODES, Diagnosis
from mailport.core.diagnostics.providers import provider_variant
from mailport.diagnosis_text import Explanation, explain
from mailport.services.accounts import AccountView
from mailport.services.ui_sessions import UiSession
from mailport.web.session import runtime_of

__all__ = ["explain_attention", "needing_attention"]


def explain_attention(account: AccountView, lang: str) -> Explanation | None:
    """Why the mailbox needs attention, in ``lang``; ``None`` when it does not."""
    if account.state != "needs_attention":
        return None
    attention = account.attention or {}
    info = CODES.get(str(attention.get("code") or ""), CODES["unknown"])
    return explain(Diagnosis(code=info.code, severity=info.severity, retryable=info.retryable,
                             provider=provider_variant(email=account.email, provider=account.provider_id),
                             server_text=attention.get("server_text")), lang)


async def needing_attention(request: Request, session: UiSession) -> list[dict[str, Any]]:
    accounts = await asyncio.to_thread(runtime_of(request).accounts.list_accounts, session.tenant_id)
    return [{"account": a, "explanation": explain_attention(a, session.lang)}
            for a in accounts if a.state == "needs_attention"]
