"""``GET /metrics``: Prometheus text format (see :mod:`mailport.services.metrics`).

It names no tenant, and still needs ``MAILPORT_METRICS_TOKEN`` when one is set (closed in
production without one). ``mailport worker`` serves the same on ``MAILPORT_WORKER_METRICS_PORT``
with its own send histograms (:func:`worker_app`).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.routing import Route

from mailport.api.deps import RuntimeDep
from mailport.api.problems import problem
from mailport.runtime import Runtime

router = APIRouter(tags=["health"])


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


async def _answer(runtime: Runtime, request: Request) -> Response:
    refused = check_token(runtime, request.headers.get("authorization"))
    if refused is not None:
        return refused
    body = await run_in_threadpool(runtime.metrics.render)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    return await _answer(runtime, request)


def worker_app(runtime: Runtime) -> Starlette:
    """The worker's own ``/metrics`` (its send histograms live in its process), same token rule."""

    async def endpoint(request: Request) -> Response:
        return await _answer(runtime, request)

    return Starlette(routes=[Route("/metrics", endpoint)])
