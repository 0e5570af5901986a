"""What the browser tests of signing in with Google or Microsoft ("Send from Gmail", "Send from
Outlook / Microsoft 365", "Sign in with Google") share: mailport served by uvicorn with one
tenant, a watched Chromium page, and waiting for a message's state."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

import pageguard
from dbfixtures import ADMIN_KEY
from lab.ports import free_port
from mailport.runtime import Runtime
from testenv import unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def lab_settings(oauth_lab: Any, base: str) -> dict[str, Any]:
    """Runtime settings for a mailport at ``base`` that trusts the OAuth lab's CA and looks
    nothing up outside the lab."""
    return {"allow_private_hosts": True, "ca_file": str(oauth_lab.ca_pem_path), "public_url": base,
            "connect_timeout": 5.0, "verify_roundtrip_timeout": 20.0, "discovery_probe": False,
            "discovery_deadline": 2.0, "ispdb_url": "http://127.0.0.1:9/"}


@contextmanager
def served_mailport(runtime_for: Callable[[str], Runtime], *, embedded_worker: bool = True,
                    tenant_name: str = "Bakkerij") -> Iterator[tuple[str, str, Runtime]]:
    """``(base URL, a tenant's API key, the runtime)`` of mailport (API, pages and, with
    ``embedded_worker``, the job worker) under uvicorn in a thread on a free loopback port;
    ``runtime_for(base)`` builds the runtime (its OAuth redirect names the URL). The runtime is
    closed after the server."""
    import uvicorn

    from mailport.api.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    runtime = runtime_for(base)
    app = create_app(runtime, embedded_worker=embedded_worker)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        tenant = httpx.post(f"{base}/v1/tenants", json={"name": tenant_name},
                            headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert tenant.status_code == 201, tenant.text
        yield base, tenant.json()["api_key"], runtime
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        runtime.close()


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A page of Debian's headless Chromium; on leaving, fails on any console error or CSP
    violation any page of its context showed."""
    if not shutil.which(CHROMIUM):
        unavailable("Debian chromium is not installed (make lab-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            errors = pageguard.watch_context(context)
            yield context.new_page()
        finally:
            browser.close()
        pageguard.assert_clean(errors)  # no CSP violation or script error on any page


def wait_state(base: str, auth: dict[str, str], message_id: str, states: tuple[str, ...],
               timeout: float = 90) -> dict[str, Any]:
    """The message's view once its state is one of ``states``. One read may take long on a loaded
    machine (httpx's default 5 s timed out at load 200 while the worker was sending): only the
    deadline says how long the wait may be."""
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = httpx.get(f"{base}/v1/messages/{message_id}", headers=auth,
                                         timeout=max(5.0, deadline - time.monotonic())).json()
        if view["state"] in states:
            return view
        assert time.monotonic() < deadline, f"message still {view['state']}: {view}"
        time.sleep(0.2)
