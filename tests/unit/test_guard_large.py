"""The guard's admission of large bodies: a tenant's share and the process's byte budget."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from fastapi.routing import APIRoute
from starlette.types import Message, Receive, Scope, Send

from mailport.api.guard import RequestGuard, max_body
from mailport.settings import Settings

MB = 1024 * 1024


@max_body(30 * MB)
async def upload() -> None:  # never called: the app below stands in for the routes
    return None


class HeldApp:
    """Answers 200 once ``release`` is set, so requests stay in progress as long as a test wants."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running += 1
        await self.release.wait()
        self.running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def request(size: int, address: str) -> Scope:
    return {"type": "http", "method": "POST", "path": "/upload", "root_path": "", "query_string": b"",
            "headers": [(b"content-length", str(size).encode())], "client": (address, 1234)}


async def call(guard: RequestGuard, scope: Scope) -> int:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await guard(scope, receive, send)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


def make_guard(**settings: Any) -> tuple[RequestGuard, HeldApp]:
    app = HeldApp()
    runtime = SimpleNamespace(settings=Settings(**settings), tenants=None)
    route = APIRoute("/upload", upload, methods=["POST"])
    return RequestGuard(app, runtime=runtime, routes=[route]), app  # type: ignore[arg-type]


def test_a_callers_large_requests_beyond_its_share_wait_their_turn_and_small_ones_pass() -> None:
    async def scenario() -> None:
        guard, app = make_guard(large_request_tenant_mb=12, large_request_budget_mb=500)
        held = [asyncio.create_task(call(guard, request(5 * MB, "10.0.0.1"))) for _ in range(2)]
        await asyncio.sleep(0.05)
        assert app.running == 2
        assert await call(guard, request(5 * MB, "10.0.0.1")) == 429  # 15 MB > 12 MB
        fits = asyncio.create_task(call(guard, request(int(1.5 * MB), "10.0.0.1")))  # 11.5 MB
        other = asyncio.create_task(call(guard, request(5 * MB, "10.0.0.2")))
        small = asyncio.create_task(call(guard, request(100_000, "10.0.0.1")))
        await asyncio.sleep(0.05)
        assert app.running == 5  # what fits the share, another caller's large one and the small one
        app.release.set()
        assert await asyncio.gather(*held, fits, other, small) == [200] * 5
        assert await call(guard, request(5 * MB, "10.0.0.1")) == 200  # places freed

    asyncio.run(scenario())


def test_large_requests_of_all_callers_share_a_byte_budget() -> None:
    async def scenario() -> None:
        guard, app = make_guard(large_request_tenant_mb=20, large_request_budget_mb=12)
        first = [asyncio.create_task(call(guard, request(5 * MB, f"10.0.1.{i}"))) for i in range(2)]
        await asyncio.sleep(0.05)
        assert await call(guard, request(5 * MB, "10.0.1.9")) == 503  # 15 MB > 12 MB
        app.release.set()
        assert await asyncio.gather(*first) == [200, 200]
        # alone, even over the budget and the caller's share
        assert await call(guard, request(25 * MB, "10.0.1.9")) == 200

    asyncio.run(scenario())
