"""Send documents reliably: accept into the outbox, send with retries, file the Sent copy.

One module per job:

- :mod:`.submit` — accept (one transaction before the 202), read, list, cancel;
- :mod:`.job` — the ``send`` job: limits, then the sender's route, then the recorded outcome;
- :mod:`.transport` — the :class:`Transport` protocol and the registry of routes;
  :mod:`.mailbox_smtp` (own mailbox, pooled SMTP) and :mod:`.platform_routes` (platform
  address, own domain with DKIM at send time) implement it;
- :mod:`.provider_api` — the Gmail API and Microsoft Graph routes (one
  :class:`~.provider_api.ProviderApiTransport` per API transport, in front of SMTP);
- :mod:`.sent_copy` — the ``sent_copy`` job (IMAP APPEND where the server does not file it);
- :mod:`.metrics` — process-local Prometheus metrics.

:class:`OutboxService` wires them for the runtime and keeps the outbox's one public face.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from mailport.adapters.dns import Resolver
from mailport.adapters.queue import Affinity, ClaimedJob, JobQueue
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.outbox_repository import SEND_JOB
from mailport.clock import Clock
from mailport.core.jobs import JobResult
from mailport.services.accounts import AccountService
from mailport.services.platform import PlatformService
from mailport.services.send.job import SENT_COPY_JOB, SendJob
from mailport.services.send.mailbox_smtp import MailboxSmtpTransport
from mailport.services.send.metrics import SendMetrics
from mailport.services.send.platform_routes import OwnDomainTransport, PlatformAddressTransport
from mailport.services.send.provider_api import ApiSender, ProviderApiTransport
from mailport.services.send.sent_copy import SentCopyJob
from mailport.services.send.sequence import event_seq
from mailport.services.send.submit import MessageView, SendRequest, Submission, Submissions
from mailport.services.send.transport import (
    AccountCredentials,
    CredentialSource,
    FoundCredentials,
    Outgoing,
    Sender,
    SendingAccount,
    Transport,
    Transports,
    results_for_error,
    results_from_smtp,
)
from mailport.services.smtp_pool import SmtpPool
from mailport.services.suppression import SuppressionService
from mailport.services.webhooks import EventLog
from mailport.settings import Settings

__all__ = [
    "SEND_JOB",
    "SENT_COPY_JOB",
    "AccountCredentials",
    "ApiSender",
    "CredentialSource",
    "FoundCredentials",
    "MailboxSmtpTransport",
    "MessageView",
    "OutboxService",
    "Outgoing",
    "OwnDomainTransport",
    "PlatformAddressTransport",
    "ProviderApiTransport",
    "SendJob",
    "SendMetrics",
    "SendRequest",
    "Sender",
    "SendingAccount",
    "SentCopyJob",
    "Submission",
    "Submissions",
    "Transport",
    "Transports",
    "default_transports",
    "event_seq",
    "mailbox_affinity",
    "results_for_error",
    "results_from_smtp",
]


def mailbox_affinity(settings: Settings) -> Affinity:
    """How workers share the sends of a mailbox (:class:`~mailport.adapters.queue.Affinity`):
    one worker holding as many of its sends as the mailbox's concurrency limit fills the
    mailbox alone, so the others leave its sends to it and take other mailboxes'. Connected
    mailboxes only (``acc_…``): the platform relay and own domains have no slots."""
    return Affinity(kind=SEND_JOB, key="account_id", threshold=settings.send_account_concurrency, prefix="acc_")


def default_transports(*, settings: Settings, resolver: Resolver, pool: SmtpPool | None = None,
                       platform: PlatformService | None = None) -> Transports:
    """The routes every installation has: own domain, platform address, own mailbox (SMTP).
    Provider API transports register themselves in front (``transports.register(…)``)."""
    return Transports([
        OwnDomainTransport(platform),
        PlatformAddressTransport(platform),
        MailboxSmtpTransport(settings=settings, resolver=resolver, pool=pool),
    ])


class OutboxService(Submissions):
    """The outbox: :class:`Submissions` (accept, read, cancel) plus the two job handlers."""

    def __init__(
        self, *, db: Database, queue: JobQueue, accounts: AccountService, events: EventLog,
        clock: Clock, settings: Settings, resolver: Resolver,
        pool: SmtpPool | None = None, metrics: SendMetrics | None = None,
        rng: Callable[[], float] | None = None, make_token: Callable[[], str] | None = None,
        platform: PlatformService | None = None, credentials: CredentialSource | None = None,
        transports: Transports | Sequence[Transport] | None = None,
        api_senders: Mapping[str, ApiSender] | None = None,
        suppression: SuppressionService | None = None,
    ) -> None:
        super().__init__(db=db, queue=queue, accounts=accounts, events=events, clock=clock,
                         settings=settings, platform=platform, make_token=make_token,
                         suppression=suppression)
        self.pool = pool or SmtpPool()
        if transports is None:
            transports = default_transports(settings=settings, resolver=resolver, pool=self.pool,
                                            platform=platform)
        elif not isinstance(transports, Transports):
            transports = Transports(transports)
        for name, api_sender in (api_senders or {}).items():
            # Provider APIs in front of SMTP: they take the accounts whose transport they are.
            transports.register(ProviderApiTransport(transport=name, sender=api_sender))
        self.transports = transports
        self.metrics = metrics or SendMetrics()
        self.send_job = SendJob(db=db, queue=queue, accounts=accounts, events=events, clock=clock,
                                settings=settings, transports=transports, metrics=self.metrics,
                                rng=rng, credentials=credentials, suppression=suppression)
        self.sent_copy_job = SentCopyJob(db=db, accounts=accounts, clock=clock, settings=settings,
                                         resolver=resolver, transports=transports,
                                         credentials=credentials, rng=rng)

    @property
    def credentials(self) -> CredentialSource | None:
        """Where account secrets come from (OAuth-aware in the runtime)."""
        return self.send_job.credentials

    @credentials.setter
    def credentials(self, source: CredentialSource | None) -> None:
        self.send_job.credentials = source
        self.sent_copy_job.credentials = source

    async def handle_send(self, job: ClaimedJob) -> JobResult:
        return await self.send_job.handle_send(job)

    async def handle_sent_copy(self, job: ClaimedJob) -> JobResult:
        return await self.sent_copy_job.handle_sent_copy(job)
