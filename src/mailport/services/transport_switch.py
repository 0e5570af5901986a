"""The one-click move of a signed-in mailbox from SMTP/IMAP (XOAUTH2) to its provider's API.

Why: a Microsoft 365 tenant that switched SMTP AUTH off answers every XOAUTH2 login with
``535 5.7.139 … SmtpClientAuthentication is disabled`` (diagnosis ``auth.use_graph``), yet the
same Microsoft sign-in works through Graph ``sendMail`` with ``Mail.Send``. Moving the account
needs nothing from the user but a new consent: the switch starts a sign-in *for the same
account* (``account_id``, login hint = its address, so another account is refused) under an API
scope profile; when the callback stores the new grant, :class:`~mailport.services.oauth.OAuthService`
sets the account's transport (``graph`` / ``gmail_api``). Same account id, same history
(messages, events, inbox), nothing re-entered.
"""

from __future__ import annotations

import asyncio
from typing import Final

from mailport.adapters.storage.oauth_repository import OAuthGrantRepository
from mailport.core.transports import API_TRANSPORTS, transport_for
from mailport.errors import Conflict, ValidationError
from mailport.services.accounts import AccountService
from mailport.services.oauth import OAuthService, StartedAuthorization

__all__ = ["API_FOR_PROVIDER", "TransportSwitch"]

API_FOR_PROVIDER: Final = {"microsoft": "graph", "google": "gmail_api"}


class TransportSwitch:
    def __init__(self, *, oauth: OAuthService, accounts: AccountService) -> None:
        self.oauth = oauth
        self.accounts = accounts

    def _provider_of(self, tenant_id: str, account_id: str) -> str | None:
        with self.oauth.db.session() as s:
            grant = OAuthGrantRepository(s).get(account_id)
            return grant.provider if grant is not None and grant.tenant_id == tenant_id else None

    async def start(self, tenant_id: str, account_id: str, *, to: str | None = None,
                    return_url: str | None = None) -> StartedAuthorization:
        """Begin the sign-in that moves ``account_id`` to its provider's API (``to``: ``graph`` or
        ``gmail_api``; by default the one of the account's provider)."""
        account = await asyncio.to_thread(self.accounts.get, tenant_id, account_id)
        provider = (await asyncio.to_thread(self._provider_of, tenant_id, account_id)
                    if account.auth_kind == "oauth2" else None)
        if provider not in API_FOR_PROVIDER:
            raise ValidationError("only a mailbox connected by signing in with Google or Microsoft can move to"
                                  " its provider's API", code="account.transport_unsupported", field="transport")
        target = to or API_FOR_PROVIDER[provider]
        if target != API_FOR_PROVIDER[provider]:
            raise ValidationError(f"a {provider} mailbox can move to {API_FOR_PROVIDER[provider]} only",
                                  code="account.transport_unsupported", field="transport")
        if account.transport in API_TRANSPORTS:
            raise Conflict(f"this mailbox already sends through {account.transport}",
                           code="account.transport_unchanged")
        # The operator's profile when it is an API one (it may add the inbox); else send-only.
        profile = self.oauth.scope_profile(provider)
        if transport_for(provider, profile) != target:
            profile = "send"
        return await self.oauth.start(tenant_id, provider, account_id=account_id, login_hint=account.email,
                                      return_url=return_url, profile=profile)
