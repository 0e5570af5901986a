"""Request dependencies: the runtime, the caller's tenant, the operator check.

They are ``async def`` although they do no I/O: FastAPI runs a plain ``def`` dependency in its
thread pool, and two thread hops per request were a fifth of the API's CPU per accepted message
(bench/bench_send.py). The key itself is looked up once, by :class:`~mailport.api.guard.
RequestGuard`, before the body is read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
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
