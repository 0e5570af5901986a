"""CPU per accepted message by stage of ``POST /v1/messages/batch`` (the accept table in
``bench_send.py``'s docstring).

Sets up a fresh SQLite installation the way ``batch_accept_rate`` does (``mailport serve`` makes
the tenant and its account, then stops), then drives the ASGI app in this process — no HTTP
server or client — with batches of 100 invoices, 4 requests at a time, the group commit's write
run on the event loop's thread so that one thread's CPU clock (``thread_time``) sees all of it.
Each stage is a wrapped function whose CPU time is summed (exclusive of the stages inside it);
what no stage claims is Starlette/FastAPI, the guard, ``submit_many``'s own bookkeeping and the
garbage collector. Prints µs of CPU per message per stage, the median of ``--runs``. Not part of
``make bench`` (no same-run baseline: it explains the ``batch_accept_rate`` line, it is not one).

Run: ``.venv/bin/python bench/accept_stages.py [--messages 2000] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

import bench_send

_spent: defaultdict[str, int] = defaultdict(int)
_gc_time = [0, 0, 0, 0, 0, 0]  # ns per generation, collections per generation
_gc_started = [0]


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.thread_time_ns()
    else:
        took = time.thread_time_ns() - _gc_started[0]
        _gc_time[info["generation"]] += took
        _gc_time[3 + info["generation"]] += 1
        if _stack:  # not the stage's own work: counted on its own line
            _stack[-1][1] += took


gc.callbacks.append(_gc_callback)
_stack: list[list[int]] = []  # per active stage: [its start, the time its inner stages took]


def _timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        frame = [time.thread_time_ns(), 0]
        _stack.append(frame)
        try:
            return func(*args, **kwargs)
        finally:
            _stack.pop()
            took = time.thread_time_ns() - frame[0]
            _spent[name] += took - frame[1]
            if _stack:
                _stack[-1][1] += took
    return wrapper


def _patch(owner: Any, attr: str, name: str) -> None:
    setattr(owner, attr, _timed(name, getattr(owner, attr)))


def instrument() -> list[str]:
    """Wrap the accept path's stages; returns their names in the order of the table."""
    import pydantic_core
    from sqlalchemy.dialects.postgresql.base import PGDialect
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect
    from sqlalchemy.engine import Connection

    from mailport.adapters import group_commit
    from mailport.api import guard
    from mailport.api.routers import messages
    from mailport.services import tenants
    from mailport.services.send import message_json, submit
    from mailport.services.webhooks import EventLog

    try:
        from mailport.adapters.storage import row_insert
    except ImportError:  # before it existed: the Core INSERTs are Connection.execute
        row_insert = None

    class _Inline:  # the writer thread's work on this thread, so thread_time sees it
        @staticmethod
        async def to_thread(func: Callable[..., Any], *args: Any) -> Any:
            return func(*args)

        def __getattr__(self, name: str) -> Any:
            return getattr(asyncio, name)

    group_commit.asyncio = _Inline()  # type: ignore[assignment]

    async def inline(func: Callable[..., Any], *args: Any) -> Any:
        return func(*args)

    guard.run_in_threadpool = inline  # PostgreSQL's key check: on this thread too
    stages = [
        ("request body: JSON parse (pydantic, whole batch)", messages.BatchIn, "model_validate_json"),
        ("item: pydantic validation, base64 decode", messages, "batch_item"),
        ("single: JSON parse + validation (pydantic)", messages, "_parse"),
        ("single: base64 decode", messages, "decode_attachment"),
        ("API key check (one read)", tenants.TenantService, "check_key"),
        ("API key check (one read)", tenants.TenantService, "authenticate"),
        ("idempotency fingerprint", submit.SendRequest, "fingerprint"),
        ("idempotency replay lookup (one query)", submit.Submissions, "_replays"),
        ("MIME build (build_message)", submit, "build_message"),
        ("sender, draft, rows, view (_prepare)", submit.Submissions, "_prepare"),
        ("events (record_many)", EventLog, "record_many"),
        ("INSERTs (messages, contents, recipients, events, jobs)", Connection, "execute"),
        ("INSERTs (messages, contents, recipients, events, jobs)", row_insert and row_insert.RowInsert, "execute"),
        ("rows to INSERT (_store_all)", submit.Submissions, "_store_all"),
        ("commit", SQLiteDialect, "do_commit"),
        ("commit", PGDialect, "do_commit"),
        ("answer: message_out", messages, "message_out"),
        ("answer: JSON bytes", pydantic_core, "to_json"),
    ]
    for name, owner, attr in stages:
        if owner is not None:
            _patch(owner, attr, name)
    del message_json
    return list(dict.fromkeys(name for name, _, _ in stages))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", type=int, default=100, help="messages per batch")
    parser.add_argument("--postgres", action="store_true",
                        help="a scratch PostgreSQL database (MAILPORT_TEST_PG) instead of SQLite; also counts "
                             "the statements psycopg executes per message")
    parser.add_argument("--single", action="store_true",
                        help="POST /v1/messages one message per request (16 at a time) instead of batches")
    parser.add_argument("--settle-heap", action="store_true",
                        help="gc.freeze() after start-up, as mailport serve does (since issue 14's third pass)")
    parser.add_argument("--profile", help="write a cProfile of the last run to this file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mailport-stages-"))
    url = bench_send.postgres_url() if args.postgres else f"sqlite:///{tmp / 'mailport.db'}"
    if url is None:
        print("# PostgreSQL not reachable")
        return 1
    try:
        return measure(args, tmp, url)
    finally:
        if args.postgres:
            bench_send.drop_postgres(url)


_statements: defaultdict[str, int] = defaultdict(int)


