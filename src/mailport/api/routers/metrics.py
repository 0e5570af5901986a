"""``GET /metrics``: Prometheus text format (see :mod:`mailport.services.metrics`).

Scrape it from inside the operator's network; it names no tenant.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST

from mailport.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    body = await run_in_threadpool(runtime.metrics.render)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
