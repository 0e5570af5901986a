"""Verifying a mailbox that sends through its provider's API (the ``graph`` transport).

There is no SMTP or IMAP connection to test stage by stage: the proof is the round trip. The test
mail (the same one the SMTP verification sends, ``core.verification.build_test_message``) goes out
through the API — that proves the grant, the permission and the mailbox; when the grant includes
reading mail (``send_and_inbox``: ``Mail.Read``), its arrival in Inbox or Junk Email is looked up through the API
too, else the report says "sent, arrival not confirmed". Exchange files Sent Items itself.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Protocol

from mailport.adapters.graph import GraphMailbox, graph_api
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
from mailport.services.api_send import graph_base_url
from mailport.services.oauth import OAuthService
from mailport.settings import Settings

__all__ = ["ApiVerifier", "GraphVerifier"]

Progress = Callable[[StageResult], None]
_FIRST_POLL, _MAX_POLL = 0.2, 2.0


class ApiVerifier(Protocol):
    async def __call__(self, tenant_id: str, account_id: str, account: AccountConfig, *,
                       progress: Progress | None = None) -> VerificationReport: ...


class GraphVerifier:
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

        def elapsed(since: float) -> int:
            return round((time.monotonic() - since) * 1000)

        token = self.make_token()
        message_id = f"<mailport-verify.{token}@{account.email.rsplit('@', 1)[1]}>"
        raw = build_test_message(email=account.email, display_name=account.display_name, message_id=message_id,
                                 date=started_at, token=token)
        granted = await asyncio.to_thread(self.oauth.granted_scope, tenant_id, account_id)
        # Only the inbox profile (Mail.Read) looks into the mailbox: Mail.ReadWrite of the send
        # profile is there for drafts of large messages, not for reading.
        readable = can_read_inbox("graph", granted) and any(
            scope.rsplit("/", 1)[-1] == "Mail.Read" for scope in (granted or "").split())
        roundtrip: RoundTrip
        async with graph_api(tokens=self.oauth.token_source(tenant_id, account_id),
                             base_url=graph_base_url(self.settings), timeout=self.settings.provider_api_timeout,
                             ca_file=self.settings.ca_file) as api:
            box = GraphMailbox(api)
            mark = time.monotonic()
            try:
                await box.send(raw)
            except MailportError as exc:
                record(_failed(Stage.SEND, exc, elapsed(mark)))
                record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.SKIPPED))
                roundtrip = RoundTrip(message_id=message_id, sent=False)
            else:
                record(StageResult(stage=Stage.SEND, status=StageStatus.OK, duration_ms=elapsed(mark)))
                roundtrip = await self._arrival(box, message_id, readable, record)
        return VerificationReport(email=account.email, started_at=started_at, duration_ms=elapsed(t0),
                                  stages=tuple(results), roundtrip=roundtrip,
                                  details={"transport": "graph", "inbox_readable": readable})

    async def _arrival(self, box: GraphMailbox, message_id: str, readable: bool,
                       record: Callable[[StageResult], None]) -> RoundTrip:
        if not readable:
            record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.SKIPPED,
                               message="Sent, arrival not confirmed: this sign-in may send but not read mail"))
            return RoundTrip(message_id=message_id, sent=True, sent_copy=True)
        started = time.monotonic()
        deadline, delay = started + self.settings.verify_roundtrip_timeout, _FIRST_POLL
        try:
            while True:
                landed = await box.landed_in(message_id)
                if landed in ("inbox", "junk"):
                    waited = round((time.monotonic() - started) * 1000)
                    record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.OK, duration_ms=waited))
                    return RoundTrip(message_id=message_id, sent=True, arrived=True, landed_in=landed,
                                     folder="Inbox" if landed == "inbox" else "Junk Email", sent_copy=True,
                                     wait_ms=waited)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, _MAX_POLL)
        except MailportError as exc:
            record(_failed(Stage.ARRIVAL, exc, round((time.monotonic() - started) * 1000)))
            return RoundTrip(message_id=message_id, sent=True, arrived=False)
        waited = round((time.monotonic() - started) * 1000)
        record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.FAILED, duration_ms=waited, code=NOT_ARRIVED,
                           message=f"The test mail was accepted but did not arrive within "
                                   f"{self.settings.verify_roundtrip_timeout:g} s"))
        return RoundTrip(message_id=message_id, sent=True, arrived=False, wait_ms=waited)


def _failed(stage: Stage, exc: MailportError, duration_ms: int) -> StageResult:
    return StageResult(stage=stage, status=StageStatus.FAILED, duration_ms=duration_ms, code=exc.code,
                       message=str(exc), server_text=getattr(exc, "server_text", None))
