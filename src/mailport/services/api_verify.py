"""Verifying a mailbox that sends through its provider's API (``gmail_api``, ``graph``): one
verifier over a small mailbox protocol.

There is no SMTP or IMAP connection to test stage by stage: the proof is the round trip. The test
mail — the one the SMTP verification sends, in the user's language
(:func:`mailport.services.verify.round_trip_mail`) — goes out through the API, which proves the
grant, the permission and the mailbox. When the grant reads mail (Gmail ``gmail.readonly``, Graph
``Mail.Read``) its arrival in the inbox or the junk folder is looked up through the API too, else
the report says "sent, arrival not confirmed". Once found it is deleted where the grant allows it
(Gmail ``gmail.modify``, Graph ``Mail.ReadWrite``), its Sent copy with it; else it stays, and the
inbox sync still skips it by its Message-ID. Gmail and Exchange file the Sent copy themselves.

:class:`ApiVerifier` is the round trip; :class:`ApiMailbox` is what it needs of a provider
(``send`` / ``landed_in`` / ``delete``), and each provider is a :class:`ApiMailboxes`:
:class:`GmailMailboxes`, :class:`GraphMailboxes`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from mailport.adapters.gmail import GmailApi
from mailport.adapters.graph import GraphMailbox, graph_api
from mailport.clock import Clock
from mailport.core.transports import can_delete_mail, can_read_inbox
from mailport.core.verification import (
    NOT_ARRIVED,
    AccountConfig,
    Landing,
    RoundTrip,
    Stage,
    StageResult,
    StageStatus,
    VerificationReport,
)
from mailport.errors import MailportError
from mailport.services.api_send import graph_base_url
from mailport.services.gmail import gmail_api_for
from mailport.services.oauth import OAuthService
from mailport.services.verify import round_trip_mail
from mailport.settings import Settings

__all__ = ["ApiMailbox", "ApiMailboxes", "ApiVerifier", "GmailMailboxes", "Grant", "GraphMailboxes"]

log = logging.getLogger(__name__)

Progress = Callable[[StageResult], None]
_FIRST_POLL, _MAX_POLL = 0.2, 2.0


class ApiMailbox(Protocol):
    """What the round trip needs of a mailbox behind a provider API."""

    async def send(self, raw: bytes) -> None:
        """Send the RFC 822 bytes unchanged (to the mailbox itself)."""

    async def landed_in(self, message_id: str) -> tuple[Landing, str] | None:
        """Where the message with this Message-ID arrived (``inbox``/``junk`` and the folder's
        name as the provider shows it), or None: not (yet) there."""

    async def delete(self, message_id: str) -> bool:
        """Remove every copy of the message (received and sent); whether it is gone."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What a sign-in allows the round trip to do beyond sending."""

    read: bool
    delete: bool


class ApiMailboxes(Protocol):
    """One provider: which of its transports, what a grant allows, and an open mailbox."""

    transport: str

    def grant(self, granted_scope: str | None) -> Grant: ...

    def open(self, tenant_id: str, account_id: str) -> AbstractAsyncContextManager[ApiMailbox]: ...


class ApiVerifier:
    """The round trip of an API mailbox, the same for every provider."""

    def __init__(self, mailboxes: ApiMailboxes, *, oauth: OAuthService, settings: Settings, clock: Clock,
                 make_token: Callable[[], str] | None = None) -> None:
        self.mailboxes = mailboxes
        self.oauth = oauth
        self.settings = settings
        self.clock = clock
        self.make_token = make_token or (lambda: secrets.token_hex(8))

    async def __call__(self, tenant_id: str, account_id: str, account: AccountConfig, *,
                       progress: Progress | None = None, lang: str = "en") -> VerificationReport:
        """Send the test mail (in ``lang``) through the API, look for it, delete it once found."""
        started_at, t0 = self.clock.now(), time.monotonic()
        results: list[StageResult] = []

        def record(result: StageResult) -> None:
            results.append(result)
            if progress is not None:
                progress(result)

        message_id, raw = round_trip_mail(account, token=self.make_token(), date=started_at, lang=lang)
        grant = self.mailboxes.grant(await asyncio.to_thread(self.oauth.granted_scope, tenant_id, account_id))
        roundtrip: RoundTrip
        async with self.mailboxes.open(tenant_id, account_id) as box:
            mark = time.monotonic()
            try:
                await box.send(raw)
            except MailportError as exc:
                record(_failed(Stage.SEND, exc, _ms(mark)))
                record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.SKIPPED))
                roundtrip = RoundTrip(message_id=message_id, sent=False)
            else:
                record(StageResult(stage=Stage.SEND, status=StageStatus.OK, duration_ms=_ms(mark)))
                roundtrip = await self._arrival(box, message_id, grant, record)
        return VerificationReport(email=account.email, started_at=started_at, duration_ms=_ms(t0),
                                  stages=tuple(results), roundtrip=roundtrip,
                                  details={"transport": self.mailboxes.transport, "inbox_readable": grant.read,
                                           "test_mail_removable": grant.delete})

    async def _arrival(self, box: ApiMailbox, message_id: str, grant: Grant,
                       record: Callable[[StageResult], None]) -> RoundTrip:
        if not grant.read:
            record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.SKIPPED,
                               message="Sent, arrival not confirmed: this sign-in may send but not read mail"))
            return RoundTrip(message_id=message_id, sent=True, sent_copy=True)
        started = time.monotonic()
        deadline, delay = started + self.settings.verify_roundtrip_timeout, _FIRST_POLL
        try:
            while True:
                landed = await box.landed_in(message_id)
                if landed is not None:
                    waited = _ms(started)
                    record(StageResult(stage=Stage.ARRIVAL, status=StageStatus.OK, duration_ms=waited))
                    return RoundTrip(message_id=message_id, sent=True, arrived=True, landed_in=landed[0],
                                     folder=landed[1], sent_copy=True, wait_ms=waited,
                                     removed=await _remove(box, message_id) if grant.delete else None)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # The provider indexes a new message within moments; nothing announces it.
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


