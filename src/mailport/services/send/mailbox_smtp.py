"""The own-mailbox route: the account's SMTP submission server, sessions pooled per account."""

from __future__ import annotations

from typing import Any

from mailport.adapters.dns import Resolver
from mailport.adapters.secrets import Secret
from mailport.adapters.smtp import SmtpSession
from mailport.core.outbox import RecipientResult, server_files_sent_copy
from mailport.core.verification import AccountConfig
from mailport.errors import NetworkError, ProtocolError, RemoteAuthError, RemoteError
from mailport.services.send.transport import (
    AccountCredentials,
    Outgoing,
    Sender,
    results_for_error,
    results_from_smtp,
)
from mailport.services.smtp_pool import SmtpPool, pool_key
from mailport.settings import Settings

__all__ = ["MailboxSmtpTransport", "mailbox_copy_skip"]


def mailbox_copy_skip(sender: Sender, *, files_itself: bool | None = None) -> str | None:
    """Why a connected mailbox gets no Sent copy from mailport, or None when it does."""
    box = sender.mailbox
    if box is None:
        return "sent by the platform: no mailbox"
    if box.imap_host is None:
        return "the account has no IMAP settings"
    if files_itself is None:
        files_itself = server_files_sent_copy(provider_id=box.provider_id,
                                              hosts=[box.smtp_host, box.imap_host])
    if files_itself:
        return "the server files sent mail itself"
    return None


class MailboxSmtpTransport:
    """Sends through the connected account's own SMTP server (password or XOAUTH2)."""

    name = "smtp"
    mailbox_limits = True

    def __init__(self, *, settings: Settings, resolver: Resolver, pool: SmtpPool | None = None) -> None:
        self.settings = settings
        self.resolver = resolver
        self.pool = pool or SmtpPool()

    def accepts(self, sender: Sender) -> bool:
        return sender.mailbox is not None

    def sent_copy_skip(self, sender: Sender) -> str | None:
        return mailbox_copy_skip(sender)

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def send(self, message: Outgoing, *, sender: Sender,
                   credentials: AccountCredentials | None) -> list[RecipientResult]:
        assert credentials is not None, "a mailbox route always has the account's credentials"
        creds = await credentials()
        fresh = refreshed = False
        while True:
            config, password, token = creds.config, creds.password, creds.token
            key = pool_key(sender.key, config.smtp, password.reveal() if password else "", token or "")

            def opener(config: AccountConfig = config, password: Secret | None = password,
                       token: str | None = token) -> Any:
                return SmtpSession.open(config.smtp, password=password, oauth_token=token,
                                        settings=self.settings, resolver=self.resolver, email=config.email)

            try:
                lease = await self.pool.acquire(key, opener, fresh=fresh)
            except RemoteError as exc:
                if isinstance(exc, RemoteAuthError) and token is not None and not refreshed:
                    # Access tokens can die before their announced expiry: refresh once.
                    refreshed = True
                    creds = await credentials(rejected_token=token)
                    continue
                raise
            reusable = False
            try:
                result = await lease.session.deliver(message.mail_from, message.rcpt_to, message.raw)
                # 421 announces the server is closing the connection.
                reusable = result.smtp_code != 421
            except (NetworkError, ProtocolError) as exc:
                # An idle pooled connection the server closed: nothing was sent yet (the failure
                # is at MAIL FROM), so one more try on a fresh connection is safe.
                if lease.reused and exc.stage == "smtp.mail" and not fresh:
                    await self.pool.release(lease, reusable=False)
                    fresh = True
                    continue
                await self.pool.release(lease, reusable=False)
                return results_for_error(message.rcpt_to, exc)
            except RemoteError as exc:
                # A refusal with a reply leaves the connection usable (aiosmtplib/RSET),
                # except 421, which announces the server is closing it.
                await self.pool.release(lease, reusable=exc.smtp_code not in (None, 421))
                return results_for_error(message.rcpt_to, exc)
            except BaseException:
                await self.pool.release(lease, reusable=False)
                raise
            await self.pool.release(lease, reusable=reusable)
            return results_from_smtp(result)
