"""CPU per message by stage of the initial inbox sync (the table in ``bench_imap.py``'s docstring).

Starts the lab Dovecot (tmpfs), writes the 10,000 bench messages into a fresh mailbox, captures
Dovecot's answer to the sync's own ``UID FETCH`` of them (``--no-preview``: the body-prefix items
servers without PREVIEW get), then replays that answer through each stage in this one thread:
wire framing, FETCH response parsing, summaries (``FetchedMessage``), storing into a fresh SQLite
store on tmpfs (500 to a transaction). Prints ms of CPU (``process_time``) per message for each
stage, the median of ``--runs``. Not part of ``make bench`` (no same-run baseline: it explains the
``imap_initial_sync`` line, it is not one).
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src"), str(ROOT / "bench")]

from bench_imap import PASSWORD, fill_maildir, index_mailbox, runtime_for

from lab.mail import MailLab
from lab.tls import LabCA
from mailport.adapters.imap import SyncSession
from mailport.adapters.imap import sync as imap_sync
from mailport.adapters.imap.wire import Record, Wire
from mailport.adapters.storage.inbox_repository import InboxRepository
from mailport.services.inbox_store import StoreTarget


class _Capabilities:
    """What ``SyncSession`` asks its session while building the FETCH items."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self._wire = None

    def has_capability(self, name: str) -> bool:
        return name in self.names


def sync_items(lab: MailLab, email: str, *, preview: bool) -> bytes:
    """The item list the sync sends for a first sync of this server (lazy snippets), from the
    capabilities it announces once logged in."""
    with socket.create_connection((lab.host, lab.imap_port)) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(f'a LOGIN "{email}" "{PASSWORD}"\r\nb CAPABILITY\r\n'.encode())
        while not (line := reader.readline()).startswith(b"* CAPABILITY "):
            pass
        names = set(line.decode().split()[2:])
    if not preview:
        names -= {"PREVIEW", "SNIPPET=FUZZY"}
    session = SyncSession(_Capabilities(names))  # type: ignore[arg-type]
    session.qresync_enabled = "QRESYNC" in names
    return session._summary_items(lazy=True)


def capture(lab: MailLab, email: str, items: bytes) -> bytes:
    """Dovecot's whole answer to ``UID FETCH 1:* items`` (untagged lines and literals)."""
    with socket.create_connection((lab.host, lab.imap_port)) as sock:
        reader = sock.makefile("rb")
        reader.readline()

        def command(tag: bytes, text: bytes) -> bytes:
            sock.sendall(tag + b" " + text + b"\r\n")
            out = bytearray()
            while True:
                line = reader.readline()
                out += line
                if line.endswith(b"}\r\n"):
                    out += reader.read(int(line[line.rindex(b"{") + 1:-3].rstrip(b"+")))
                elif line.startswith(tag + b" "):
                    return bytes(out)

        command(b"a", f'LOGIN "{email}" "{PASSWORD}"'.encode())
        command(b"b", b"EXAMINE INBOX")
        return command(b"M0001", b"UID FETCH 1:* " + items)


def frame(answer: bytes) -> list[Record]:
    wire = Wire.__new__(Wire)  # only its buffer: no connection
    wire._buf, wire._pos, wire._need = bytearray(answer), 0, 0
    records: list[Record] = []
    while (record := wire.take_record("bench")) is not None:
        first = record[0]
        head = first if isinstance(first, bytes) else first[0]
        if head.startswith(b"* "):
            record[0] = head[2:] if isinstance(first, bytes) else (head[2:], first[1])
            records.append(record)
    return records


def _parse_all(records: list[Record]) -> list[Any]:
    shapes: list[Any] = []  # as SyncSession.stream_summaries reads its answer
    return [imap_sync._summary_data(r, shapes) for r in records]


def _summaries(data: list[Any]) -> list[Any]:
    return [imap_sync._fetched(d) for d in data]


def _store_all(rt: Any, target: StoreTarget, fetched: list[Any]) -> None:
    for start in range(0, len(fetched), 500):
        rt.inbox_store.store_batch(target, fetched[start:start + 500], {}, {})


def measure(lab: MailLab, answer: bytes, work: Path, runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {}

    def timed(name: str, step: Callable[[], Any]) -> Any:
        gc.collect()
        started = time.process_time()
        result = step()
        times.setdefault(name, []).append(time.process_time() - started)
        return result

    count = 0
    for run in range(runs):
        records = [r for r in timed("wire framing", partial(frame, answer)) if imap_sync._is_fetch(r)]
        count = len(records)
        data = timed("FETCH response parsing", partial(_parse_all, records))
        fetched = timed("summaries (summarize, FetchedMessage)", partial(_summaries, data))
        rt = runtime_for(lab, work / f"store{run}")
        try:
            tenant = rt.tenants.create(name="Stages").tenant.id
            with rt.db.session() as s:
                folder = InboxRepository(s).folder(tenant_id=tenant, account_id="acc", name="INBOX", role="inbox").id
            target = StoreTarget(tenant_id=tenant, account_id="acc", folder_id=folder, role="inbox", uidvalidity=1,
                                 announce=False)
            timed("storing (rows, JSON, executemany, commit)", partial(_store_all, rt, target, fetched))
        finally:
            rt.close()
    return {name: sorted(values)[len(values) // 2] / count * 1e3 for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-preview", action="store_true", help="the items of a server without PREVIEW")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailport-imap-stages-") as tmp:
        work = Path(tmp)
        shm = Path("/dev/shm")  # the lab on tmpfs, as in bench_imap.py (the lab user needs to reach it)
        tempfile.tempdir = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        try:
            lab = MailLab(LabCA(work / "ca"))
        finally:
            tempfile.tempdir = None
        with lab:
            email = "stages@example.test"
            lab.add_user(email, PASSWORD)
            fill_maildir(lab, email, args.messages)
            index_mailbox(lab, email)
            items = sync_items(lab, email, preview=not args.no_preview)
            answer = capture(lab, email, items)
            print(f"# UID FETCH 1:* {items.decode()}: {len(answer):,} bytes", flush=True)
            with tempfile.TemporaryDirectory(prefix="mailport-imap-stages-store-",
                                             dir=tempfile.gettempdir() if not shm.is_dir() else shm) as stores:
                stages = measure(lab, answer, Path(stores), args.runs)  # SQLite on tmpfs too
    for name, ms in stages.items():
        print(f"{name:42s} {ms:.4f} ms CPU per message")
    print(f"{'total':42s} {sum(stages.values()):.4f} ms CPU per message")


if __name__ == "__main__":
    main()
