"""The mailbox page's live test with several API processes: started in one, polled in another.

Two apps on two runtimes over one database stand for two processes of ``serve --processes N``:
nothing in memory is shared between them, only the database (SQLite, and PostgreSQL on the second
run). The test talks to real sockets on loopback: a port where nothing listens (refused at once)
and a server that accepts and never greets (the run stays at the greeting).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import pytest
from fastapi.testclient import TestClient

from dbfixtures import ADMIN_KEY, make_runtime
from mailport.api.app import create_app
from mailport.clock import FrozenClock
from mailport.core.verification import Stage, StageResult, StageStatus
from mailport.runtime import Runtime
from mailport.services.ui_test_runs import KEEP, STALE_AFTER

BASE = "http://127.0.0.1:8400"
POLL = re.compile(r'hx-get="/ui/settings/email/runs/([\w-]+)"')


class Process:
    """One "API process": its own runtime (its own memory) on the shared database."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.client = TestClient(create_app(runtime), raise_server_exceptions=False, base_url=BASE)

    def __enter__(self) -> Self:
        self.client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)
        self.runtime.close()

    def wait_for_run(self, run_id: str) -> None:
        """Wait until this process's task for ``run_id`` ended (it runs on the app's event loop)."""
        task = self.runtime.ui_test_runs.task_of(run_id)
        if task is not None:
            async def wait() -> None:
                await asyncio.wait([task], timeout=30)

            self.client.portal.call(wait)  # type: ignore[union-attr]


@pytest.fixture
def clocks() -> tuple[FrozenClock, FrozenClock]:
    now = datetime.now(UTC)  # a cookie's Expires must lie in the future
    return FrozenClock(now), FrozenClock(now)


@pytest.fixture
def two(tmp_path: Path, database_url: str,
        clocks: tuple[FrozenClock, FrozenClock]) -> Iterator[tuple[Process, Process]]:
    first = make_runtime(tmp_path, database_url, allow_private_hosts=True, connect_timeout=30.0)
    second = make_runtime(tmp_path, database_url, allow_private_hosts=True, connect_timeout=30.0)
    first.clock, second.clock = clocks
    with Process(first) as a, Process(second) as b:
        yield a, b


