"""The one lease rule of the job queue, and how a worker names itself so a crash is noticed.

A worker claims a job for ``LeasePolicy.duration`` and renews every job it holds with one
heartbeat every ``LeasePolicy.heartbeat`` (``jobs.renewed_at``). Three questions follow, answered
here for the SQL in ``adapters/queue.py`` and for the tests alike:

* **Claimable** (:func:`is_claimable`): ``ready`` and due, or ``running`` with ``locked_until``
  passed — the holder stopped renewing for a whole lease. That long wait is only for a worker
  that vanished without a trace (a partitioned or frozen host): it may still be sending, and a
  second delivery is what the wait avoids.
* **Holds a slot** (:func:`holds_slot`): a running job counts toward its account's concurrency
  only while its lease is *renewed* — ``renewed_at`` within ``silent_after``. A dead worker's
  jobs stop blocking its mailbox within seconds, not after the lease.
* **Known dead** (:class:`WorkerId`): a worker id carries the host, a node key (boot + PID
  namespace) and the process's start time. Another worker on the same node can then tell for
  certain that the holder's process is gone (a restarted ``mailport serve``, a killed worker
  next to a live one) and release its jobs at once, ahead of the backlog
  (:data:`RECOVERED_RUN_AT`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mailport.errors import ValidationError

__all__ = [
    "RECOVERED_RUN_AT",
    "LeasePolicy",
    "WorkerId",
    "holds_slot",
    "is_claimable",
]

RECOVERED_RUN_AT = datetime(2000, 1, 1, tzinfo=UTC)
"""``run_at`` of a job released from a dead worker: due before every job of the backlog, so a
message cut off by a crash goes out first (the claim orders by ``run_at``)."""


@dataclass(frozen=True, slots=True)
class LeasePolicy:
    """How long a claim lasts, how often it is renewed, and when a holder counts as silent."""

    duration: timedelta = timedelta(seconds=60)
    heartbeat: timedelta = timedelta(seconds=2)
    silent_after: timedelta = timedelta(seconds=10)

    def __post_init__(self) -> None:
        if not timedelta(0) < self.heartbeat < self.silent_after:
            raise ValidationError("the heartbeat must be positive and shorter than silent_after",
                                  field="heartbeat")
        if self.duration < self.silent_after:
            raise ValidationError("a lease must last at least silent_after", field="duration")

    @classmethod
    def for_lease(cls, seconds: float) -> LeasePolicy:
        """The policy for a configured lease: heartbeat ≤ 2 s and a fifth of it, silence after
        five missed heartbeats (a busy database may delay one or two)."""
        duration = timedelta(seconds=seconds)
        heartbeat = min(timedelta(seconds=2), duration / 5)
        return cls(duration=duration, heartbeat=heartbeat, silent_after=heartbeat * 5)

    def until(self, now: datetime) -> datetime:
        """``locked_until`` of a claim or renewal made at ``now``."""
        return now + self.duration

    def live_since(self, now: datetime) -> datetime:
        """A lease renewed at or after this instant belongs to a live worker."""
        return now - self.silent_after


def is_claimable(*, state: str, run_at: datetime, locked_until: datetime | None,
                 now: datetime) -> bool:
    """The claim query's predicate (``adapters/queue.py`` says the same in SQL)."""
    if state == "ready":
        return run_at <= now
    if state == "running":
        return locked_until is None or locked_until < now
    return False


def holds_slot(*, state: str, locked_until: datetime | None, renewed_at: datetime | None,
               now: datetime, policy: LeasePolicy) -> bool:
    """Whether a job counts toward its account's concurrency: running, and its lease neither run
    out nor left unrenewed for ``silent_after``."""
    if state != "running" or locked_until is None or locked_until < now:
        return False
    return renewed_at is not None and renewed_at >= policy.live_since(now)


_WORKER_ID = re.compile(r"^(?P<host>[^:]*):(?P<node>[0-9a-f]{12})\.(?P<started>\d+):(?P<pid>\d+)$")


@dataclass(frozen=True, slots=True)
class WorkerId:
    """``host:node.started:pid`` — what ``jobs.locked_by`` holds.

    ``node`` identifies one kernel and PID namespace (two containers on one host differ);
    ``started`` is the process's start time in the kernel's clock ticks, so a PID reused by a
    later process is not mistaken for the holder. The PID stays last (``id.rsplit(":", 1)``).
    """

    host: str
    node: str
    started: int
    pid: int

    def __str__(self) -> str:
        return f"{self.host[:60]}:{self.node}.{self.started}:{self.pid}"

    @classmethod
    def parse(cls, value: str | None) -> WorkerId | None:
        """The id, or ``None`` for ids without a node (other tools, older versions)."""
        match = _WORKER_ID.match(value or "")
        if match is None:
            return None
        return cls(host=match["host"], node=match["node"], started=int(match["started"]),
                   pid=int(match["pid"]))

    def same_node(self, other: WorkerId) -> bool:
        return self.node == other.node
