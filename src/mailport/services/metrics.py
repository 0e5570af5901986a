"""Installation-wide metrics in Prometheus form.

Two sources: the database (queue depth by job kind and state, messages by state, recipient
outcomes by diagnosis code) — true for the whole installation whichever process sends — and
this process's send histograms (attempt duration, accept-to-accepted latency), which are filled
by the embedded worker. The text names no tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mailport.adapters.queue import JobQueue
from mailport.adapters.storage.database import Database
from mailport.adapters.storage.inbox_repository import LeaseRepository
from mailport.adapters.storage.outbox_repository import OutboxRepository

__all__ = ["MetricsService"]


class _DatabaseCollector(Collector):
    def __init__(self, db: Database, queue: JobQueue) -> None:
        self.db = db
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("mailport_queue_jobs", "Jobs in the queue by kind and state.",
                                 labels=["kind", "state"])
        messages = GaugeMetricFamily("mailport_messages", "Messages by state.", labels=["state"])
        outcomes = GaugeMetricFamily("mailport_recipient_outcomes",
                                     "Recipients by status and diagnosis code.", labels=["status", "code"])
        inbox_workers = GaugeMetricFamily(
            "mailport_inbox_worker_accounts",
            "Accounts each inbox sync worker holds (workers seen in the last 5 minutes).", labels=["worker"])
        inbox_states = GaugeMetricFamily("mailport_inbox_accounts", "Synced accounts by sync state.",
                                         labels=["state"])
        for (kind, state), count in self.queue.counts().items():
            jobs.add_metric([kind, state], count)
        with self.db.session() as s:
            repo = OutboxRepository(s)
            for state, n in repo.count_by_state().items():
                messages.add_metric([state], n)
            for (status, code), n in repo.count_recipient_outcomes().items():
                outcomes.add_metric([status, code], n)
            leases = LeaseRepository(s)
            for worker, n in leases.live_workers(since=datetime.now(UTC) - timedelta(minutes=5)):
                inbox_workers.add_metric([worker], n)
            for state, n in leases.count_by_state().items():
                inbox_states.add_metric([state], n)
        yield jobs
        yield messages
        yield outcomes
        yield inbox_workers
        yield inbox_states


class MetricsService:
    def __init__(self, *, db: Database, queue: JobQueue, process: CollectorRegistry) -> None:
        self._installation = CollectorRegistry(auto_describe=False)
        self._installation.register(_DatabaseCollector(db, queue))
        self._process = process

    def render(self) -> bytes:
        """The Prometheus text exposition (blocking: call it off the event loop)."""
        return generate_latest(self._installation) + generate_latest(self._process)
