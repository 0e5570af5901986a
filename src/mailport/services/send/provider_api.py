"""The provider-API routes: Gmail API (``gmail_api``) and Microsoft Graph (``graph``).

One :class:`ProviderApiTransport` per API transport, registered in front of SMTP: it takes the
connected accounts whose ``transport`` it is and hands the stored bytes to an :class:`ApiSender`
(``services.gmail.GmailSender``, ``services.api_send.GraphSender``), which calls the provider
with the account's access token (refreshed once on a ``401`` by ``adapters.provider_api``).

What the pipeline makes of the answers:

* accepted — every open recipient accepted (the APIs take a message for all of them at once;
  later refusals come back as bounces, which the inbox sync links to the message);
* :class:`~mailport.errors.RemoteThrottled` (429/503, Google's rate-limit reasons, a daily
  sending limit) — deferred until the provider's ``Retry-After`` (backoff when it named none;
  the next day window for a daily limit), never failed;
* :class:`~mailport.errors.RemoteAuthError` (a revoked grant after the refresh failed, a missing
  permission) and :class:`~mailport.errors.RemoteRejected` — failed with the diagnosis: an API
  answer is definite, unlike an SMTP session that may work again after a reconnect;
* any other :class:`~mailport.errors.RemoteError` (network, 5xx) — deferred with backoff.

Sent copies: Gmail files what ``messages.send`` sends, Graph saves to Sent Items
(``saveToSentItems``), so mailport never APPENDs one for these routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from mailport.core.message import with_bcc_header
from mailport.core.outbox import RecipientResult
from mailport.errors import RemoteAuthError, RemoteError, RemoteRejected, RemoteThrottled
from mailport.services.send.transport import AccountCredentials, Outgoing, Sender, results_for_error

__all__ = ["ApiSender", "ProviderApiTransport", "api_results"]


class ApiSender(Protocol):
    """Sends one stored message through a provider API for an account; raises
    ``mailport.errors`` only (as translated by its adapter)."""

    def __call__(self, tenant_id: str, account_id: str, raw: bytes) -> Awaitable[None]: ...


def api_results(recipients: Sequence[str], exc: RemoteError) -> list[RecipientResult]:
    """A provider API's refusal as one result per recipient (see the module doc)."""
    results = results_for_error(recipients, exc)
    if isinstance(exc, RemoteThrottled):
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after is not None else None
        return [replace(r, retry_after=wait) for r in results]
    if isinstance(exc, (RemoteAuthError, RemoteRejected)):
        return [replace(r, permanent=True, diagnosis=r.diagnosis or "unknown") for r in results]
    return results


class ProviderApiTransport:
    """A connected account whose transport is ``transport``, sent through ``sender``."""

    mailbox_limits = True

    def __init__(self, *, transport: str, sender: ApiSender) -> None:
        self.name = transport
        self.transport = transport
        self.sender = sender

    def accepts(self, sender: Sender) -> bool:
        return sender.mailbox is not None and sender.mailbox.transport == self.transport

    def sent_copy_skip(self, sender: Sender) -> str | None:
        return f"the provider files sent mail itself ({self.transport})"

    async def send(self, message: Outgoing, *, sender: Sender,
                   credentials: AccountCredentials | None) -> list[RecipientResult]:
        # The APIs take the recipients from the headers, not from an envelope: Bcc recipients
        # (envelope only in the stored bytes) go in a Bcc header, which both providers remove.
        raw = with_bcc_header(message.raw, message.rcpt_to)
        try:
            await self.sender(sender.tenant_id, sender.key, raw)
        except RemoteError as exc:
            return api_results(message.rcpt_to, exc)
        # 250 is what an SMTP server answers for the same thing; the text names the route.
        return [RecipientResult(recipient=r, smtp_code=250, text=f"accepted by {self.transport}")
                for r in message.rcpt_to]
