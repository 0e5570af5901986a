"""What every request passes before the app reads a byte of its body.

FastAPI reads and parses a route's body before it solves the route's dependencies, so a key
check written as a dependency comes too late: a 300 MB JSON body without a key used to be read
into memory first. :class:`RequestGuard` (ASGI middleware) runs in front of the routes:

1. the route's caller check — the tenant key (routes depending on ``current_tenant``) or the
   operator key (``require_admin``) — found by looking at the route's dependencies, so a new
   route is covered without anything to remember; the tenant it found is handed to the
   dependency, which does not look the key up again;
2. failed authentications per client address and per key prefix (:mod:`mailport.core.throttle`):
   over the limit the answer is 429 with ``Retry-After``, before any database work;
3. the body cap of the route: ``Content-Length`` above it is refused with 413 without reading,
   and a chunked body is counted while it streams; 1 MB unless the route declares its own
   with :func:`max_body`;
4. a deadline between two chunks of the body (slow-body attacks answer 408).

The throttle lives in this process (see docs/security.md: with N API processes an address gets
N times the attempts, which is fine for what it protects — 256-bit keys; guessable secrets such
as alias codes count their attempts in the database).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs

from fastapi import HTTPException
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailport.api.problems import PROBLEM, problem, problem_of
from mailport.core import apikeys
from mailport.core.throttle import FailureThrottle, ThrottlePolicy
from mailport.errors import StorageError, Unauthenticated
from mailport.i18n import negotiate
from mailport.runtime import Runtime
from mailport.settings import Settings

__all__ = ["TENANT_SCOPE_KEY", "RequestGuard", "max_body", "message_body_limit"]

TENANT_SCOPE_KEY = "mailport.tenant_id"
_LIMIT_ATTR = "__mailport_max_body__"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_F = TypeVar("_F", bound=Callable[..., Any])

BodyLimit = int | Callable[[Settings], int]


def max_body(limit: BodyLimit) -> Callable[[_F], _F]:
    """Declare the largest body a route takes (bytes, or a function of the settings).

    Put it under the router's decorator::

        @router.post("/batch")
        @max_body(lambda s: 100 * message_body_limit(s))
        async def send_batch(...): ...
    """

    def mark(func: _F) -> _F:
        setattr(func, _LIMIT_ATTR, limit)
        return func

    return mark


def message_body_limit(settings: Settings) -> int:
    """A message at the size limit, base64-inflated (4/3), plus room for headers and JSON."""
    return settings.max_message_bytes * 4 // 3 + 1024 * 1024


class _RouteRule:
    __slots__ = ("auth", "limit")

    def __init__(self, auth: str | None, limit: int) -> None:
        self.auth = auth
        self.limit = limit


_WORKING_KEYS = 10_000  # key ids remembered (LRU); ~1 MB
_WORKING_FOR = 24 * 3600.0  # seconds a key id that worked may pass an address block


class RequestGuard:
    def __init__(self, app: ASGIApp, *, runtime: Runtime, routes: Sequence[BaseRoute],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        # The API's own routes, each with its full path (FastAPI's included routers are nested
        # objects whose layout changes between versions; these are plain APIRoutes).
        self._routes = list(routes)
        self.runtime = runtime
        s = runtime.settings
        self.default_limit = s.max_request_bytes
        self.body_timeout = s.http_body_timeout
        self.by_address = FailureThrottle(ThrottlePolicy(s.auth_failures_per_address, s.auth_failure_window,
                                                         s.auth_block_seconds))
        self.by_key = FailureThrottle(ThrottlePolicy(s.auth_failures_per_key, s.auth_failure_window,
                                                     s.auth_block_seconds))
        self.clock = clock
        # Key ids that authenticated in this process lately (id -> when). A host product calls
        # for all its customers from one address: one customer's stale key must not lock every
        # other tenant out with it. Only the id is remembered, never the answer: the key itself
        # is checked in the database on every request, so a revoked key is refused at once.
        self._working: OrderedDict[str, float] = OrderedDict()
        # Large bodies in progress (per tenant, and their bytes together): each costs several
        # times its size in memory while it is decoded and built into a message.
        self.large_per_tenant = s.large_request_tenant_mb * 1024 * 1024
        self.large_budget = s.large_request_budget_mb * 1024 * 1024
        self._large_by_tenant: dict[str, int] = {}
        self._large_bytes = 0
        self._rules: dict[int, _RouteRule] = {}
        self._static: dict[tuple[str, str, str], _RouteRule] = {}

    # -- the ASGI entry ------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self._rule(scope)
        if rule.auth is not None:
            refused = await self._authenticate(scope, rule.auth)
            if refused is not None:
                await refused(scope, _empty_receive, send)
                return
        if scope["method"] in _BODY_METHODS:
            declared = _header(scope, b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > rule.limit):
                await self._too_large(rule.limit, _language(scope))(scope, _empty_receive, send)
                return
            receive = self._capped(receive, rule.limit)
            if rule.limit > self.default_limit:
                # chunked: its size is unknown, so it takes a tenant's whole share
                size = int(declared) if declared is not None else min(rule.limit, self.large_per_tenant)
                if size > self.default_limit:
                    await self._large(scope, receive, send, size)
                    return
        await self.app(scope, receive, send)

    async def _large(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        """A body over the default cap: admitted within the tenant's share and the process's budget
        (in bytes: a batch of 100 invoices is ~3 MB, one message with a scan can be 25 MB)."""
        owner = str(scope.get(TENANT_SCOPE_KEY) or _client_address(scope))
        language = _language(scope)
        held = self._large_by_tenant.get(owner, 0)
        if held and held + size > self.large_per_tenant:
            await self._busy(429, "request.too_many_large",
                             f"at most {self.large_per_tenant // (1024 * 1024)} MB of large requests of one tenant "
                             "at a time", language)(scope, _empty_receive, send)
            return
        if self._large_bytes and self._large_bytes + size > self.large_budget:
            await self._busy(503, "request.server_busy", "too many large requests in progress; try again shortly",
                             language)(scope, _empty_receive, send)
            return
        self._large_by_tenant[owner] = held + size
        self._large_bytes += size
        try:
            await self.app(scope, receive, send)
        finally:
            self._large_bytes -= size
            left = self._large_by_tenant[owner] - size
            if left:
                self._large_by_tenant[owner] = left
            else:
                del self._large_by_tenant[owner]

    @staticmethod
    def _busy(status: int, code: str, title: str, language: str) -> ASGIApp:
        return _retry_later(status, code, title, 2, language)

    # -- which rule applies ------------------------------------------------------------------

    def _rule(self, scope: Scope) -> _RouteRule:
        # A path without parameters (POST /v1/messages) is looked up once: matching walks every
        # route, and the router does it again after us.
        static = (scope["method"], scope["path"], scope.get("root_path", ""))
        found = self._static.get(static)
        if found is not None:
            return found
        for route in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                rule = self._rules.get(id(route))
                if rule is None:
                    rule = self._rules[id(route)] = self._make_rule(route)
                if not getattr(route, "param_convertors", True):
                    self._static[static] = rule
                return rule
        return _RouteRule(None, self.default_limit)

    def _make_rule(self, route: Any) -> _RouteRule:
        if not isinstance(route, APIRoute):
            return _RouteRule(None, self.default_limit)
        from mailport.api import deps

        calls: set[Any] = set()
        stack = [route.dependant]
        while stack:
            dependant = stack.pop()
            calls.add(dependant.call)
            stack.extend(dependant.dependencies)
        auth = "admin" if deps.require_admin in calls else "tenant" if deps.current_tenant in calls else None
        declared: BodyLimit | None = getattr(route.endpoint, _LIMIT_ATTR, None)
        if declared is None:
            limit = self.default_limit
        elif callable(declared):
            limit = int(declared(self.runtime.settings))
        else:
            limit = int(declared)
        return _RouteRule(auth, limit)

    # -- the caller ----------------------------------------------------------------------------

    async def _authenticate(self, scope: Scope, kind: str) -> ASGIApp | None:
        now = self.clock()
        address = _client_address(scope)
        presented = _bearer(scope)
        prefix = _key_prefix(presented)
        language = _language(scope)
        wait = self.by_address.retry_after(address, now)
        if wait and not self._may_pass_block(kind, presented, prefix, now):
            return self._limited(wait, language)
        if kind == "admin":
            if presented is None:
                return problem(401, code="auth.missing_key", title="the operator key is required",
                               language=language)
            if self.runtime.tenants.is_admin(presented):
                return None
            return self._failed(address, prefix, now, language) or problem(
                403, code="auth.forbidden", title="this needs the operator key (MAILPORT_ADMIN_KEY)",
                language=language)
        tenants = self.runtime.tenants
        try:
            if tenants.checks_keys_inline:
                tenant_id, touch = tenants.check_key(presented)
            elif tenants.checks_keys_async:
                tenant_id, touch = await tenants.check_key_async(presented)
            else:
                tenant_id, touch = await run_in_threadpool(tenants.check_key, presented)
            if touch is not None:  # once a minute per key: a write, so off the loop
                await run_in_threadpool(tenants.touch_key, touch)
        except Unauthenticated as exc:
            return self._failed(address, prefix, now, language) or problem(401, code=exc.code, title=exc.message,
                                                                   language=language)
        except StorageError as exc:
            # The database is away: 503 as every route answers then. The guard runs outside the
            # app's exception handlers, so uncaught this was a 500 ("internal").
            status, body = problem_of(exc, language)
            return JSONResponse(body, status_code=status, media_type=PROBLEM)
        scope[TENANT_SCOPE_KEY] = tenant_id
        if prefix is not None:
            self._working[prefix] = now
            self._working.move_to_end(prefix)
            if len(self._working) > _WORKING_KEYS:
                self._working.popitem(last=False)
        return None

    def _may_pass_block(self, kind: str, presented: str | None, prefix: str | None, now: float) -> bool:
        """Whether a request from a blocked address is still looked at: the operator key (an
        in-memory comparison), or a key whose id worked here within the last day and whose id is
        not under attack itself. Everything else from the address stays refused before any
        database work, so a flood of guesses costs nothing."""
        if kind == "admin":
            return presented is not None and self.runtime.tenants.is_admin(presented)
        if prefix is None or self.by_key.retry_after(prefix, now):
            return False
        seen = self._working.get(prefix)
        return seen is not None and now - seen < _WORKING_FOR

    def _failed(self, address: str, prefix: str | None, now: float, language: str) -> ASGIApp | None:
        """Count the failure; a 429 when it crossed a limit (else the caller answers 401/403).

        A key prefix under attack only turns wrong keys away: a valid key is checked before its
        prefix's count matters, so nobody can lock a tenant out by guessing at its key id."""
        wait = self.by_address.failure(address, now)
        if prefix is not None:
            wait = max(wait, self.by_key.failure(prefix, now))
        return self._limited(wait, language) if wait else None

    @staticmethod
    def _limited(wait: int, language: str) -> ASGIApp:
        return _retry_later(429, "auth.rate_limited", "too many failed authentications; try again later", wait,
                            language)

    @staticmethod
    def _too_large(limit: int, language: str) -> ASGIApp:
        return problem(413, code="request.too_large", title=f"the request body is larger than {limit} bytes",
                       limit=limit, language=language)

    # -- the body ------------------------------------------------------------------------------

    def _capped(self, receive: Receive, limit: int) -> Receive:
        seen = 0
        timeout = self.body_timeout

        async def capped() -> Message:
            nonlocal seen
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise HTTPException(408, "the request body arrived too slowly") from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        return capped


def _retry_later(status: int, code: str, title: str, wait: int, language: str) -> ASGIApp:
    """A problem with ``Retry-After`` (header and member), titled in the caller's language like
    every other problem (the English text stays in detail)."""
    response = problem(status, code=code, title=title, retry_after=wait, language=language)
    response.headers["Retry-After"] = str(wait)
    return response


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1").strip()
    return None


def _language(scope: Scope) -> str:
    """The caller's language, as :func:`mailport.api.problems.request_language` says it."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
    return negotiate(_header(scope, b"accept-language"), query)


def _bearer(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _key_prefix(presented: str | None) -> str | None:
    """The part of a presented key that names it: the key id of a tenant key."""
    if presented is None:
        return None
    parsed = apikeys.parse_key(presented)
    return f"key:{parsed.key_id}" if parsed else None


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
