"""Pacing connections: a token bucket per server, and the share of accounts one worker holds.

Pure: the caller passes the clock's reading and does the waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["ConnectPacer", "fair_share"]


@dataclass(slots=True)
class ConnectPacer:
    """At most ``rate`` new connections a second per server, in bursts of up to ``burst``.

    A mail server that dropped thousands of connections at once (a restart) sees them come
    back at a steady rate instead of a stampede; so does a worker starting with many accounts.
    """

    rate: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("the connect rate must be positive and the burst at least 1")

    def delay(self, server: str, now: float) -> float:
        """Take a slot for a connection to ``server`` at ``now``; returns how many seconds to
        wait before connecting (0 when a slot is free). Slots are handed out in order, so
        concurrent callers end up spaced ``1 / rate`` apart."""
        tokens, last = self._buckets.get(server, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate) - 1
        self._buckets[server] = (tokens, now)
        if len(self._buckets) > 10_000:  # forget servers that are full again
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.burst - 1}
        return 0.0 if tokens >= 0 else -tokens / self.rate


def fair_share(*, accounts: int, workers: int, limit: int) -> int:
    """How many accounts one of ``workers`` live workers should hold: an even split, rounded up
    (so the workers together cover every account), never more than the worker's own limit."""
    if accounts <= 0:
        return 0
    return min(limit, math.ceil(accounts / max(1, workers)))
