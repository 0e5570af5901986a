"""Verify a mailbox account end to end: connect, log in, and prove delivery with a test mail.

The stages and the report are :mod:`mailport.core.verification`; this service runs them against
the real servers through the SMTP and IMAP adapters:

1. SMTP: DNS → TCP → TLS → greeting → AUTH (the adapter reports each stage as it completes);
2. IMAP, when configured: the same up to LOGIN;
3. round trip: the test mail goes to the account's own address with a unique Message-ID, then
   INBOX and the Junk folder (SPECIAL-USE ``\\Junk``, else a well-known name) are searched until
   it shows up or ``settings.verify_roundtrip_timeout`` passes; the Sent folder is checked for a
   copy the server filed itself. Without IMAP the report says "sent, arrival not confirmed".

Verification stops at the first failed stage (the rest are ``skipped``): a wrong password tried
again over IMAP would only count against the account's lock-out limit at the provider.
Nothing here touches storage — the caller stores :meth:`VerificationReport.to_dict`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets as _random
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from mailport.adapters.imap import ImapSession, Mailbox, MailboxStatus, find_special_use
from mailport.adapters.secrets import Secret
from mailport.adapters.smtp import SendResult, SmtpSession
from mailport.adapters.transport import AddressResolver
from mailport.core.verification import (
    NOT_ARRIVED,
    TEST_MESSAGE_ID_PREFIX,
    AccountConfig,
    Endpoint,
    Landing,
    RoundTrip,
    Stage,
    StageResult,
    StageStatus,
    VerificationReport,
    build_test_message,
    planned_stages,
)
from mailport.errors import MailportError, RemoteError, ValidationError
from mailport.i18n import gettext

if TYPE_CHECKING:
    from mailport.settings import Settings

__all__ = ["ImapLike", "Progress", "SmtpLike", "VerifyService", "round_trip_mail"]

log = logging.getLogger(__name__)

# The test mail in the user's language (gettext domain ``mailport``); the body gets its test ID.
TEST_SUBJECT = "Test message: checking that your mailbox works"
TEST_BODY = ("This test message checks that your mailbox can send and receive mail. It is removed "
             "automatically as soon as it has arrived; if you still see it, you may delete it.")
TEST_ID = "Test ID: {token}"


def round_trip_mail(account: AccountConfig, *, token: str, date: datetime, lang: str) -> tuple[str, bytes]:
    """The round-trip test mail to ``account`` itself in ``lang``: its Message-ID (recognised by
    ``core.verification.is_test_message_id``, so the inbox sync skips it) and its bytes. Every
    verifier sends this one: SMTP here, the provider APIs in ``services.api_verify``."""
    message_id = f"<{TEST_MESSAGE_ID_PREFIX}{token}@{_id_domain(account.email)}>"
    raw = build_test_message(
        email=account.email,
        display_name=account.display_name,
        message_id=message_id,
        date=date,
        token=token,
        subject=gettext(lang, TEST_SUBJECT),
        body=f"{gettext(lang, TEST_BODY)}\n\n{gettext(lang, TEST_ID)}\n",
    )
    return message_id, raw


class SmtpLike(Protocol):
    """What verification uses of :class:`~mailport.adapters.smtp.SmtpSession`."""

    @property
    def extensions(self) -> dict[str, str]: ...
    def supports(self, extension: str) -> bool: ...
    async def send(
        self, envelope_from: str, recipients: Sequence[str], message_bytes: bytes
    ) -> SendResult: ...


class ImapLike(Protocol):
    """What verification uses of :class:`~mailport.adapters.imap.ImapSession`."""

    @property
    def capabilities(self) -> frozenset[str]: ...
    async def list_mailboxes(self) -> list[Mailbox]: ...
    async def examine(self, mailbox: str = "INBOX") -> MailboxStatus: ...
    async def uid_search_message_id(self, message_id: str) -> list[int]: ...
    async def select(self, mailbox: str = "INBOX", *, readonly: bool = False) -> MailboxStatus: ...
    async def delete_uids(self, uids: Sequence[int]) -> bool: ...


Opener = Callable[..., AbstractAsyncContextManager[Any]]
"""``SmtpSession.open`` / ``ImapSession.open`` or a test double with the same keywords."""

Progress = Callable[[StageResult], None]
"""Called with each stage's result as soon as it is known (for a live display)."""

_FIRST_POLL = 0.2
_MAX_POLL = 2.0


