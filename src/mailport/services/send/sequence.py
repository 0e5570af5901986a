"""Event order within one message, without reading the previous event."""

from __future__ import annotations

from typing import Literal

__all__ = ["event_seq"]


def event_seq(attempts: int, step: Literal["between", "sending", "outcome"]) -> int:
    """A message's events in order without reading the previous one: ``queued`` is 0; after
    ``attempts`` attempts a limit deferral or cancel is ``3a+1``; attempt ``n`` is ``3n-1``
    (sending) and ``3n`` (its outcome)."""
    if step == "between":
        return 3 * attempts + 1
    return 3 * attempts - 1 if step == "sending" else 3 * attempts

