"""Gmail through its own API (``gmail_api`` transport): sending for the outbox, and the test mail.

The outbox hands over the exact RFC 822 bytes it built; :class:`GmailSender` gives them to
``users.messages.send`` with the account's access token (refreshed once if Google refuses it).
Gmail files the message under Sent itself, so no Sent copy job follows (see
``core.transports.files_sent_copy``).

:class:`GmailVerifier` is the verification of such a mailbox (``ConnectService`` dispatches by
transport): there is no SMTP or IMAP session to test stage by stage, the proof is the round trip.
The test mail to the mailbox itself goes out through ``users.messages.send`` — that proves the
grant, the ``gmail.send`` permission and the mailbox; when the grant includes ``gmail.readonly``
(the ``send_and_inbox`` profile) its arrival in INBOX or SPAM is looked up through the API
(``rfc822msgid:`` search), else the report says "sent, arrival not confirmed".
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Literal

from mailport.adapters.gmail import GMAIL_URL, GmailApi
from mailport.clock import Clock
from mailport.core.transports import can_read_inbox
from mailport.core.verification import (
    NOT_ARRIVED,
    AccountConfig,
    RoundTrip,
    Stage,
    StageResult,
    StageStatus,
    VerificationReport,
    build_test_message,
)
from mailport.errors import MailportError
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

__all__ = ["GmailSender", "GmailVerifier", "gmail_api_for"]

Progress = Callable[[StageResult], None]
_FIRST_POLL, _MAX_POLL = 0.2, 2.0


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


class GmailVerifier:
    """The test mail of a ``gmail_api`` mailbox (``services.api_verify.ApiVerifier``)."""

    def __init__(self, *, oauth: OAuthService, settings: Settings, clock: Clock,
                 make_token: Callable[[], str] | None = None) -> None:
        self.oauth = oauth
        self.settings = settings
        self.clock = clock
        self.make_token = make_token or (lambda: secrets.token_hex(8))

    async def __call__(self, tenant_id: str, account_id: str, account: AccountConfig, *,
                       progress: Progress | None = None) -> VerificationReport:
        started_at, t0 = self.clock.now(), time.monotonic()
        results: list[StageResult] = []

        def record(result: StageResult) -> None:
            results.append(result)
            if progress is not None:
                progress(result)

        token = self.make_token()
        message_id = f"<mailport-verify.{token}@{account.email.rsplit('@', 1)[1]}>"
        raw = build_test_message(email=account.email, display_name=account.display_name, message_id=message_id,
                                 date=started_at, token=token)
        granted = await asyncio.to_thread(self.oauth.granted_scope, tenant_id, account_id)
        readable = can_read_inbox("gmail_api", granted)
        async with gmail_api_for(self.oauth, self.settings, tenant_id, account_id) as api:
            mark = time.monotonic()
            try:
                await api.send(raw)
            except MailportError as exc:
                record(_failed(Stage.SEND, exc, _ms(mark)))
                record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.SKIPPED))
                roundtrip = RoundTrip(message_id=message_id, sent=False)
            else:
                record(StageResult(stage=Stage.SEND, status=StageStatus.OK, duration_ms=_ms(mark)))
                roundtrip = await self._arrival(api, message_id, readable, record)
        return VerificationReport(email=account.email, started_at=started_at, duration_ms=_ms(t0),
                                  stages=tuple(results), roundtrip=roundtrip,
                                  details={"transport": "gmail_api", "inbox_readable": readable})

    async def _arrival(self, api: GmailApi, message_id: str, readable: bool,
                       record: Callable[[StageResult], None]) -> RoundTrip:
        if not readable:
            record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.SKIPPED,
                               message="Sent, arrival not confirmed: this sign-in may send but not read mail"))
            return RoundTrip(message_id=message_id, sent=True, sent_copy=True)
        started = time.monotonic()
        deadline, delay = started + self.settings.verify_roundtrip_timeout, _FIRST_POLL
        try:
            while True:
                places: tuple[tuple[str, Literal["inbox", "junk"], str], ...] = (
                    ("INBOX", "inbox", "INBOX"), ("SPAM", "junk", "Spam"))
                for label, landed, folder in places:
                    async for _ref in api.list_messages(query=f"rfc822msgid:{message_id.strip('<>')}",
                                                        label_ids=(label,), page_size=1):
                        waited = _ms(started)
                        record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.OK, duration_ms=waited))
                        return RoundTrip(message_id=message_id, sent=True, arrived=True, landed_in=landed,
                                         folder=folder, sent_copy=True, wait_ms=waited)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # Gmail indexes a new message for search within moments; nothing announces it.
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _MAX_POLL)
        except MailportError as exc:
            record(_failed(Stage.ARRIVAL, exc, _ms(started)))
            return RoundTrip(message_id=message_id, sent=True, arrived=False)
        waited = _ms(started)
        record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.FAILED, duration_ms=waited, code=NOT_ARRIVED,
                           message=f"The test mail was accepted but did not arrive within "
                                   f"{self.settings.verify_roundtrip_timeout:g} s"))
        return RoundTrip(message_id=message_id, sent=True, arrived=False, wait_ms=waited)


def _ms(since: float) -> int:
    return round((time.monotonic() - since) * 1000)


def _failed(stage: Stage, exc: MailportError, duration_ms: int) -> StageResult:
    return StageResult(stage=stage, status=StageStatus.FAILED, duration_ms=duration_ms, code=exc.code,
                       message=str(exc), server_text=getattr(exc, "server_text", None))
