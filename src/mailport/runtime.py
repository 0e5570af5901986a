"""Composition root: Settings → adapters → services. The only place that wires things together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from mailport.adapters.dns import DnsResolver
from mailport.adapters.platform import PlatformTransport, platform_transport
from mailport.adapters.queue import JobQueue
from mailport.adapters.secrets import SecretBox
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.session_repository import DatabaseSessionStore
from mailport.adapters.webhook_http import WebhookPoster
from mailport.clock import Clock, SystemClock
from mailport.errors import StorageError
from mailport.logs import register_secret
from mailport.services.accounts import AccountService
from mailport.services.api_send import GraphSender
from mailport.services.api_verify import ApiVerifier, GmailMailboxes, GraphMailboxes
from mailport.services.connect import ConnectService
from mailport.services.contacts import ContactService
from mailport.services.discover import DiscoveryService
from mailport.services.domains import DOMAIN_CHECK_JOB, DomainService
from mailport.services.gmail import GmailSender
from mailport.services.gmail_sync import GmailMailboxSync
from mailport.services.graph_sync import GraphMailboxSync
from mailport.services.imap_sync import ImapMailboxSync
from mailport.services.inbox import InboxService
from mailport.services.inbox_store import InboxStore
from mailport.services.inbox_sync import InboxSyncEngine
from mailport.services.mailbox_sync import MailboxSyncs
from mailport.services.metrics import MetricsService
from mailport.services.oauth import OAuthService
from mailport.services.platform import PlatformService
from mailport.services.retention import PRUNE_JOB, RetentionService
from mailport.services.secretstore import SecretStore
from mailport.services.send import SEND_JOB, SENT_COPY_JOB, OutboxService, mailbox_affinity
from mailport.services.suppression import SuppressionService
from mailport.services.tenants import TenantService
from mailport.services.ui_sessions import UiSessionService
from mailport.services.ui_test_runs import TestRuns
from mailport.services.verify import VerifyService
from mailport.services.webhooks import WEBHOOK_JOB, EventLog, WebhookService
from mailport.settings import Settings, load_settings
from mailport.worker import JobHandler, Lane, Worker

log = logging.getLogger(__name__)


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
        return AccountService(db=self.db, secrets=self.secrets, clock=self.clock, settings=self.settings,
                              events=self.events)

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
            api_verifiers={boxes.transport: ApiVerifier(boxes, oauth=self.oauth, settings=self.settings,
                                                        clock=self.clock)
                           for boxes in (GraphMailboxes(oauth=self.oauth, settings=self.settings),
                                         GmailMailboxes(oauth=self.oauth, settings=self.settings))},
        )

    @cached_property
    def oauth(self) -> OAuthService:
        """OAuth sign-in (Google, Microsoft) and the credentials every sender should use:
        ``await runtime.oauth.credentials(tenant_id, account_id)`` -> ``Credentials``."""
        return OAuthService(db=self.db, accounts=self.accounts, secrets=self.secrets, settings=self.settings,
                            clock=self.clock, events=self.events)

    @cached_property
    def ui_sessions(self) -> UiSessionService:
        """Signed links and cookies of the web pages (keyed from the secret key)."""
        return UiSessionService(secret_key=self.settings.secret_key, clock=self.clock,
                                session_ttl=timedelta(minutes=self.settings.ui_session_minutes),
                                store=DatabaseSessionStore(self.db))

    @cached_property
    def ui_test_runs(self) -> TestRuns:
        """The mailbox page's live tests: run in this process, watched from any (the database)."""
        return TestRuns(db=self.db, clock=self.clock, secret_key=self.settings.secret_key)

    @cached_property
    def queue(self) -> JobQueue:
        return JobQueue(self.db)

    @cached_property
    def events(self) -> EventLog:
        """Records events and fans them out to webhooks, inside the caller's transaction."""
        return EventLog(queue=self.queue)

    @cached_property
    def webhooks(self) -> WebhookService:
        poster = WebhookPoster(resolver=self.resolver, allow_private=self.settings.private_hosts,
                               ca_file=self.settings.ca_file)
        return WebhookService(db=self.db, secrets=self.secrets, events=self.events, poster=poster,
                              clock=self.clock, settings=self.settings)

    @cached_property
    def outbox(self) -> OutboxService:
        return OutboxService(db=self.db, queue=self.queue, accounts=self.accounts, events=self.events,
                             clock=self.clock, settings=self.settings, resolver=self.resolver,
                             platform=self.platform, credentials=self.oauth.credentials,
                             api_senders={"graph": GraphSender(oauth=self.oauth, settings=self.settings),
                                          "gmail_api": GmailSender(oauth=self.oauth, settings=self.settings)},
                             suppression=self.suppression)

    @cached_property
    def suppression(self) -> SuppressionService:
        """The tenants' suppression lists (bounces add, accept refuses, people remove)."""
        return SuppressionService(db=self.db, clock=self.clock, events=self.events,
                                  soft_threshold=self.settings.suppress_after_soft_bounces)

    @cached_property
    def metrics(self) -> MetricsService:
        return MetricsService(db=self.db, queue=self.queue, process=self.outbox.metrics.registry)

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
        return InboxStore(db=self.db, clock=self.clock, events=self.events, suppression=self.suppression,
                          outcomes=self.accounts)

    @cached_property
    def imap_sync(self) -> ImapMailboxSync:
        return ImapMailboxSync(store=self.inbox_store, accounts=self.accounts, clock=self.clock,
                               settings=self.settings, resolver=self.resolver,
                               window=timedelta(days=self.settings.inbox_window_days), tokens=self.oauth)

    @cached_property
    def mailbox_syncs(self) -> MailboxSyncs:
        """Inbox sync per account kind; an API-based sync registers itself here (ahead of IMAP)."""
        syncs = MailboxSyncs([self.imap_sync], accounts=self.accounts)
        syncs.register(GmailMailboxSync(store=self.inbox_store, oauth=self.oauth, clock=self.clock,
                                        settings=self.settings,
                                        window=timedelta(days=self.settings.inbox_window_days),
                                        poll_interval=self.settings.provider_api_poll_interval))
        syncs.register(GraphMailboxSync(store=self.inbox_store, oauth=self.oauth, clock=self.clock,
                                        settings=self.settings,
                                        window=timedelta(days=self.settings.inbox_window_days),
                                        poll_interval=self.settings.provider_api_poll_interval))
        return syncs

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
            PRUNE_JOB: self.retention.handle_prune,
        }

    @cached_property
    def retention(self) -> RetentionService:
        """Prunes finished jobs, webhook deliveries and old message bodies (``prune`` jobs)."""
        return RetentionService(db=self.db, queue=self.queue, clock=self.clock, settings=self.settings)

    def make_worker(self, *, worker_id: str | None = None) -> Worker:
        handlers = self.job_handlers()
        s = self.settings
        worker = Worker(
            queue=self.queue, clock=self.clock, handlers=handlers,
            lanes=[Lane("webhooks", frozenset({WEBHOOK_JOB}), s.webhook_concurrency, s.worker_tenant_share),
                   Lane("send", frozenset(handlers) - {WEBHOOK_JOB}, s.worker_concurrency,
                        s.worker_tenant_share, affinity=mailbox_affinity(s))],
            worker_id=worker_id,
            lease=timedelta(seconds=self.settings.worker_lease),
        )
        return worker

    async def run_background(self, stop: asyncio.Event, *, worker_id: str | None = None,
                             on_wake: Callable[[Callable[[str | None], None]], None] | None = None) -> None:
        """Everything a worker process does until ``stop``: the job loop and the inbox sync.

        If one of them dies the other is stopped too, and the error propagates, so a supervisor
        restarts the process instead of leaving it half alive.
        """
        worker = self.make_worker(worker_id=worker_id)
        settle_heap()
        if on_wake is not None:  # hand out the worker's wake-up (serve's child process wires a pipe)
            on_wake(worker.notified)
        try:
            await asyncio.to_thread(self.retention.schedule)
        except StorageError:
            log.warning("retention: could not queue the prune yet (database unavailable); "
                        "the next worker start or prune queues it")
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


