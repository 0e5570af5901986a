"""``mailport serve --processes 2`` on SQLite: two API processes on one listening socket and the
embedded worker once. Both processes accept at the same time and nothing is lost; an idempotency
key replays the same message through the other process; the one worker is woken from either and
sends; SIGTERM drains a request in progress; a dead API process is replaced; a supervisor
killed with -9 leaves no process serving; and the mailbox page's live test started in one process
is followed in the other, also when the process running it is killed."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from dbfixtures import ADMIN_KEY
from lab import SmtpSink
from lab.ports import free_port

pytestmark = pytest.mark.slow

SECRET_KEY = "t1:" + "B" * 43 + "="
PDF = b"%PDF-1.4\n" + os.urandom(3000) + b"\n%%EOF\n"


class Serve:
    """``mailport serve --processes N`` in a fresh data directory."""

    def __init__(self, tmp_path: Path, processes: int, *, worker: bool = True, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = tmp_path / "var" / "mailport.db"
        self.log_path = tmp_path / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPORT_")}
        env.update(MAILPORT_ENV="test", MAILPORT_ADMIN_KEY=ADMIN_KEY, MAILPORT_SECRET_KEY=SECRET_KEY,
                   MAILPORT_DATA_DIR=str(tmp_path / "var"), MAILPORT_PORT=str(self.port),
                   MAILPORT_ALLOW_PRIVATE_HOSTS="true", MAILPORT_ALLOW_INSECURE_AUTH="true",
                   MAILPORT_LOG_FORMAT="console", MAILPORT_INBOX_MAX_ACCOUNTS="0", **settings)
        args = ["serve", "--processes", str(processes), "--worker" if worker else "--no-worker"]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "mailport.cli", *args], env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        self.wait_ready(processes)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def children(self) -> dict[int, str]:
        """Pid -> command line of the supervisor's children."""
        found = {}
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            for pid in (task / "children").read_text().split():
                with_args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(pid)] = with_args
        return found

    def api_pids(self) -> list[int]:
        return sorted(pid for pid, cmd in self.children().items() if " serve " in cmd and "--listen-fd" in cmd)

    def worker_pids(self) -> list[int]:
        return sorted(pid for pid, cmd in self.children().items() if " worker " in cmd)

    def wait_ready(self, processes: int) -> None:
        deadline = time.monotonic() + 90
        while True:
            assert self.proc.poll() is None, self.log()
            ready = sum("Application startup complete" in line for line in self.log().splitlines())
            try:
                if ready >= processes and httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve did not start\n{self.log()}"
            time.sleep(0.2)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def count(self, sql: str) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute(sql).fetchone()[0])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def connections_by_process(port: int, pids: list[int]) -> dict[int, int]:
    """Established TCP connections to ``port`` each of ``pids`` holds (from /proc; Linux)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    held = {}
    for pid in pids:
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(os.readlink(fd))
            except OSError:
                continue
        held[pid] = sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)
    return held


def clients_by_process(serve: Serve, headers: dict[str, str], count: int) -> list[tuple[int, httpx.Client]]:
    """``count`` keep-alive clients, opened one after another, each with the API process its
    connection landed on."""
    api = serve.api_pids()
    opened: list[tuple[int, httpx.Client]] = []
    for _ in range(count):
        before = connections_by_process(serve.port, api)
        client = httpx.Client(base_url=serve.base, headers=headers, timeout=60)
        assert client.get("/healthz").status_code == 200
        after = connections_by_process(serve.port, api)
        [pid] = [pid for pid in api if after[pid] > before[pid]]
        opened.append((pid, client))
    return opened


def invoice(account: str, n: int, key: str) -> dict[str, object]:
    return {"account": account, "to": ["klant@example.org"], "subject": f"Factuur {n}", "text": "Beste klant",
            "attachments": [{"filename": "factuur.pdf", "content": base64.b64encode(PDF).decode()}],
            "idempotency_key": key}


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    running = SmtpSink().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    running = Serve(tmp_path_factory.mktemp("serve2"), 2)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def tenant(serve: Serve, sink: SmtpSink) -> tuple[dict[str, str], str]:
    key = httpx.post(serve.base + "/v1/tenants", json={"name": "Twee BV"}, timeout=30,
                     headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    resp = httpx.post(serve.base + "/v1/accounts", headers=headers, timeout=30, json={
        "email": "user@example.test", "password": "password",
        "smtp": {"host": "127.0.0.1", "port": sink.port, "security": "none"}})
    assert resp.status_code == 201, resp.text
    return headers, resp.json()["id"]


def test_two_api_processes_accept_at_once_and_nothing_is_lost(
        serve: Serve, tenant: tuple[dict[str, str], str], sink: SmtpSink) -> None:
    headers, account = tenant
    api = serve.api_pids()
    assert len(api) == 2, serve.children()
    assert len(serve.worker_pids()) == 1, "the embedded worker runs once, not once per API process"
    before = serve.count("SELECT count(*) FROM messages")
    opened = clients_by_process(serve, headers, 4)  # a keep-alive connection each
    # In turn: each process is waiting in accept() when the next connection comes (on a box busy
    # with other work a process may come back to accept() late, so not exactly 2 and 2).
    assert {pid for pid, _ in opened} == set(api), f"4 connections, all on one process: {opened}"
    clients = [client for _, client in opened]
    barrier = threading.Barrier(len(clients))
    answers: list[dict[str, object]] = []

    def post(i: int) -> None:
        barrier.wait()
        for b in range(3):
            items = [invoice(account, n, f"c{i}-{b}-{n}") for n in range(50)]
            resp = clients[i].post("/v1/messages/batch", json={"messages": items})
            assert resp.status_code == 200, resp.text
            answers.append(resp.json())

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    assert len(answers) == 12 and all(a["failed"] == 0 for a in answers), answers[:1]
    assert serve.count("SELECT count(*) FROM messages") - before == 600, "every accepted message is stored"
    assert serve.count("SELECT count(*) FROM jobs WHERE kind = 'send'") >= 600
    # The one worker, woken by both processes, sends them all, each once.
    received = sink.wait_for(before + 600, timeout=120)
    subjects = [m.message()["Subject"] for m in received]
    assert len(subjects) == before + 600, f"sent twice? {len(subjects)}"


def test_an_idempotency_key_replays_the_same_message_through_the_other_process(
        serve: Serve, tenant: tuple[dict[str, str], str]) -> None:
    headers, account = tenant
    opened = clients_by_process(serve, headers, 6)
    [first, second] = [next(c for pid, c in opened if pid == p) for p in serve.api_pids()]
    try:
        body = invoice(account, 1, "retry-through-the-other")
        one = first.post("/v1/messages", json={k: v for k, v in body.items() if k != "idempotency_key"},
                         headers={"Idempotency-Key": "retry-through-the-other"})
        two = second.post("/v1/messages", json={k: v for k, v in body.items() if k != "idempotency_key"},
                          headers={"Idempotency-Key": "retry-through-the-other"})
        assert one.status_code == 202, one.text
        assert two.status_code == 202, two.text
        assert two.json()["id"] == one.json()["id"] and two.headers.get("Idempotent-Replayed") == "true"
        # In batches too, and a different body under the same key is refused by both alike.
        batch = {"messages": [invoice(account, 2, "batch-key")]}
        a, b = first.post("/v1/messages/batch", json=batch).json(), second.post("/v1/messages/batch", json=batch).json()
        assert a["results"][0]["message"]["id"] == b["results"][0]["message"]["id"]
        assert (a["accepted"], b["replayed"]) == (1, 1)
        changed = {"messages": [{**invoice(account, 3, "batch-key")}]}
        refusals = [c.post("/v1/messages/batch", json=changed).json()["results"][0] for c in (first, second)]
        assert refusals[0] == refusals[1] and "error" in refusals[0], refusals
    finally:
        for _, client in opened:
            client.close()


def test_an_accepted_message_is_sent_in_milliseconds_whichever_process_took_it(
        serve: Serve, tenant: tuple[dict[str, str], str], sink: SmtpSink) -> None:
    headers, account = tenant
    took = []
    for n in range(8):  # a fresh connection each: they go round both processes
        with httpx.Client(base_url=serve.base, headers=headers, timeout=30) as client:
            resp = client.post("/v1/messages", json={"account": account, "to": ["klant@example.org"],
                                                     "subject": f"Los {n}", "text": "x"})
            assert resp.status_code == 202, resp.text
            message_id = resp.json()["id"]
            deadline = time.monotonic() + 30
            while (m := client.get(f"/v1/messages/{message_id}").json())["state"] != "sent":
                assert time.monotonic() < deadline, m
                time.sleep(0.01)
            took.append((datetime.fromisoformat(m["sent_at"]) - datetime.fromisoformat(m["created_at"]))
                        .total_seconds())
    # Woken through the pipe, not by its poll (every 0.5 s when idle: a median of ~250 ms).
    assert sorted(took)[len(took) // 2] < 0.15, took


def test_sigterm_drains_a_request_in_progress_and_stops_every_process(tmp_path: Path) -> None:
    serve = Serve(tmp_path, 2)
    key = httpx.post(serve.base + "/v1/tenants", json={"name": "Drain BV"}, timeout=30,
                     headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    account = httpx.post(serve.base + "/v1/accounts", headers=headers, timeout=30, json={
        "email": "user@example.test", "password": "password",
        "smtp": {"host": "127.0.0.1", "port": free_port(), "security": "none"}}).json()["id"]
    children = list(serve.children())
    assert len(children) == 3  # two API processes and the worker
    body = json.dumps({"messages": [invoice(account, n, f"drain-{n}") for n in range(200)]}).encode()
    signalled = threading.Event()

    def slowly() -> Iterator[bytes]:
        yield body[:1000]
        signalled.wait(30)  # the rest of the body after SIGTERM reached every process
        yield body[1000:]

    answer: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answer.append(httpx.post(
        serve.base + "/v1/messages/batch", headers=headers, content=slowly(), timeout=60)))
    thread.start()
    time.sleep(0.5)  # the request's headers and first bytes are in
    serve.proc.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    # The idle API process is gone; the one reading the request waits for it, and so does the
    # worker (the other still holds its wake-up pipe).
    assert "Waiting for connections to close" in serve.log(), serve.log()
    assert sum(alive(pid) for pid in children) == 2 and serve.proc.poll() is None, serve.log()
    signalled.set()
    thread.join(60)
    assert serve.proc.wait(60) == 0, serve.log()
    assert answer and answer[0].status_code == 200, (answer, serve.log())
    assert answer[0].json()["accepted"] == 200
    assert serve.count("SELECT count(*) FROM messages") == 200
    assert not [pid for pid in children if alive(pid)], serve.log()


def test_a_dead_api_process_is_replaced_and_a_killed_supervisor_leaves_nothing_serving(tmp_path: Path) -> None:
    serve = Serve(tmp_path, 2, worker=True)
    api = serve.api_pids()
    os.kill(api[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while len(fresh := serve.api_pids()) < 2 or api[0] in fresh:
        assert time.monotonic() < deadline, serve.log()
        time.sleep(0.2)
    assert "exited with -9; starting another" in serve.log()
    serve.wait_ready(3)  # two at the start, one replacement
    children = list(serve.children())
    os.kill(serve.proc.pid, signal.SIGKILL)
    serve.proc.wait(10)
    deadline = time.monotonic() + 60
    while left := [pid for pid in children if alive(pid)]:
        assert time.monotonic() < deadline, f"still running without their supervisor: {left}\n{serve.log()}"
        time.sleep(0.2)
    with pytest.raises(httpx.TransportError):
        httpx.get(serve.base + "/healthz", timeout=2)


def test_the_mailbox_pages_live_test_is_followed_from_the_other_process_also_when_its_process_dies(
        tmp_path: Path) -> None:
    """A browser's first connection starts the test in one API process; its polls arrive on a
    connection the other process holds. Before 0026 the other process knew no such run ("This
    test is no longer available"); when the running process is killed, the page says the test
    was interrupted instead of polling for ever."""
    serve = Serve(tmp_path, 2, worker=False, MAILPORT_CONNECT_TIMEOUT="3")
    silent = socket.socket()  # accepts (the kernel's backlog) and never greets: the test waits
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        key = httpx.post(serve.base + "/v1/tenants", json={"name": "Twee BV"}, timeout=30,
                         headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["api_key"]
        link = httpx.post(serve.base + "/v1/ui-sessions", json={"user_name": "Anna", "language": "nl"},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30).json()["url"]
        by_pid: dict[int, httpx.Client] = {}
        for pid, client in clients_by_process(serve, {}, 8):
            by_pid.setdefault(pid, client)
        assert len(by_pid) == 2, "the connections all went to one process"
        (starter_pid, starter), (_other_pid, poller) = by_pid.items()
        assert starter.get(link.removeprefix(serve.base), follow_redirects=False).status_code == 303
        poller.cookies = starter.cookies  # one browser: the same cookie on both connections

        def start() -> str:
            page = starter.get("/ui/settings/email/mailbox/new").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf, page[:500]
            resp = starter.post("/ui/settings/email/mailbox/test", headers={"HX-Request": "true"}, data={
                "csrf": csrf.group(1), "email": "info@bakkerij.test", "password": "pw-0123456789",
                "smtp_host": "127.0.0.1", "smtp_port": str(silent.getsockname()[1]), "smtp_security": "starttls"})
            run = re.search(r'name="run_id" id="run-id" value="([\w-]+)"', resp.text)
            assert resp.status_code == 200 and run, resp.text
            return run.group(1)

        def poll(run_id: str, *, until: str, within: float, warm: bool = True) -> str:
            deadline = time.monotonic() + within
            while True:
                page = poller.get(f"/ui/settings/email/runs/{run_id}", headers={"HX-Request": "true"}).text
                assert "Deze test is niet meer beschikbaar" not in page, page
                if until in page:
                    return page
                assert time.monotonic() < deadline, page
                # keeps the starter's keep-alive connection from idling out: a new one could land
                # on the other process, and the kill below would miss the process running the test
                if warm:
                    assert starter.get("/healthz").status_code == 200
                time.sleep(0.3)

        # Followed from the other process while it runs, and to its end (no greeting in 3 s).
        run_id = start()
        running = poll(run_id, until="stage-ok", within=10)
        assert 'hx-get="/ui/settings/email/runs/' in running
        ended = poll(run_id, until="stage-failed", within=20)
        assert 'hx-get="/ui/settings/email/runs/' not in ended, ended

        # The process running the next test is killed: the other one says so, and stops polling.
        run_id = start()
        poll(run_id, until="stage-ok", within=10)
        os.kill(starter_pid, signal.SIGKILL)
        interrupted = poll(run_id, until="De test is onderbroken voordat hij klaar was.", within=60, warm=False)
        assert 'hx-get="/ui/settings/email/runs/' not in interrupted, interrupted
    finally:
        silent.close()
        serve.stop()