def count_statements() -> None:
    """Count what psycopg executes (an executemany counts once per row, as the server sees it)."""
    import re

    import psycopg

    def kind(query: Any) -> str:
        text = query if isinstance(query, str) else getattr(query, "as_string", lambda _: str(query))(None)
        words = re.sub(r"\s+", " ", text).strip().split(" ")
        table = next((w for w in words[1:6] if w not in ("INTO", "FROM", "*") and w.isidentifier()), "")
        return f"{words[0].upper()} {table}".strip()

    for cls in (psycopg.Cursor,):
        execute, executemany = cls.execute, cls.executemany

        def counted(self: Any, query: Any, *a: Any, _execute: Any = execute, **k: Any) -> Any:
            _statements[kind(query)] += 1
            return _execute(self, query, *a, **k)

        def counted_many(self: Any, query: Any, params: Any, *a: Any, _many: Any = executemany, **k: Any) -> Any:
            params = list(params)
            _statements[kind(query)] += len(params)
            return _many(self, query, params, *a, **k)

        cls.execute = counted  # type: ignore[method-assign]
        cls.executemany = counted_many  # type: ignore[method-assign]
    commit, rollback = psycopg.Connection.commit, psycopg.Connection.rollback

    def counted_commit(self: Any) -> Any:
        _statements["COMMIT"] += 1
        return commit(self)

    def counted_rollback(self: Any) -> Any:
        _statements["ROLLBACK"] += 1
        return rollback(self)

    psycopg.Connection.commit = counted_commit  # type: ignore[method-assign]
    psycopg.Connection.rollback = counted_rollback  # type: ignore[method-assign]


def measure(args: argparse.Namespace, tmp: Path, url: str) -> int:
    with bench_send.sink() as port:
        with bench_send.Installation(data_dir=tmp, database_url=url, workers=0,
                                     embedded=False) as inst:
            headers, account = inst.setup_account(port)
        os.environ.update(inst.env)
        from mailport.api.app import create_app
        from mailport.cli.common import build_runtime

        runtime = build_runtime()
        app = create_app(runtime, embedded_worker=False)
        names = instrument()
        if args.postgres:
            count_statements()
        print(f"# objects tracked by the garbage collector: {len(gc.get_objects()):,}")
        if args.settle_heap:  # as ``mailport serve`` does before it serves
            gc.collect()
            gc.freeze()
        base_headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
                        (b"authorization", headers["Authorization"].encode())]

        async def call(body: bytes) -> None:
            answer: list[Any] = []
            chunks = [body]

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": chunks.pop() if chunks else b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                answer.append(message)

            path = "/v1/messages" if args.single else "/v1/messages/batch"
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                     "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                     "root_path": "", "headers": [*base_headers, (b"content-length", str(len(body)).encode())],
                     "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}, "app": app}
            await app(scope, receive, send)
            if args.single:
                if answer[0]["status"] != 202:
                    raise RuntimeError(answer[1]["body"][:300])
            elif answer[0]["status"] != 200 or json.loads(answer[1]["body"])["failed"]:
                raise RuntimeError(answer[1]["body"][:300])

        def batches(run: int) -> list[bytes]:
            items = [{**bench_send.message_body(account, n), "idempotency_key": f"s{run}-{n}"}
                     for n in range(args.messages)]
            if args.single:  # as the api_accept_p99_ms load: no idempotency key
                return [json.dumps(bench_send.message_body(account, n)).encode() for n in range(args.messages)]
            return [json.dumps({"messages": items[i:i + args.size]}).encode()
                    for i in range(0, len(items), args.size)]

        async def run_once(bodies: list[bytes]) -> int:
            queue = iter(bodies)

            async def one() -> None:
                for body in queue:
                    await call(body)

            _spent.clear()
            _statements.clear()
            _gc_time[:] = [0, 0, 0, 0, 0, 0]
            started = time.thread_time_ns()
            await asyncio.gather(*(one() for _ in range(16 if args.single else 4)))
            return time.thread_time_ns() - started

        async def go() -> None:
            await run_once(batches(-1))  # warm up
            totals: list[float] = []
            per_stage: defaultdict[str, list[float]] = defaultdict(list)
            for run in range(args.runs):
                bodies = batches(run)
                profile = cProfile.Profile() if args.profile and run == args.runs - 1 else None
                if profile is not None:
                    profile.enable()
                total = await run_once(bodies)
                if profile is not None:
                    profile.disable()
                    profile.dump_stats(args.profile)
                totals.append(total / args.messages / 1000)
                for name in names:
                    per_stage[name].append(_spent[name] / args.messages / 1000)
                per_stage["garbage collector"].append(sum(_gc_time[:3]) / args.messages / 1000)
                print(f"# gc collections by generation {_gc_time[3:]}, ms {[round(t / 1e6) for t in _gc_time[:3]]}")
                per_stage["rest: Starlette/FastAPI, guard, submit_many's own loops"].append(
                    (total - sum(_spent.values()) - sum(_gc_time[:3])) / args.messages / 1000)
            shape = "one per POST /v1/messages" if args.single else f"in batches of {args.size}"
            print(f"# {args.messages} messages {shape}, {args.runs} runs; "
                  f"CPU µs per message (the least of the runs: the machine is shared)")
            for name, values in per_stage.items():
                print(f"{min(values):8.1f}  {name}")
            print(f"{min(totals):8.1f}  total (runs: {[round(t) for t in totals]})")
            if _statements:
                print(f"# statements per message (the last run): {sum(_statements.values()) / args.messages:.2f}")
                for name, count in sorted(_statements.items(), key=lambda kv: -kv[1]):
                    print(f"{count / args.messages:8.2f}  {name}")

        asyncio.run(go())
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
