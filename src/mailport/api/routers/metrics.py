"""``GET /metrics``: Prometheus text format.

Two sources: the database (queue depth by job kind and state, messages by state, recipient
outcomes by diagnosis code) — true for the whole installation whichever process sends — and
this process's send histograms (attempt duration, accept-to-accepted latency), which are filled
by the embedded worker. Scrape it from inside the operator's network; it names no tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from mailport.adapters.storage.inbox_repository import LeaseRepository
from mailport.adapters.storage.outbox_repository import OutboxRepository
from mailport.adapters.storage.tables import Job
from mailport.api.deps import RuntimeDep
from mailport.runtime import Runtime

router = APIRouter(tags=["health"])


class _DatabaseCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

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
        with self.runtime.db.session() as s:
            for kind, state, count in s.execute(
                select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)
            ).all():
                jobs.add_metric([kind, state], int(count))
            repo = OutboxRepository(s)
            for state, count in repo.count_by_state().items():
                messages.add_metric([state], count)
            for (status, code), count in repo.count_recipient_outcomes().items():
                outcomes.add_metric([status, code], count)
            leases = LeaseRepository(s)
            for worker, count in leases.live_workers(since=datetime.now(UTC) - timedelta(minutes=5)):
                inbox_workers.add_metric([worker], count)
            for state, count in leases.count_by_state().items():
                inbox_states.add_metric([state], count)
        yield jobs
        yield messages
        yield outcomes
        yield inbox_workers
        yield inbox_states


def render(runtime: Runtime) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector(runtime))
    return generate_latest(registry) + generate_latest(runtime.outbox.metrics.registry)


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    body = await run_in_threadpool(render, runtime)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
