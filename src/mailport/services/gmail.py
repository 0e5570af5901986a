"""Gmail through its own API (``gmail_api`` transport): sending for the outbox, and the test mail.

The outbox hands over the exact RFC 822 bytes it built; :class:`GmailSender` gives them to
``users.messages.send`` with the account's access token (refreshed once if Google refuses it).
Gmail files the message under Sent itself, so no Sent copy job follows (see
``core.transports.files_sent_copy``).

Its verification is the one round trip of every API mailbox: ``services.api_verify`` (with
:class:`~mailport.services.api_verify.GmailMailboxes`).
"""

from __future__ import annotations

from mailport.adapters.gmail import GMAIL_URL, GmailApi
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

__all__ = ["GmailSender", "gmail_api_for"]


def gmail_api_for(oauth: OAuthService, settings: Settings, tenant_id: str, account_id: str) -> GmailApi:
    """The Gmail API of one account, with its tokens; close it after use."""
    return GmailApi(tokens=oauth.token_source(tenant_id, account_id), base_url=settings.gmail_api_url or GMAIL_URL,
                    timeout=settings.provider_api_timeout, ca_file=settings.ca_file)


class GmailSender:
    """``users.messages.send`` for the outbox (``services.api_send.ApiSender``)."""

    def __init__(self, *, oauth: OAuthService, settings: Settings) -> None:
        self.oauth = oauth
        self.settings = settings

    async def __call__(self, tenant_id: str, account_id: str, raw: bytes) -> None:
        async with gmail_api_for(self.oauth, self.settings, tenant_id, account_id) as api:
            await api.send(raw)
