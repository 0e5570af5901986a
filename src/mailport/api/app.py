"""FastAPI app factory: one router per resource, problem+json errors, the runtime on app.state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from mailport import __version__, web
from mailport.api import problems
from mailport.api.guard import RequestGuard
from mailport.api.routers import (
    account_transport,
    accounts,
    contacts,
    diagnostics,
    discover,
    domains,
    health,
    inbox,
    messages,
    metrics,
    oauth,
    platform,
    suppressions,
    tenants,
    ui_sessions,
    webhooks,
)
from mailport.runtime import Runtime, WorkerChild


def create_app(runtime: Runtime, *, embedded_worker: bool = False,
               worker_process: list[str] | None = None) -> FastAPI:
    """The HTTP app. With ``embedded_worker`` the job worker runs beside it: as the child process
    ``worker_process`` (a command; ``mailport serve`` does that), else in this event loop."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        child = None
        if embedded_worker and worker_process:
            child = WorkerChild.start(worker_process, runtime)
            runtime.queue.on_ready = child.wake
            task = asyncio.create_task(child.supervise(stop, worker_process, runtime))
        elif embedded_worker:
            task = asyncio.create_task(runtime.run_background(stop))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            if child is not None:
                await asyncio.to_thread(child.stop, 40.0)
            runtime.close()

    app = FastAPI(
        title="mailport",
        version=__version__,
        summary="Send documents from the business's own address, and bring its mailbox into the CRM.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    problems.install(app)
    routers = [health.router, tenants.router,
               oauth.router,  # before accounts: /v1/accounts/oauth/... is not an account id
               accounts.router, account_transport.router, discover.router, diagnostics.router,
               ui_sessions.router, messages.router, webhooks.router, inbox.router, contacts.router,
               suppressions.router, domains.router, platform.router, metrics.router]
    # A request is matched against every route of every router included before its own: the
    # accept path (each request of a month-end run) is included right after the health checks,
    # not ninth (~180 µs of CPU per POST /v1/messages — bench/bench_send.py). No other router
    # has a path under /v1/messages. The OpenAPI document keeps the order above.
    for router in [health.router, messages.router, *(r for r in routers if r not in (health.router, messages.router))]:
        app.include_router(router)
    _document_in_order(app, routers)
    web.install(app, runtime)
    # Last added runs first: the key, the throttle and the body cap come before everything else.
    app.add_middleware(RequestGuard, runtime=runtime,
                       routes=[route for router in routers for route in router.routes])
    return app


def _document_in_order(app: FastAPI, routers: list[APIRouter]) -> None:
    """The OpenAPI document's paths in the order of ``routers`` (and so of docs/api.md), whatever
    order the routers are matched in."""
    order: dict[str, int] = {}
    for router in routers:
        for route in router.routes:
            order.setdefault(getattr(route, "path", ""), len(order))
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        paths = schema.get("paths")
        if isinstance(paths, dict):
            schema["paths"] = dict(sorted(paths.items(), key=lambda item: order.get(item[0], len(order))))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