def _tenant(process: Process, name: str) -> str:
    key: str = process.client.post("/v1/tenants", json={"name": name},
                                   headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
    return key


def _enter(process: Process, api_key: str) -> None:
    """Sign the process's browser in (a fresh cookie jar per tenant: ``process.client``'s)."""
    link = process.client.post("/v1/ui-sessions", json={"user_name": "Anna", "language": "en"},
                               headers={"Authorization": f"Bearer {api_key}"}).json()["url"]
    assert process.client.get(link.removeprefix(BASE), follow_redirects=False).status_code == 303


def _share_cookies(source: Process, target: Process) -> None:
    """One browser, two processes: the same cookies reach whichever process takes the request."""
    target.client.cookies = source.client.cookies


def _csrf(process: Process) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', process.client.get("/ui/settings/email/mailbox/new").text)
    assert found
    return found.group(1)


def _form(process: Process, port: int, *, email: str = "info@bakkerij.test") -> dict[str, str]:
    return {"csrf": _csrf(process), "email": email, "password": "pw-0123456789",
            "smtp_host": "127.0.0.1", "smtp_port": str(port), "smtp_security": "starttls"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _silent_server() -> socket.socket:
    """Accepts connections (the kernel's backlog) and never says a word: the run waits at the greeting."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    return server


def _start(process: Process, form: dict[str, str]) -> str:
    resp = process.client.post("/ui/settings/email/mailbox/test", data=form, headers={"HX-Request": "true"})
    assert resp.status_code == 200, resp.text
    found = re.search(r'name="run_id" id="run-id" value="([\w-]+)"', resp.text)
    assert found, resp.text
    return found.group(1)


def _poll(process: Process, run_id: str) -> str:
    resp = process.client.get(f"/ui/settings/email/runs/{run_id}", headers={"HX-Request": "true"})
    assert resp.status_code == 200, resp.text
    return resp.text


def test_a_run_started_in_one_process_is_followed_and_saved_through_another(two: tuple[Process, Process]) -> None:
    a, b = two
    _enter(a, _tenant(a, "Bakkerij"))
    _share_cookies(a, b)
    form = _form(a, _free_port())  # nothing listens: refused at once
    run_id = _start(a, form)
    a.wait_for_run(run_id)

    page = _poll(b, run_id)  # b never saw this run in its memory
    assert "no longer available" not in page, page
    assert POLL.search(page) is None, "a finished run is not polled any more"
    assert "stage-failed" in page and "Test finished: it did not work." in page, page

    # "Save" through b records a's test as the mailbox's verification: the fingerprint's key is
    # the same in every process.
    saved = b.client.post("/ui/settings/email/mailbox/save", data={**form, "run_id": run_id},
                          follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("saved=attention"), saved.text


def test_a_running_run_shows_its_progress_in_every_process(two: tuple[Process, Process]) -> None:
    a, b = two
    _enter(a, _tenant(a, "Bakkerij"))
    _share_cookies(a, b)
    server = _silent_server()
    try:
        run_id = _start(a, _form(a, server.getsockname()[1]))
        for _ in range(100):  # the connection is open once "Connecting" is ok
            page = _poll(b, run_id)
            if 'stage-ok' in page:
                break
            a.client.portal.call(asyncio.sleep, 0.05)  # type: ignore[union-attr]
        assert POLL.search(page) is not None, "a running run goes on being polled"
        assert "stage-ok" in page and "stage-pending" in page, page
        assert "Testing…" in page
    finally:
        server.close()
    a.wait_for_run(run_id)
    assert POLL.search(_poll(b, run_id)) is None


def test_a_run_whose_process_died_ends_as_interrupted_not_as_endless_polling(
        two: tuple[Process, Process], clocks: tuple[FrozenClock, FrozenClock]) -> None:
    a, b = two
    _enter(a, _tenant(a, "Bakkerij"))
    _share_cookies(a, b)
    server = _silent_server()
    try:
        run_id = _start(a, _form(a, server.getsockname()[1]))
        assert POLL.search(_poll(b, run_id)) is not None
        # a stops renewing the run (its clock stands still, as a dead process's heartbeat does);
        # b's time goes on.
        clocks[1].advance(STALE_AFTER + timedelta(seconds=1))
        page = _poll(b, run_id)
        assert POLL.search(page) is None, page
        assert "The test was interrupted before it finished. Please try again." in page, page
        b.client.post("/ui/language", data={"csrf": _csrf(b), "lang": "nl"})
        assert "De test is onderbroken voordat hij klaar was." in _poll(b, run_id)
    finally:
        server.close()
    a.wait_for_run(run_id)


def test_another_tenants_session_cannot_read_a_run(two: tuple[Process, Process]) -> None:
    a, b = two
    _enter(a, _tenant(a, "Bakkerij"))
    _enter(b, _tenant(b, "Slagerij"))  # b's browser: another tenant
    run_id = _start(a, _form(a, _free_port()))
    a.wait_for_run(run_id)
    assert "stage-failed" in _poll(a, run_id)
    page = _poll(b, run_id)
    assert "This test is no longer available. Start it again." in page and "stage-" not in page


def test_nothing_secret_is_stored_and_retention_deletes_old_runs(two: tuple[Process, Process]) -> None:
    a, b = two
    _enter(a, _tenant(a, "Bakkerij"))
    form = _form(a, _free_port())
    run_id = _start(a, form)
    a.wait_for_run(run_id)
    import sqlalchemy as sa

    with a.runtime.db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM ui_test_runs WHERE id = :id"), {"id": run_id}).mappings().one()
    assert row["state"] == "done"
    assert form["password"] not in " ".join(str(v) for v in row.values())

    assert b.runtime.retention.prune(now=b.runtime.clock.now()).ui_test_runs == 0  # fresh: kept
    assert b.runtime.retention.prune(now=b.runtime.clock.now() + KEEP + timedelta(minutes=1)).ui_test_runs == 1
    assert "no longer available" in _poll(a, run_id)


async def test_a_crashing_run_ends_as_not_completed_and_a_new_one_cancels_the_oldest(
        tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    tenant = runtime.tenants.create(name="Bakkerij").tenant.id
    runs = runtime.ui_test_runs
    try:
        async def crash(progress: Any) -> dict[str, Any]:
            progress(StageResult(stage=Stage.SMTP_DNS, status=StageStatus.OK, duration_ms=3))
            raise RuntimeError("bug")

        run = await runs.start(tenant_id=tenant, session_id="s", stages=["smtp.dns", "smtp.tcp"], fingerprint="",
                               account_id=None, work=crash)
        task = runs.task_of(run.id)
        assert task is not None
        await task
        seen = await runs.get(run.id, tenant_id=tenant, session_id="s")
        assert seen is not None and seen.done and seen.crashed and seen.report is None
        assert [r["status"] for r in seen.stage_rows()] == ["ok", "skipped"]

        forever = asyncio.Event()

        async def hang(progress: Any) -> dict[str, Any]:
            await forever.wait()
            return {}

        started = [await runs.start(tenant_id=tenant, session_id="s2", stages=["smtp.dns"], fingerprint="",
                                    account_id=None, work=hang) for _ in range(6)]
        first = runs.task_of(started[0].id)
        await asyncio.sleep(0.05)
        assert first is None or first.done()
        oldest = await runs.get(started[0].id, tenant_id=tenant, session_id="s2")
        assert oldest is not None and oldest.crashed
        for run in started[1:]:
            live = runs.task_of(run.id)
            assert live is not None and not live.done()
            live.cancel()
        await asyncio.sleep(0.05)
    finally:
        runtime.close()
