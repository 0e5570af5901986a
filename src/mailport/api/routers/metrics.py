"""``GET /metrics``: Prometheus text format.

Two sources: the database (queue depth by job kind and state, messages by state, recipient
outcomes by diagnosis code) — true for the whole installation whichever process sends — and
this process's send histograms (attempt duration, accept-to-accepted latency), which are filled
by the embedded worker. It names no tenant, and still needs ``MAILPORT_METRICS_TOKEN`` when
one is set (always in production). ``mailport worker`` serves the same on
``MAILPORT_WORKER_METRICS_PORT`` with its own histograms.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Route

from mailport.adapters.storage.outbox_repository import OutboxRepository
from mailport.adapters.storage.tables import Job
from mailport.api.deps import RuntimeDep
from mailport.api.problems import problem
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
        yield jobs
        yield messages
        yield outcomes


def render(runtime: Runtime) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector(runtime))
    return generate_latest(registry) + generate_latest(runtime.outbox.metrics.registry)


def check_token(runtime: Runtime, authorization: str | None) -> Response | None:
    """``None`` when the caller may read the metrics, else the answer to give.

    With ``MAILPORT_METRICS_TOKEN`` set, its bearer token is required; without one, the metrics
    are open in development (and tests) and closed in production."""
    settings = runtime.settings
    token = settings.metrics_token
    if not token:
        if settings.is_production:
            return problem(403, code="metrics.token_missing",
                           title="set MAILPORT_METRICS_TOKEN to read /metrics in production")
        return None
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        return problem(401, code="auth.missing_key", title="/metrics needs the metrics token")
    return None


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    refused = check_token(runtime, request.headers.get("authorization"))
    if refused is not None:
        return refused
    body = await run_in_threadpool(render, runtime)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


def worker_app(runtime: Runtime) -> Starlette:
    """The worker's own ``/metrics`` (its send histograms live in its process), same token rule."""

    async def endpoint(request: Request) -> Response:
        refused = check_token(runtime, request.headers.get("authorization"))
        if refused is not None:
            return refused
        body = await run_in_threadpool(render, runtime)
        return Response(content=body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/metrics", endpoint)])
