"""Failed-authentication throttling as a pure value: failures per key in a sliding window.

``FailureThrottle`` counts failures per key (a client address, a key prefix); when a key reaches
``max_failures`` within ``window`` seconds it is blocked for ``block`` seconds. Time is passed in,
so the policy is tested with literals. Memory is bounded: the least recently failed keys are
forgotten first beyond ``max_keys``.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass

__all__ = ["FailureThrottle", "ThrottlePolicy"]


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int
    window: float
    block: float

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= 0 or self.block <= 0:
            raise ValueError("a throttle needs max_failures >= 1 and positive window and block")


@dataclass(slots=True)
class _Entry:
    failures: deque[float]
    blocked_until: float = 0.0


class FailureThrottle:
    def __init__(self, policy: ThrottlePolicy, *, max_keys: int = 100_000) -> None:
        self.policy = policy
        self._max_keys = max_keys
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def retry_after(self, key: str, now: float) -> int:
        """Whole seconds until ``key`` may try again; 0 when it is not blocked."""
        entry = self._entries.get(key)
        if entry is None or entry.blocked_until <= now:
            return 0
        return max(1, math.ceil(entry.blocked_until - now))

    def failure(self, key: str, now: float) -> int:
        """Count one failure of ``key``; the block it now has in seconds (0 if none)."""
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(failures=deque())
            while len(self._entries) > self._max_keys:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        horizon = now - self.policy.window
        while entry.failures and entry.failures[0] <= horizon:
            entry.failures.popleft()
        entry.failures.append(now)
        if len(entry.failures) >= self.policy.max_failures:
            entry.blocked_until = now + self.policy.block
            entry.failures.clear()
        return self.retry_after(key, now)

    def __len__(self) -> int:
        return len(self._entries)