async def _remove(box: ApiMailbox, message_id: str) -> bool:
    """The found test mail has done its job: best effort, a refusal is no failed test."""
    try:
        return await box.delete(message_id)
    except MailportError as exc:
        log.info("could not delete the test mail through the API: %s", exc.code)
        return False


# -- Gmail -------------------------------------------------------------------------------------


class _GmailBox:
    # (label, landing, the folder's name in Gmail)
    PLACES: tuple[tuple[str, Landing, str], ...] = (("INBOX", "inbox", "INBOX"), ("SPAM", "junk", "Spam"))

    def __init__(self, api: GmailApi) -> None:
        self.api = api

    async def send(self, raw: bytes) -> None:
        await self.api.send(raw)

    async def _ids(self, message_id: str, label: str) -> list[str]:
        query = f"rfc822msgid:{message_id.strip('<>')}"
        return [ref.id async for ref in self.api.list_messages(query=query, label_ids=(label,), page_size=10)]

    async def landed_in(self, message_id: str) -> tuple[Landing, str] | None:
        for label, landing, folder in self.PLACES:
            if await self._ids(message_id, label):
                return landing, folder
        return None

    async def delete(self, message_id: str) -> bool:
        found = {gid for label in ("INBOX", "SPAM", "SENT") for gid in await self._ids(message_id, label)}
        for gid in sorted(found):
            await self.api.trash(gid)
        return bool(found)


class GmailMailboxes:
    """The Gmail API (``users.messages.send``, ``rfc822msgid:`` search, ``trash``)."""

    transport = "gmail_api"

    def __init__(self, *, oauth: OAuthService, settings: Settings) -> None:
        self.oauth = oauth
        self.settings = settings

    def grant(self, granted_scope: str | None) -> Grant:
        return Grant(read=can_read_inbox("gmail_api", granted_scope),
                     delete=can_delete_mail("gmail_api", granted_scope))

    @asynccontextmanager
    async def open(self, tenant_id: str, account_id: str) -> AsyncIterator[ApiMailbox]:
        async with gmail_api_for(self.oauth, self.settings, tenant_id, account_id) as api:
            yield _GmailBox(api)


# -- Microsoft Graph ---------------------------------------------------------------------------


class _GraphBox:
    def __init__(self, box: GraphMailbox) -> None:
        self.box = box

    async def send(self, raw: bytes) -> None:
        await self.box.send(raw)

    async def landed_in(self, message_id: str) -> tuple[Landing, str] | None:
        landed = await self.box.landed_in(message_id)
        if landed == "inbox":
            return "inbox", "Inbox"
        if landed == "junk":
            return "junk", "Junk Email"
        return None  # only in Sent Items so far: not arrived yet

    async def delete(self, message_id: str) -> bool:
        return await self.box.delete_all(message_id) > 0


class GraphMailboxes:
    """Microsoft Graph (``sendMail`` or draft + upload, ``internetMessageId`` filter, ``DELETE``)."""

    transport = "graph"

    def __init__(self, *, oauth: OAuthService, settings: Settings) -> None:
        self.oauth = oauth
        self.settings = settings

    def grant(self, granted_scope: str | None) -> Grant:
        # Only the inbox profile (Mail.Read) looks into the mailbox: Mail.ReadWrite of the send
        # profile is there for drafts of large messages, not for reading.
        read = can_read_inbox("graph", granted_scope) and any(
            scope.rsplit("/", 1)[-1] == "Mail.Read" for scope in (granted_scope or "").split())
        return Grant(read=read, delete=read and can_delete_mail("graph", granted_scope))

    @asynccontextmanager
    async def open(self, tenant_id: str, account_id: str) -> AsyncIterator[ApiMailbox]:
        async with graph_api(tokens=self.oauth.token_source(tenant_id, account_id),
                             base_url=graph_base_url(self.settings), timeout=self.settings.provider_api_timeout,
                             ca_file=self.settings.ca_file) as api:
            yield _GraphBox(GraphMailbox(api))


def _ms(since: float) -> int:
    return round((time.monotonic() - since) * 1000)


def _failed(stage: Stage, exc: MailportError, duration_ms: int) -> StageResult:
    return StageResult(stage=stage, status=StageStatus.FAILED, duration_ms=duration_ms, code=exc.code,
                       message=str(exc), server_text=getattr(exc, "server_text", None))
