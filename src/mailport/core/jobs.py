"""What a job handler answers: the queue's vocabulary, shared by the services and the worker.

A handler returns :class:`Done`, :class:`Retry` (run again at ``run_at``) or :class:`Fail`
(permanently). These are plain values so that services can decide without knowing the worker
that runs them. :class:`Settled` wraps one of them when the handler already wrote it, in the
transaction that recorded its work (a send's outcome and its job's end commit together), so the
worker has nothing left to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Done", "Fail", "JobResult", "Retry", "Settled"]


@dataclass(frozen=True, slots=True)
class Done:
    pass


@dataclass(frozen=True, slots=True)
class Retry:
    run_at: datetime
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Fail:
    error: str


@dataclass(frozen=True, slots=True)
class Settled:
    result: Done | Retry | Fail


JobResult = Done | Retry | Fail | Settled
