"""The ``sent_copy`` job: a copy of the sent message in the mailbox's ``\\Sent`` folder.

IMAP APPEND, except where the route says the server files sent mail itself
(:meth:`~.transport.Transport.sent_copy_skip`). The ``sent_copies`` row is written as
``started`` *before* the APPEND; a later attempt that finds ``started`` searches the folder for
the Message-ID first, so a crash mid-APPEND never yields two copies.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailport.adapters.dns import Resolver
from mailport.adapters.imap import ImapSession
from mailport.adapters.queue import ClaimedJob
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.outbox_repository import OutboxRepository
from mailport.adapters.storage.tables import Account
from mailport.adapters.storage.tables_outbox import SentCopy
from mailport.clock import Clock
from mailport.core.jobs import Done, JobResult, Retry
from mailport.core.outbox import MessageState, RetryPolicy
from mailport.errors import MailportError, NotFound, RemoteAuthError, RemoteError, ValidationError
from mailport.services.accounts import AccountService
from mailport.services.send.job import _Creds, save_copy_state, sending_account
from mailport.services.send.transport import CredentialSource, Sender, Transports
from mailport.settings import Settings

__all__ = ["SentCopyJob"]

_SENT_COPY_RETRY = RetryPolicy(min_delay=timedelta(seconds=30), max_delay=timedelta(minutes=30),
                               give_up_after=timedelta(days=1))
_SENT_COPY_MAX_ATTEMPTS = 12


@dataclass(frozen=True, slots=True)
class _CopyPlan:
    tenant_id: str
    account_id: str
    header_message_id: str
    raw: bytes
    sent_at: datetime
    started_before: bool


class SentCopyJob:
    """Runs ``sent_copy`` jobs."""

    def __init__(
        self, *, db: Database, accounts: AccountService, clock: Clock, settings: Settings,
        resolver: Resolver, transports: Transports, credentials: CredentialSource | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        self.db = db
        self.accounts = accounts
        self.clock = clock
        self.settings = settings
        self.resolver = resolver
        self.transports = transports
        self.credentials = credentials
        self.rng = rng or random.Random().random

    async def _credentials_of(self, tenant_id: str, account_id: str, *,
                              rejected_token: str | None = None) -> _Creds:
        if self.credentials is not None:
            found = await self.credentials(tenant_id, account_id, rejected_token=rejected_token)
            return _Creds(found.config, found.password, found.token)
        config, password = await asyncio.to_thread(self.accounts.connection, tenant_id, account_id)
        return _Creds(config, password, None)

    def _skip_reason(self, account: Account) -> str | None:
        sender = Sender(tenant_id=account.tenant_id, key=account.id, mailbox=sending_account(account))
        try:
            return self.transports.for_sender(sender).sent_copy_skip(sender)
        except ValidationError:
            return "no way to send for this account is configured"

    async def handle_sent_copy(self, job: ClaimedJob) -> JobResult:
        message_id = str(job.payload.get("message_id", ""))
        plan = await asyncio.to_thread(self._plan_copy, message_id)
        if plan is None:
            return Done()
        try:
            config, password, token = await self._credentials_of(plan.tenant_id, plan.account_id)
        except NotFound:
            await asyncio.to_thread(self._copy_state, message_id, "skipped", detail="account removed")
            return Done()
        except RemoteError as exc:
            return await self._copy_failed(message_id, exc)
        if config.imap is None or (password is None and token is None):
            await asyncio.to_thread(self._copy_state, message_id, "skipped",
                                    detail="no IMAP credentials for this account")
            return Done()
        try:
            try:
                return await self._file_copy(message_id, plan, _Creds(config, password, token))
            except RemoteAuthError:
                if token is None:
                    raise
                # A refused access token: one fresh token, as for sending.
                fresh = await self._credentials_of(plan.tenant_id, plan.account_id, rejected_token=token)
                return await self._file_copy(message_id, plan, fresh)
        except MailportError as exc:
            return await self._copy_failed(message_id, exc)

    async def _file_copy(self, message_id: str, plan: _CopyPlan, creds: _Creds) -> JobResult:
        config, password, token = creds
        assert config.imap is not None
        async with ImapSession.open(config.imap, password=password, oauth_token=token,
                                    settings=self.settings, resolver=self.resolver,
                                    email=config.email) as imap:
            folder = await imap.find_special_use("\\Sent")
            if folder is None:
                await asyncio.to_thread(self._copy_state, message_id, "skipped",
                                        detail="the mailbox has no Sent folder")
                return Done()
            await imap.select(folder.name)
            if plan.started_before:
                found = await imap.uid_search_message_id(plan.header_message_id)
                if found:
                    await asyncio.to_thread(self._copy_state, message_id, "done", folder=folder.name,
                                            uid=found[0], detail="found after an interrupted attempt")
                    return Done()
            await asyncio.to_thread(self._copy_state, message_id, "started", folder=folder.name,
                                    count_attempt=True)
            uid = await imap.append(folder.name, plan.raw, flags=["\\Seen"], date=plan.sent_at)
            await asyncio.to_thread(self._copy_state, message_id, "done", folder=folder.name, uid=uid)
            return Done()

    async def _copy_failed(self, message_id: str, exc: MailportError) -> JobResult:
        attempts = await asyncio.to_thread(self._copy_error, message_id, f"[{exc.code}] {exc.message}")
        if attempts >= _SENT_COPY_MAX_ATTEMPTS:
            await asyncio.to_thread(self._copy_state, message_id, "failed",
                                    detail=f"[{exc.code}] {exc.message}")
            return Done()
        retry_at = self.clock.now() + _SENT_COPY_RETRY.delay(attempt=max(attempts, 1), rng=self.rng)
        return Retry(run_at=retry_at, error=exc.code)

    def _plan_copy(self, message_id: str) -> _CopyPlan | None:
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            message = repo.find(message_id)
            if message is None or message.state != MessageState.SENT.value:
                return None
            copy = repo.sent_copy(message_id)
            if copy is not None and copy.state in ("done", "skipped", "failed"):
                return None
            account = s.get(Account, message.account_id)
            skip = "the account was removed" if account is None else self._skip_reason(account)
            if skip is not None:
                save_copy_state(s, message_id=message.id, tenant_id=message.tenant_id,
                                header_message_id=message.header_message_id, state="skipped",
                                now=now, detail=skip)
                return None
            content = repo.content(message_id)
            return _CopyPlan(tenant_id=message.tenant_id, account_id=message.account_id,
                             header_message_id=message.header_message_id,
                             raw=content.sent_prefix + content.raw, sent_at=message.sent_at or now,
                             started_before=copy is not None and copy.state == "started")

    def _copy_state(self, message_id: str, state: str, *, folder: str | None = None,
                    uid: int | None = None, detail: str | None = None, count_attempt: bool = False) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            repo = OutboxRepository(s)
            row = repo.sent_copy(message_id)
            if row is None:
                message = repo.find(message_id)
                if message is None:
                    return
                row = SentCopy(message_id=message_id, tenant_id=message.tenant_id,
                               header_message_id=message.header_message_id, state=state, attempts=0,
                               updated_at=now)
                s.add(row)
            row.state, row.updated_at = state, now
            if folder is not None:
                row.folder = folder
            if uid is not None:
                row.uid = uid
            if detail is not None:
                row.detail = detail
            if count_attempt:
                row.attempts = (row.attempts or 0) + 1

    def _copy_error(self, message_id: str, detail: str) -> int:
        with self.db.session() as s:
            row = OutboxRepository(s).sent_copy(message_id)
            if row is None:
                return 1
            row.detail, row.updated_at = detail, self.clock.now()
            return int(row.attempts or 1)