def settle_heap() -> None:
    """Leave what exists now (modules, the runtime, SQLAlchemy's metadata: objects that live as
    long as the process) out of the garbage collector's full passes. A first inbox sync allocates
    enough to start one every few hundred messages, and each walked the whole heap: 10 % of the
    sync's CPU (bench/bench_imap.py). Called once a worker process is built, before its loops,
    and by ``mailport serve`` before it serves (a batch of accepts starts one just as often)."""
    gc.collect()
    gc.freeze()


_WORKER_CHILD_NICENESS = 5
_WAKE_LINE = 1024  # bytes of a wake payload on the pipe (PIPE_BUF is 4096: each line written whole)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a worker process runs on: uvloop where it is installed (it comes with
    ``uvicorn[standard]``, and uvicorn serves the API on it too), else asyncio's own. A worker is
    hundreds of SMTP sessions on one loop; uvloop's is written in C."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class WorkerChild:
    """``mailport serve``'s embedded worker as a child process: its own interpreter, so sending
    never takes the API's CPU or GIL. A byte on its stdin wakes it for a message just committed;
    the end of its stdin (this process stopped — or was killed) makes it finish and exit."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._fd = proc.stdin.fileno() if proc.stdin is not None else -1
        if self._fd >= 0:
            os.set_blocking(self._fd, False)

    @classmethod
    def start(cls, command: list[str], runtime: Runtime, *, stdin: int | None = None) -> WorkerChild:
        """``stdin``: the read end of a wake-up pipe others write to (``serve --processes N``: the API
        processes hold its write end, so the child stops when the last of them is gone); by
        default a pipe of its own that :meth:`wake` writes to and :meth:`stop` closes."""
        s = runtime.settings
        env = dict(os.environ)
        # The child reads the same settings; these may have come from serve's options or files.
        env.update(MAILPORT_DATABASE_URL=s.effective_database_url, MAILPORT_DATA_DIR=str(s.data_dir),
                   MAILPORT_EMBEDDED_WORKER="false")
        proc = subprocess.Popen(command, stdin=subprocess.PIPE if stdin is None else stdin, env=env)
        with contextlib.suppress(OSError):
            # On one small box the API and its worker share the CPUs: the host product's request
            # (a 202 in milliseconds) goes first, sending catches up a moment later.
            os.setpriority(os.PRIO_PROCESS, proc.pid,
                           min(19, os.getpriority(os.PRIO_PROCESS, 0) + _WORKER_CHILD_NICENESS))
        return cls(proc)

    def restart_if_exited(self, command: list[str], runtime: Runtime, *, stdin: int | None = None) -> None:
        if self.proc.poll() is not None:
            log.error("the embedded worker exited with %s; starting it again", self.proc.returncode)
            fresh = WorkerChild.start(command, runtime, stdin=stdin)
            self.proc, self._fd = fresh.proc, fresh._fd

    async def supervise(self, stop: asyncio.Event, command: list[str], runtime: Runtime) -> None:
        """Restart the child if it exits while serve runs (it logs why on its own stderr)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if not stop.is_set():
                self.restart_if_exited(command, runtime)

    def wake(self, payload: str | None = None) -> None:
        wake_through(self._fd, payload)

    def stop(self, timeout: float) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the embedded worker did not stop in %.0f s; killing it", timeout)
            self.proc.kill()
            self.proc.wait(5)


class WakeLines:
    """The reading end of :func:`wake_through`: bytes from the pipe in, wake payloads out (``None``:
    any job), each once per read however often it came."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[str | None]:
        *lines, pending = (self._pending + data).split(b"\n")
        self._pending = pending[-_WAKE_LINE:]  # a line is never longer: whatever else came is noise
        return [line.decode("ascii", "replace") or None for line in dict.fromkeys(lines)]


def wake_through(fd: int, payload: str | None = None) -> None:
    """Wake the embedded worker: the jobs' wake payload (:func:`~mailport.adapters.queue.
    wake_payload`; empty: any job) as a line on its stdin pipe, non-blocking at its write end.
    A line is far below the pipe's atomic size, so lines never interleave between API processes."""
    try:
        os.write(fd, (payload or "").encode("ascii", "replace")[:_WAKE_LINE] + b"\n")
    except (BlockingIOError, BrokenPipeError, OSError):
        pass  # a full pipe holds wake-ups already (the poll finds the rest); a gone child is restarted
