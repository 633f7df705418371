"""The producer's business metrics, emitted to Prometheus and StatsD together."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from lantern.telemetry.metrics import LATENCY_BUCKETS
from lantern.telemetry.statsd import SafeStatsd


class ProducerSignals:
    def __init__(self, registry: CollectorRegistry, statsd: SafeStatsd) -> None:
        self.registry, self._statsd = registry, statsd
        self._accepted = Counter(
            "orders_accepted", "Orders validated and enqueued to SQS.", registry=registry
        )
        self._rejected = Counter(
            "orders_rejected",
            "Orders refused, by reason (a validation code, or queue_unavailable).",
            ["reason"],
            registry=registry,
        )
        self._send_duration = Histogram(
            "sqs_send_duration_seconds",
            "Duration of SQS SendMessage calls for orders, successful or not.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def accepted(self) -> None:
        self._accepted.inc()
        self._statsd.incr("orders.accepted")

    def rejected(self, reason: str) -> None:
        self._rejected.labels(reason).inc()
        self._statsd.incr(f"orders.rejected.{reason}")

    def sent(self, seconds: float) -> None:
        self._send_duration.observe(seconds)
        self._statsd.timing("sqs.send", seconds)
