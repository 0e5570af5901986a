"""Shared helpers of the outbox tests: a runtime wired to a sink, an account, a worker run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbfixtures import make_runtime
from mailport.runtime import Runtime
from mailport.services.accounts import AccountInput

FAST_RETRIES: dict[str, Any] = {
    "allow_private_hosts": True,
    "allow_insecure_auth": True,
    "send_retry_min_delay": 0.2,
    "send_retry_max_delay": 0.4,
    "connect_timeout": 5.0,
}


def outbox_runtime(tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Runtime:
    return make_runtime(tmp_path, database_url, **{**FAST_RETRIES, **overrides})


def sink_account(rt: Runtime, tenant_id: str, port: int, *, email: str = "user@example.test",
                 daily_limit: int | None = None, imap: dict[str, Any] | None = None,
                 provider_id: str | None = None) -> str:
    view = rt.accounts.create(tenant_id, AccountInput(
        email=email, display_name="Bakkerij Jansen",
        smtp={"host": "127.0.0.1", "port": port, "security": "none"},
        imap=imap, password="password", daily_limit=daily_limit, provider_id=provider_id,
    ))
    return view.id


async def run_worker_until(rt: Runtime, predicate: Callable[[], bool], *, timeout: float = 20.0,
                           worker_id: str | None = None) -> None:
    """Run an embedded worker until ``predicate()`` (checked off the loop) is true."""
    worker = rt.make_worker(worker_id=worker_id)
    worker.poll_interval = 0.05
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout
    try:
        while not await asyncio.to_thread(predicate):
            if task.done():
                task.result()
            assert time.monotonic() < deadline, "the worker did not get there in time"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await rt.outbox.pool.aclose()


def state_of(rt: Runtime, tenant_id: str, message_id: str) -> str:
    return rt.outbox.get(tenant_id, message_id).state
