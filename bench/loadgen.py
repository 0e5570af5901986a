"""A lean HTTP/1.1 load generator for the pipeline benchmarks.

Why not httpx: on this 2-core box the benchmark's own client competes with the processes it
measures. httpx cost 2.2 ms of CPU per ``POST /v1/messages`` (request building, JSON encoding of the
base64 attachment, its connection pool) — more than the API process that answered it (1.7 ms). A
host product's requests come from other machines; on one box the load generator should cost as
little as ``wrk`` or ``h2load`` would. This one writes requests serialised before the clock starts
over keep-alive connections and reads only the status line and ``Content-Length`` of each answer:
about 0.05 ms per request. It speaks only what ``mailport serve`` answers with (HTTP/1.1,
``Content-Length`` bodies, keep-alive), and fails loudly on anything else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit


def requests(base: str, path: str, headers: dict[str, str], bodies: Iterable[Any]) -> list[bytes]:
    """Serialised ``POST`` requests, one per JSON body (done before the measured run)."""
    host = urlsplit(base).netloc
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    out = []
    for body in bodies:
        data = json.dumps(body, separators=(",", ":")).encode()
        out.append(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
    return out


class Rejected(RuntimeError):
    """The server answered a request with an unexpected status."""


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one answer (``Content-Length`` framing only)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for header in head.split(b"\r\n")[1:]:
        name, _, value = header.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"transfer-encoding":
            raise Rejected("chunked answers are not read by this load generator")
    return int(head[9:12]), await reader.readexactly(length)


async def post(base: str, prepared: list[bytes], *, concurrency: int = 16, expect: int = 202,
               check: Callable[[bytes], None] | None = None) -> None:
    """Sends every prepared request over ``concurrency`` keep-alive connections, each waiting for
    its answer before the next (closed loop, like the httpx client it replaces)."""
    parts = urlsplit(base)
    work: Iterator[bytes] = iter(prepared)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            for request in work:
                writer.write(request)
                status, body = await _answer(reader)
                if status != expect:
                    raise Rejected(f"{status} {body[:300]!r}")
                if check is not None:
                    check(body)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(concurrency, len(prepared)) or 1)))


def get_requests(base: str, path: str, headers: dict[str, str], count: int) -> list[bytes]:
    """``count`` serialised ``GET`` requests."""
    host = urlsplit(base).netloc
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return [f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode()] * count


async def open_loop(base: str, prepared: list[bytes], *, rate: float, expect: int) -> tuple[list[float], float]:
    """Starts request ``i`` at ``i / rate`` seconds, whatever the answers before it do (a request
    whose time has come takes an idle keep-alive connection or opens one). Returns each
    request's latency in ms counted from its scheduled start, so queueing counts, and the seconds
    the whole run took."""
    import time

    parts = urlsplit(base)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened: list[asyncio.StreamWriter] = []
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def one(i: int, request: bytes) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        if idle:
            reader, writer = idle.pop()
        else:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            opened.append(writer)
        writer.write(request)
        status, body = await _answer(reader)
        if status != expect:
            raise Rejected(f"{status} {body[:300]!r}")
        latencies.append((loop.time() - scheduled) * 1000)
        idle.append((reader, writer))

    began = time.perf_counter()
    try:
        await asyncio.gather(*(one(i, r) for i, r in enumerate(prepared)))
    finally:
        for writer in opened:
            writer.close()
    return latencies, time.perf_counter() - began
