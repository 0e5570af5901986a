"""What a sender or verifier needs to sign in to a mailbox: one type for every route.

A password account carries ``password``; an OAuth account carries a fresh access ``token``
(XOAUTH2 for IMAP/SMTP, a bearer token for the provider APIs). Never both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mailport.core.secret import Secret
from mailport.core.verification import AccountConfig

__all__ = ["CredentialSource", "Credentials"]


@dataclass(frozen=True, slots=True)
class Credentials:
    config: AccountConfig
    password: Secret | None = None
    token: str | None = field(default=None, repr=False)


class CredentialSource(Protocol):
    """Where an account's secret comes from (``services.oauth.OAuthService.credentials``):
    its password, or a fresh OAuth access token (a new one when ``rejected_token`` was refused)."""

    async def __call__(self, tenant_id: str, account_id: str, *,
                       rejected_token: str | None = None) -> Credentials: ...
