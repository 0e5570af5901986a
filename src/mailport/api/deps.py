"""Request dependencies: the runtime, the caller's tenant, the operator check.

They are ``async def`` although they do no I/O: FastAPI runs a plain ``def`` dependency in its
thread pool, and two thread hops per request were a fifth of the API's CPU per accepted message
(bench/bench_send.py). The key itself is looked up once, by :class:`~mailport.api.guard.
RequestGuard`, before the body is read.

:class:`LeanRoute` calls the accept routes' endpoints with these values itself: FastAPI solves a
route's dependencies anew on every request (walking the dependency tree, re-inspecting each
callable, validating each parameter), which cost more CPU than anything else in FastAPI on a
``POST /v1/messages`` (bench/bench_send.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mailport.errors import Forbidden, Unauthenticated
from mailport.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="A tenant API key (`mpk_…`) or the operator key.")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def require_admin(runtime: RuntimeDep, creds: Credentials) -> None:
    if creds is None:
        raise Unauthenticated("the operator key is required")
    if not runtime.tenants.is_admin(creds.credentials):
        raise Forbidden("this needs the operator key (MAILPORT_ADMIN_KEY)")


async def current_tenant(request: Request, creds: Credentials) -> str:
    # The request guard checked the key before the body was read; use its answer. (No RuntimeDep
    # here: FastAPI's dependency solving costs per sub-dependency, on every request.)
    checked = request.scope.get("mailport.tenant_id")
    if isinstance(checked, str):
        return checked
    runtime: Runtime = request.app.state.runtime
    return await run_in_threadpool(runtime.tenants.authenticate, creds.credentials if creds else None)


AdminDep = Annotated[None, Depends(require_admin)]
TenantDep = Annotated[str, Depends(current_tenant)]


_Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    """An :class:`APIRoute` whose endpoint, when it takes only the request, :data:`RuntimeDep`,
    :data:`TenantDep` and optional ``str`` headers, is called with them directly — what FastAPI's
    per-request dependency solving would pass, without its cost. Such an endpoint reads and
    validates its body itself and returns a :class:`Response`. Everything around the call is
    FastAPI's and Starlette's as for any route: matching, the exception handlers, the OpenAPI
    document (built from the same dependant). Any other endpoint, and any request while
    ``app.dependency_overrides`` is set, goes through FastAPI's own handler."""

    def get_route_handler(self) -> _Handler:
        full = super().get_route_handler()
        headers = _lean_headers(self)
        if headers is None:
            return full
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            app = request.scope["app"]
            if app.dependency_overrides:
                return await full(request)
            tenant_id = request.scope.get("mailport.tenant_id")
            if not isinstance(tenant_id, str):  # no guard in front: as current_tenant does
                tenant_id = await current_tenant(request, await _bearer(request))
            values = {name: request.headers.get(alias) for name, alias in headers}
            response: Response = await endpoint(request, app.state.runtime, tenant_id, **values)
            return response

        return handler


def _lean_headers(route: APIRoute) -> list[tuple[str, str]] | None:
    """``(parameter, header)`` of a route :class:`LeanRoute` may call directly, else ``None``."""
    import inspect

    d = route.dependant
    if not inspect.iscoroutinefunction(route.endpoint) or route.body_field is not None:
        return None
    names = [p.name for p in inspect.signature(route.endpoint).parameters.values()]
    if names[:3] != [d.request_param_name, "runtime", "tenant_id"]:
        return None
    if [(x.name, x.call) for x in d.dependencies] != [("runtime", get_runtime), ("tenant_id", current_tenant)]:
        return None
    if d.query_params or d.path_params or d.cookie_params or d.body_params or any(
            x.dependencies for x in d.dependencies if x.call is get_runtime):
        return None
    if d.background_tasks_param_name or d.response_param_name or d.http_connection_param_name:
        return None
    headers = []
    for field in d.header_params:
        info = field.field_info
        if info.annotation != (str | None) or info.default is not None or info.metadata or \
                info.validation_alias not in (None, field.alias) or field.alias == field.name:
            return None
        headers.append((field.name, field.alias))
    if names[3:] != [name for name, _ in headers]:
        return None
    return headers
