"""LeanRoute calls an accept endpoint with what FastAPI's dependency solving would pass, and leaves
every other endpoint (and any request while dependency overrides are set) to FastAPI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from mailport.api import deps
from mailport.api.deps import LeanRoute, RuntimeDep, TenantDep, _lean_headers
from mailport.api.guard import TENANT_SCOPE_KEY
from mailport.api.routers import messages

RUNTIME = object()


def _app(router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.state.runtime = RUNTIME
    app.include_router(router)

    class Tenant:  # what RequestGuard leaves in the scope after checking the key
        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                scope[TENANT_SCOPE_KEY] = "ten_guard"
            await self.inner(scope, receive, send)

    app.add_middleware(Tenant)
    return app


def test_the_accept_routes_are_called_directly_and_the_others_by_fastapi() -> None:
    found = {route.path + " " + ",".join(sorted(route.methods or ())): _lean_headers(route)
             for route in messages.router.routes if isinstance(route, APIRoute)}
    assert found["/v1/messages POST"] == [("idempotency_key", "Idempotency-Key")]
    assert found["/v1/messages/batch POST"] == []
    assert found["/v1/messages GET"] is None  # a sync endpoint with query parameters
    assert found["/v1/messages/{message_id} GET"] is None
    assert found["/v1/messages/{message_id}/cancel POST"] is None  # a path parameter


def test_the_values_are_those_fastapi_would_pass() -> None:
    router = APIRouter(route_class=LeanRoute)
    seen: list[tuple[Any, ...]] = []

    @router.post("/lean")
    async def lean(request: Request, runtime: RuntimeDep, tenant_id: TenantDep,
                   key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Response:
        seen.append((runtime, tenant_id, key))
        return Response(status_code=202)

    @router.post("/full/{x}")
    async def full(x: int, request: Request, runtime: RuntimeDep, tenant_id: TenantDep) -> Response:
        seen.append((x, runtime, tenant_id))
        return Response(status_code=202)

    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    assert _lean_headers(routes[0]) == [("key", "Idempotency-Key")]
    assert _lean_headers(routes[1]) is None
    app = _app(router)
    client = TestClient(app)
    assert client.post("/lean", headers={"idempotency-key": "k-1"}).status_code == 202
    assert client.post("/lean").status_code == 202
    assert client.post("/full/7").status_code == 202
    assert client.post("/full/x").status_code == 422  # FastAPI's own validation still runs there
    assert seen == [(RUNTIME, "ten_guard", "k-1"), (RUNTIME, "ten_guard", None), (7, RUNTIME, "ten_guard")]

    async def other_tenant() -> str:
        return "ten_override"

    app.dependency_overrides[deps.current_tenant] = other_tenant  # FastAPI's handler, overrides honoured
    assert client.post("/lean", headers={"Idempotency-Key": "k-2"}).status_code == 202
    assert seen[-1] == (RUNTIME, "ten_override", "k-2")
