"""Connecting a stored account to its servers: verification with the round trip, and alias codes.

Glue between the account store and the verification/SMTP adapters: load settings and the secret,
run, and store the outcome as the account's last status.
"""

from __future__ import annotations

import asyncio
import secrets as random
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mailport.adapters.smtp import SmtpSession
from mailport.adapters.transport import AddressResolver
from mailport.clock import Clock
from mailport.core.credentials import Credentials, CredentialSource
from mailport.core.message import Mailbox, MessageDraft, build_message
from mailport.core.verification import Stage, VerificationReport
from mailport.errors import ValidationError
from mailport.i18n import gettext
from mailport.services.accounts import AccountInput, AccountService, AccountView
from mailport.services.api_verify import ApiVerifier
from mailport.services.discover import DiscoveryService
from mailport.services.verify import Progress, VerifyService
from mailport.settings import Settings


def _(msgid: str) -> str:  # marks texts for extraction; translated at use with the user's language
    return msgid


ALIAS_SUBJECT = _("Confirm {alias} as a sender address")
ALIAS_BODY = _(
    "Hello,\n\n"
    "Someone asked to send mail as {alias} through the mailbox {account}.\n"
    "If that was you, enter this confirmation code: {code}\n\n"
    "The code is valid for one hour. If you did not ask for this, you can ignore this message."
)



_AUTH_STAGES = (Stage.SMTP_AUTH, Stage.IMAP_LOGIN)


class ConnectService:
    def __init__(
        self,
        *,
        accounts: AccountService,
        verifier: VerifyService,
        discovery: DiscoveryService,
        resolver: AddressResolver,
        settings: Settings,
        clock: Clock,
        credentials: CredentialSource | None = None,
        api_verifiers: Mapping[str, ApiVerifier] | None = None,
    ) -> None:
        self.api_verifiers = dict(api_verifiers or {})
        self.accounts = accounts
        self.verifier = verifier
        self.discovery = discovery
        self.resolver = resolver
        self.settings = settings
        self.clock = clock
        self.credentials = credentials

    async def _credentials(self, tenant_id: str, account_id: str, *,
                           rejected_token: str | None = None) -> Credentials:
        if self.credentials is not None:
            return await self.credentials(tenant_id, account_id, rejected_token=rejected_token)
        config, password = await asyncio.to_thread(self.accounts.connection, tenant_id, account_id)
        return Credentials(config=config, password=password)

    async def create(self, tenant_id: str, spec: AccountInput) -> AccountView:
        """Connect a mailbox; without SMTP settings they are discovered from the address first.

        Only settings a discovery source actually gave are used; when none did, the caller gets
        ``discovery.not_found`` and shows the advanced dialog.
        """
        if not spec.smtp:
            result = await self.discovery.discover(spec.email)
            if result.smtp is None:
                raise ValidationError(
                    "the server settings for this address could not be found; enter them yourself",
                    code="discovery.not_found", field="smtp", discovery=result.to_dict(),
                )
            spec = replace(
                spec,
                smtp=result.smtp.to_dict(),
                imap=spec.imap or (result.imap.to_dict() if result.imap else None),
                provider_id=spec.provider_id or (result.provider.id if result.provider else None),
            )
        return await asyncio.to_thread(self.accounts.create, tenant_id, spec)

    async def verify_account(
        self, tenant_id: str, account_id: str, *, progress: Progress | None = None, lang: str = "en"
    ) -> dict[str, Any]:
        """Run the staged verification and store it as the account's last status (the test mail
        is in ``lang``)."""
        view = await asyncio.to_thread(self.accounts.get, tenant_id, account_id)
        api_verifier = self.api_verifiers.get(view.transport)
        if api_verifier is not None:
            # A provider-API mailbox: the round trip through the API is the whole proof.
            config, _password = await asyncio.to_thread(self.accounts.connection, tenant_id, account_id)
            report = await api_verifier(tenant_id, account_id, config, progress=progress, lang=lang)
            return await self._record(tenant_id, account_id, report)
        creds = await self._credentials(tenant_id, account_id)
        report = await self.verifier.verify(creds.config, password=creds.password, oauth_token=creds.token,
                                            progress=progress, lang=lang)
        if creds.token is not None and _login_refused(report):
            # An access token can die before its announced expiry (revoked, password changed):
            # refresh once and try again; a refresh the provider refuses raises auth.token_invalid.
            creds = await self._credentials(tenant_id, account_id, rejected_token=creds.token)
            report = await self.verifier.verify(creds.config, password=creds.password,
                                                oauth_token=creds.token, progress=progress, lang=lang)
        return await self._record(tenant_id, account_id, report)

    async def _record(self, tenant_id: str, account_id: str, report: VerificationReport) -> dict[str, Any]:
        result = report.to_dict()
        # "sent_unconfirmed" (no IMAP to look for the test mail) works, but is not proven.
        status = {"verified": "verified", "delivered_to_junk": "verified",
                  "sent_unconfirmed": "sent_unconfirmed"}.get(report.outcome.value, "failed")
        await asyncio.to_thread(
            self.accounts.record_verification, tenant_id, account_id, report=result, status=status
        )
        return result

    async def send_alias_code(self, tenant_id: str, account_id: str, alias: str, *, lang: str = "en") -> None:
        """Add ``alias`` unconfirmed and mail its confirmation code to it through the account.

        Mailing the code proves that whoever adds the alias can read mail sent to it.
        """
        code = await asyncio.to_thread(self.accounts.request_alias, tenant_id, account_id, alias)
        creds = await self._credentials(tenant_id, account_id)
        config, password, token = creds.config, creds.password, creds.token
        view = await asyncio.to_thread(self.accounts.get, tenant_id, account_id)
        alias_email = next(a["email"] for a in view.aliases if not a.get("verified"))
        draft = MessageDraft(
            from_=Mailbox.parse(config.email, name=config.display_name),
            to=(Mailbox.parse(alias_email),),
            subject=gettext(lang, ALIAS_SUBJECT).format(alias=alias_email),
            text=gettext(lang, ALIAS_BODY).format(alias=alias_email, account=config.email, code=code),
            headers={"Auto-Submitted": "auto-generated"},
        )
        built = build_message(
            draft, message_id_domain=config.email.rsplit("@", 1)[1], now=self.clock.now(),
            make_id=lambda: random.token_hex(12),
        )
        async with SmtpSession.open(
            config.smtp, password=password, oauth_token=token, settings=self.settings, resolver=self.resolver,
            email=config.email,
        ) as smtp:
            await smtp.send(built.envelope.mail_from, built.envelope.rcpt_to, built.raw)


def _login_refused(report: VerificationReport) -> bool:
    failed = report.failed_stage
    # Only a refused token is worth a refresh; "SMTP AUTH disabled for the tenant" and the like
    # would fail the same way with a new token.
    return failed is not None and failed.stage in _AUTH_STAGES and failed.code == "auth.token_invalid"
