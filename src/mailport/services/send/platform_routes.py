"""The platform routes: the platform address and the tenant's own domain.

Both hand the stored bytes to the platform's relay, DKIM-signed right before they leave — the
signature covers exactly what is sent, and a domain suspended since the message was accepted is
caught (:class:`~mailport.services.domains.DomainNotSendable`, a permanent failure).
Neither has a mailbox: no account limits, no Sent copy.
"""

from __future__ import annotations

import asyncio

from mailport.core.outbox import RecipientResult
from mailport.errors import ValidationError
from mailport.services.platform import PLATFORM_SENDER, PlatformService
from mailport.services.send.transport import (
    AccountCredentials,
    Outgoing,
    Sender,
    results_from_smtp,
)

__all__ = ["OwnDomainTransport", "PlatformAddressTransport"]

_NO_MAILBOX = "sent by the platform: no mailbox"


class _PlatformRelay:
    name = "platform"
    mailbox_limits = False

    def __init__(self, platform: PlatformService | None) -> None:
        self.platform = platform

    def _service(self) -> PlatformService:
        if self.platform is None:
            raise ValidationError("sending by the platform is not configured here",
                                  code="config.platform_missing")
        return self.platform

    def sent_copy_skip(self, sender: Sender) -> str | None:
        return _NO_MAILBOX


class PlatformAddressTransport(_PlatformRelay):
    """``From: <alias>@<platform domain>``, signed ``d=<platform domain>``."""

    name = "platform"

    def accepts(self, sender: Sender) -> bool:
        return sender.mailbox is None and sender.key == PLATFORM_SENDER

    async def send(self, message: Outgoing, *, sender: Sender,
                   credentials: AccountCredentials | None) -> list[RecipientResult]:
        platform = self._service()
        signed = await asyncio.to_thread(platform.platform_signer().sign, message.raw)
        result = await platform.relay(sender.tenant_id, mail_from=message.mail_from,
                                      rcpt_to=message.rcpt_to, raw=signed)
        return results_from_smtp(result)


class OwnDomainTransport(_PlatformRelay):
    """``From:`` an address at the tenant's verified domain, signed ``d=<that domain>``."""

    name = "domain"

    def accepts(self, sender: Sender) -> bool:
        return sender.mailbox is None and sender.key.startswith("dom_")

    async def send(self, message: Outgoing, *, sender: Sender,
                   credentials: AccountCredentials | None) -> list[RecipientResult]:
        platform = self._service()
        signer = await platform.domain_signer(sender.tenant_id, sender.key)
        signed = await asyncio.to_thread(signer.sign, message.raw)
        result = await platform.relay(sender.tenant_id, mail_from=message.mail_from,
                                      rcpt_to=message.rcpt_to, raw=signed)
        return results_from_smtp(result)