class VerifyService:
    """Runs :meth:`verify`; adapters and clocks are injected so tests can steer them."""

    def __init__(
        self,
        *,
        settings: Settings,
        resolver: AddressResolver,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        token: Callable[[], str] = lambda: _random.token_hex(10),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        open_smtp: Opener = SmtpSession.open,
        open_imap: Opener = ImapSession.open,
    ) -> None:
        self._open_smtp = open_smtp
        self._open_imap = open_imap
        self._settings = settings
        self._resolver = resolver
        self._now = now
        self._token = token
        self._sleep = sleep

    async def verify(
        self,
        account: AccountConfig,
        *,
        password: Secret | None = None,
        oauth_token: str | None = None,
        progress: Progress | None = None,
        lang: str = "en",
    ) -> VerificationReport:
        """The staged report for ``account``; never raises for a remote failure (it is reported).
        The test mail's subject and text are in ``lang``."""
        run = _Run(self, account, progress, lang)
        await run.execute(password=password, oauth_token=oauth_token)
        return run.report()


class _Run:
    """The state of one verification: results so far, where time was last marked."""

    def __init__(
        self, service: VerifyService, account: AccountConfig, progress: Progress | None, lang: str = "en"
    ) -> None:
        self.lang = lang
        self.service = service
        self.settings = service._settings
        self.account = account
        self.progress = progress
        self.planned = planned_stages(account)
        self.results: dict[Stage, StageResult] = {}
        self.started_at = service._now()
        self.started = time.monotonic()
        self.mark = self.started
        self.roundtrip: RoundTrip | None = None
        self.details: dict[str, object] = {}

    # -- recording ----------------------------------------------------------------------
    def _record(self, result: StageResult) -> None:
        self.results[result.stage] = result
        if self.progress is not None:
            self.progress(result)

    def ok(self, stage: str, seconds: float | None = None) -> None:
        now = time.monotonic()
        elapsed = seconds if seconds is not None else now - self.mark
        self.mark = now
        self._record(
            StageResult(
                stage=Stage(stage), status=StageStatus.OK, duration_ms=round(elapsed * 1000)
            )
        )

    def failed(self, stage: Stage, error: MailportError) -> None:
        now = time.monotonic()
        elapsed, self.mark = now - self.mark, now
        self._record(
            StageResult(
                stage=stage,
                status=StageStatus.FAILED,
                duration_ms=round(elapsed * 1000),
                code=error.code,
                message=error.message,
                server_text=getattr(error, "server_text", None),
            )
        )

    def failed_stage_of(self, error: MailportError, *, protocol: str) -> Stage:
        """The planned stage an adapter error belongs to; else the first one not yet done."""
        named = error.stage if isinstance(error, (RemoteError, ValidationError)) else None
        if isinstance(named, str):
            try:
                stage = Stage(named)
            except ValueError:
                stage = None
            if stage in self.planned and stage not in self.results:
                return stage
        return next(
            s for s in self.planned if s.value.startswith(protocol) and s not in self.results
        )

    def report(self) -> VerificationReport:
        duration = round((time.monotonic() - self.started) * 1000)
        report = VerificationReport.assemble(
            account=self.account,
            started_at=self.started_at,
            duration_ms=duration,
            results=self.results.values(),
            roundtrip=self.roundtrip,
            details=self.details,
        )
        if self.progress is not None:
            for result in report.stages:
                if result.stage not in self.results:  # the ones skipped because of a failure
                    self.progress(result)
        return report

    # -- the stages -----------------------------------------------------------------------
    async def log_in(
        self,
        stack: AsyncExitStack,
        opener: Opener,
        endpoint: Endpoint,
        *,
        protocol: str,
        password: Secret | None,
        oauth_token: str | None,
    ) -> Any:
        """A session from ``opener`` (connect up to login, each stage reported as it completes),
        closed with ``stack``; None once its failed stage is recorded."""
        try:
            return await stack.enter_async_context(
                opener(
                    endpoint,
                    password=password,
                    oauth_token=oauth_token,
                    settings=self.settings,
                    resolver=self.service._resolver,
                    email=self.account.email,
                    on_stage=self.ok,
                )
            )
        except MailportError as exc:
            self.failed(self.failed_stage_of(exc, protocol=protocol), exc)
            return None

    async def execute(self, *, password: Secret | None, oauth_token: str | None) -> None:
        account = self.account
        async with AsyncExitStack() as stack:
            smtp: SmtpLike | None = await self.log_in(
                stack, self.service._open_smtp, account.smtp,
                protocol="smtp", password=password, oauth_token=oauth_token,
            )
            if smtp is None:
                return
            self.details["smtp"] = {
                "extensions": sorted(smtp.extensions),
                "smtputf8": smtp.supports("smtputf8"),
            }
            imap: ImapLike | None = None
            if account.imap is not None:
                self.mark = time.monotonic()
                imap = await self.log_in(
                    stack, self.service._open_imap, account.imap,
                    protocol="imap", password=password, oauth_token=oauth_token,
                )
                if imap is None:
                    return
                self.details["imap"] = {"capabilities": sorted(imap.capabilities)}

            message_id, raw = round_trip_mail(account, token=self.service._token(), date=self.service._now(),
                                        lang=self.lang)
            self.mark = time.monotonic()
            try:
                await smtp.send(account.email, [account.email], raw)
            except MailportError as exc:
                self.failed(Stage.SEND, exc)
                self.roundtrip = RoundTrip(message_id=message_id, sent=False)
                return
            self.ok(Stage.SEND)
            if imap is None:
                self.roundtrip = RoundTrip(message_id=message_id, sent=True)
                self._record(
                    StageResult(
                        stage=Stage.ARRIVAL,
                        status=StageStatus.SKIPPED,
                        message="Sent, arrival not confirmed: no IMAP settings to look for it",
                    )
                )
                return
            try:
                await self._await_arrival(imap, message_id)
            except MailportError as exc:
                self.failed(Stage.ARRIVAL, exc)
                if self.roundtrip is None:
                    self.roundtrip = RoundTrip(message_id=message_id, sent=True, arrived=False)

    async def _await_arrival(self, imap: ImapLike, message_id: str) -> None:
        started = time.monotonic()
        deadline = started + self.settings.verify_roundtrip_timeout
        mailboxes = await imap.list_mailboxes()
        junk = find_special_use(mailboxes, "\\Junk")
        sent = find_special_use(mailboxes, "\\Sent")
        folders: list[tuple[Landing, str]] = [("inbox", "INBOX")]
        if junk is not None and junk.name.upper() != "INBOX":
            folders.append(("junk", junk.name))
        self.details["folders"] = {
            "junk": junk.name if junk else None,
            "sent": sent.name if sent else None,
        }

        delay = _FIRST_POLL
        while True:
            for landing, folder in folders:
                await imap.examine(folder)  # a fresh EXAMINE is the portable way to see new mail
                if await imap.uid_search_message_id(message_id):
                    waited = round((time.monotonic() - started) * 1000)
                    sent_copy = await _has_copy(imap, sent, message_id)
                    removed = await _remove(imap, [folder] + ([sent.name] if sent and sent_copy else []),
                                            message_id)
                    self.roundtrip = RoundTrip(
                        removed=removed,
                        message_id=message_id,
                        sent=True,
                        arrived=True,
                        landed_in=landing,
                        folder=folder,
                        sent_copy=sent_copy,
                        sent_folder=sent.name if sent else None,
                        wait_ms=waited,
                    )
                    self.ok(Stage.ARRIVAL)
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.service._sleep(min(delay, remaining))
            delay = min(delay * 2, _MAX_POLL)

        waited = round((time.monotonic() - started) * 1000)
        self.roundtrip = RoundTrip(
            message_id=message_id,
            sent=True,
            arrived=False,
            sent_copy=await _has_copy(imap, sent, message_id),
            sent_folder=sent.name if sent else None,
            wait_ms=waited,
        )
        self.failed(
            Stage.ARRIVAL,
            MailportError(
                f"The test mail was accepted but did not arrive within "
                f"{self.settings.verify_roundtrip_timeout:g} s (looked in {', '.join(f for _, f in folders)})",
                code=NOT_ARRIVED,
            ),
        )


async def _remove(imap: ImapLike, folders: list[str], message_id: str) -> bool:
    """Delete the found test mail (and its Sent copy): it has done its job, and must not sit in
    the business's mailbox or reach the CRM. Best effort — a refusal is no failed test."""
    gone = True
    for folder in folders:
        try:
            await imap.select(folder)
            gone = await imap.delete_uids(await imap.uid_search_message_id(message_id)) and gone
        except MailportError as exc:
            log.info("could not delete the test mail from %s: %s", folder, exc.code)
            gone = False
    return gone


async def _has_copy(imap: ImapLike, sent: Mailbox | None, message_id: str) -> bool | None:
    if sent is None:
        return None
    await imap.examine(sent.name)
    return bool(await imap.uid_search_message_id(message_id))


def _id_domain(email: str) -> str:
    """The right-hand side of our Message-IDs: the account's domain, ASCII (IDNA) form."""
    domain = email.rpartition("@")[2].strip().rstrip(".") or "mailport.invalid"
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "mailport.invalid"
