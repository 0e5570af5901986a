"""Who this worker process is, and whether another worker's process is certainly gone.

Linux only (``/proc``); elsewhere every worker gets a node key of its own, so no peer is ever
judged dead this way and the lease decides, as for a worker on another host.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from functools import cache
from pathlib import Path

from mailport.core.leases import WorkerId

__all__ = ["process_gone", "this_worker_id", "worker_id_of"]

_PROC = Path("/proc")


@cache
def _node() -> str:
    """One kernel boot and PID namespace: where PIDs mean the same process."""
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat(_PROC / "self/ns/pid").st_ino
    except OSError:
        return secrets.token_hex(6)  # nobody shares it: peers are left to the lease
    return hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:12]


def _started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of ``/proc/<pid>/stat``)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ")".
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def this_worker_id() -> WorkerId:
    return worker_id_of(os.getpid())


def worker_id_of(pid: int) -> WorkerId:
    """The worker id process ``pid`` of this node has (or would have)."""
    return WorkerId(host=socket.gethostname(), node=_node(), started=_started(pid) or 0, pid=pid)


def process_gone(holder: WorkerId) -> bool:
    """True only when ``holder`` ran on this node and its process no longer exists (the PID is
    free, a zombie, or now another process). Unknown is not gone."""
    if holder.node != _node():
        return False
    started = _started(holder.pid)
    if started is None:
        return True
    if started != holder.started:
        return True  # the PID was reused by a later process
    try:
        state = (_PROC / str(holder.pid) / "stat").read_text()
    except OSError:
        return True
    return state[state.rfind(")") + 2:].startswith("Z")  # killed, not yet reaped by its parent
