"""Process-local send metrics, exported by ``/metrics`` beside the database-wide gauges."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["SendMetrics"]


class SendMetrics:
    """Process-local send metrics (the embedded worker's, or one ``mailport worker``'s)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.attempt_seconds = Histogram(
            "mailport_send_attempt_seconds", "Duration of one SMTP attempt (connect to last reply).",
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.latency_seconds = Histogram(
            "mailport_send_latency_seconds", "From accepted (or send_at) to accepted by the server.",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
        )
        self.attempts = Counter(
            "mailport_send_attempts", "SMTP attempts by resulting state and diagnosis code.",
            ["state", "code"], registry=self.registry,
        )
