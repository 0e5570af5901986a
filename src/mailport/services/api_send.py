"""Sending through a provider's mail API instead of SMTP: one sender per API transport.

The outbox calls ``senders[account.transport](tenant_id, account_id, raw)`` for an account whose
transport is an API (``graph``, ``gmail_api``): the exact MIME bytes it built go out through the
API; the provider files the Sent copy itself. A sender raises ``mailport.errors`` only
(:class:`~mailport.errors.RemoteThrottled` with ``retry_after`` for a deferral), as translated by
its adapter.
"""

from __future__ import annotations

from typing import Protocol

from mailport.adapters.graph import DEFAULT_BASE_URL, GraphMailbox, graph_api
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

__all__ = ["ApiSender", "GraphSender"]


class ApiSender(Protocol):
    async def __call__(self, tenant_id: str, account_id: str, raw: bytes) -> None: ...


def graph_base_url(settings: Settings) -> str:
    root = (settings.graph_api_url or "").rstrip("/")
    return f"{root}/v1.0" if root else DEFAULT_BASE_URL


class GraphSender:
    """Microsoft Graph ``sendMail`` (≤ 4 MB) or draft + upload session, with the account's token."""

    def __init__(self, *, oauth: OAuthService, settings: Settings) -> None:
        self.oauth = oauth
        self.settings = settings

    async def __call__(self, tenant_id: str, account_id: str, raw: bytes) -> None:
        async with graph_api(tokens=self.oauth.token_source(tenant_id, account_id),
                             base_url=graph_base_url(self.settings), timeout=self.settings.provider_api_timeout,
                             ca_file=self.settings.ca_file) as api:
            await GraphMailbox(api).send(raw)
