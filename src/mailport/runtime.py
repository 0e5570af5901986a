"""Composition root: Settings → adapters → services. The only place that wires things together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from mailport.adapters.dns import DnsResolver
from mailport.adapters.platform import PlatformTransport, platform_transport
from mailport.adapters.queue import JobQueue
from mailport.adapters.secrets import SecretBox
from mailport.adapters.storage.database import Database
from mailport.adapters.webhook_http import WebhookPoster
from mailport.clock import Clock, SystemClock
from mailport.logs import register_secret
from mailport.services.accounts import AccountService
from mailport.services.connect import ConnectService
from mailport.services.contacts import ContactService
from mailport.services.discover import DiscoveryService
from mailport.services.domains import DOMAIN_CHECK_JOB, DomainService
from mailport.services.imap_sync import ImapMailboxSync
from mailport.services.inbox import InboxService
from mailport.services.inbox_store import InboxStore
from mailport.services.inbox_sync import InboxSyncEngine
from mailport.services.mailbox_sync import MailboxSyncs
from mailport.services.oauth import OAuthService
from mailport.services.platform import PlatformService
from mailport.services.secretstore import SecretStore
from mailport.services.send import SEND_JOB, SENT_COPY_JOB, OutboxService
from mailport.services.tenants import TenantService
from mailport.services.ui_sessions import UiSessionService
from mailport.services.verify import VerifyService
from mailport.services.webhooks import WEBHOOK_JOB, EventLog, WebhookService
from mailport.settings import Settings, load_settings
from mailport.worker import JobHandler, Worker


@dataclass
class Runtime:
    """Everything a process needs, built lazily from one validated :class:`Settings`."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        register_secret(self.settings.secret_key)
        register_secret(self.settings.admin_key)

    @classmethod
    def from_env(cls, **overrides: object) -> Runtime:
        return cls(settings=load_settings(**overrides))

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.effective_database_url)

    @cached_property
    def tenants(self) -> TenantService:
        return TenantService(db=self.db, clock=self.clock, admin_key=self.settings.admin_key)

    @cached_property
    def secrets(self) -> SecretStore:
        return SecretStore(db=self.db, box=SecretBox.from_settings(self.settings), clock=self.clock)

    @cached_property
    def accounts(self) -> AccountService:
        return AccountService(db=self.db, secrets=self.secrets, clock=self.clock, settings=self.settings)

    @cached_property
    def resolver(self) -> DnsResolver:
        """Every DNS lookup of this process (honours MAILPORT_DNS_NAMESERVERS; caches answers)."""
        return DnsResolver.from_settings(self.settings)

    @cached_property
    def discovery(self) -> DiscoveryService:
        return DiscoveryService.from_settings(self.settings, resolver=self.resolver)

    @cached_property
    def verification(self) -> ConnectService:
        return ConnectService(
            accounts=self.accounts,
            verifier=VerifyService(settings=self.settings, resolver=self.resolver),
            discovery=self.discovery,
            resolver=self.resolver, settings=self.settings, clock=self.clock,
            credentials=self.oauth.credentials,
        )

    @cached_property
    def oauth(self) -> OAuthService:
        """OAuth sign-in (Google, Microsoft) and the credentials every sender should use:
        ``await runtime.oauth.credentials(tenant_id, account_id)`` -> (config, password, token)."""
        return OAuthService(db=self.db, accounts=self.accounts, secrets=self.secrets, settings=self.settings,
                            clock=self.clock, events=self.events)

    @cached_property
    def ui_sessions(self) -> UiSessionService:
        """Signed links and cookies of the web pages (keyed from the secret key)."""
        return UiSessionService(secret_key=self.settings.secret_key, clock=self.clock,
                                session_ttl=timedelta(minutes=self.settings.ui_session_minutes))

    @cached_property
    def queue(self) -> JobQueue:
        return JobQueue(self.db)

    @cached_property
    def events(self) -> EventLog:
        """Records events and fans them out to webhooks, inside the caller's transaction."""
        return EventLog(queue=self.queue)

    @cached_property
    def webhooks(self) -> WebhookService:
        poster = WebhookPoster(resolver=self.resolver, allow_private=self.settings.allow_private_hosts,
                               ca_file=self.settings.ca_file)
        return WebhookService(db=self.db, secrets=self.secrets, events=self.events, poster=poster,
                              clock=self.clock, settings=self.settings)

    @cached_property
    def outbox(self) -> OutboxService:
        return OutboxService(db=self.db, queue=self.queue, accounts=self.accounts, events=self.events,
                             clock=self.clock, settings=self.settings, resolver=self.resolver,
                             platform=self.platform, credentials=self.oauth.credentials)

    @cached_property
    def domains(self) -> DomainService:
        """Own sending domains: records, checks, states (re-checks run as ``domain_check`` jobs)."""
        return DomainService(db=self.db, secrets=self.secrets, resolver=self.resolver, queue=self.queue,
                             clock=self.clock, settings=self.settings, events=self.events)

    @cached_property
    def platform_transport(self) -> PlatformTransport | None:
        """MAILPORT_PLATFORM_SMTP_URL: the smarthost, the development capture, or None (off)."""
        return platform_transport(self.settings, db=self.db, clock=self.clock, resolver=self.resolver)

    @cached_property
    def platform(self) -> PlatformService:
        return PlatformService(db=self.db, domains=self.domains, transport=self.platform_transport,
                               settings=self.settings, clock=self.clock)

    @cached_property
    def inbox_store(self) -> InboxStore:
        return InboxStore(db=self.db, clock=self.clock, events=self.events)

    @cached_property
    def imap_sync(self) -> ImapMailboxSync:
        return ImapMailboxSync(store=self.inbox_store, accounts=self.accounts, clock=self.clock,
                               settings=self.settings, resolver=self.resolver,
                               window=timedelta(days=self.settings.inbox_window_days), tokens=self.oauth)

    @cached_property
    def mailbox_syncs(self) -> MailboxSyncs:
        """Inbox sync per account kind; an API-based sync registers itself here (ahead of IMAP)."""
        return MailboxSyncs([self.imap_sync], accounts=self.accounts)

    @cached_property
    def inbox(self) -> InboxService:
        return InboxService(db=self.db, accounts=self.accounts, clock=self.clock, store=self.inbox_store,
                            syncs=self.mailbox_syncs)

    @cached_property
    def contacts(self) -> ContactService:
        return ContactService(db=self.db, clock=self.clock)

    def make_inbox_engine(self, *, worker_id: str) -> InboxSyncEngine:
        """The inbox sync loop a worker process runs beside its job loop (``engine.run(stop)``)."""
        return InboxSyncEngine(syncs=self.mailbox_syncs, store=self.inbox_store, db=self.db, clock=self.clock,
                               worker_id=worker_id, max_accounts=self.settings.inbox_max_accounts,
                               lease=timedelta(seconds=self.settings.inbox_lease),
                               connect_concurrency=self.settings.inbox_connect_concurrency,
                               connect_rate=self.settings.inbox_connect_rate)

    def job_handlers(self) -> dict[str, JobHandler]:
        """The background work this installation does, by job kind."""
        return {
            SEND_JOB: self.outbox.handle_send,
            SENT_COPY_JOB: self.outbox.handle_sent_copy,
            WEBHOOK_JOB: self.webhooks.handle_delivery,
            DOMAIN_CHECK_JOB: self.domains.handle_check_job,
        }

    def make_worker(self, *, worker_id: str | None = None) -> Worker:
        worker = Worker(
            queue=self.queue, clock=self.clock, handlers=self.job_handlers(),
            concurrency=self.settings.worker_concurrency, worker_id=worker_id,
            lease=timedelta(seconds=self.settings.worker_lease),
        )
        # A message accepted in this process is picked up at once, not at the next poll.
        self.outbox.on_enqueue = worker.wake
        return worker

    async def run_background(self, stop: asyncio.Event, *, worker_id: str | None = None) -> None:
        """Everything a worker process does until ``stop``: the job loop and the inbox sync.

        If one of them dies the other is stopped too, and the error propagates, so a supervisor
        restarts the process instead of leaving it half alive.
        """
        worker = self.make_worker(worker_id=worker_id)
        loops = [asyncio.create_task(worker.run(stop), name="jobs")]
        if self.settings.inbox_max_accounts > 0:
            engine = self.make_inbox_engine(worker_id=worker.worker_id)
            loops.append(asyncio.create_task(engine.run(stop), name="inbox"))
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            stop.set()
            await asyncio.gather(*loops, return_exceptions=True)
        for task in done:
            task.result()

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
