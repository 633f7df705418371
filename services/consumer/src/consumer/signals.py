"""The consumer's business metrics, emitted to Prometheus and StatsD together."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from lantern.telemetry.metrics import LATENCY_BUCKETS
from lantern.telemetry.statsd import SafeStatsd

OUTCOMES = ("fulfilled", "failed", "redelivered")
# Message age spans milliseconds (idle pipeline) to many minutes (a backlog lab).
AGE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class ConsumerSignals:
    def __init__(self, registry: CollectorRegistry, statsd: SafeStatsd) -> None:
        self.registry, self._statsd = registry, statsd
        self._processed = Counter(
            "orders_processed",
            "Order messages handled, by outcome: fulfilled (first time), redelivered "
            "(already fulfilled, deleted again), failed (left for redelivery or the DLQ).",
            ["outcome"],
            registry=registry,
        )
        self._duration = Histogram(
            "order_processing_duration_seconds",
            "Time to process one order message, from decode to store write.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._age = Histogram(
            "order_message_age_seconds",
            "Age of an order message when processing starts (now - SQS SentTimestamp).",
            buckets=AGE_BUCKETS,
            registry=registry,
        )
        self._in_flight = Gauge(
            "orders_in_flight",
            "Order messages being processed right now, across worker processes.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._depth = Gauge(
            "sqs_queue_messages",
            "Approximate number of messages in a queue, by queue and state (visible, in_flight).",
            ["queue", "state"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._set_aside = Counter(
            "orders_set_aside",
            "Orders failed for good: their last allowed attempt (maxReceiveCount) failed, so "
            "they were recorded failed and left for SQS to move to the DLQ.",
            registry=registry,
        )
        self._awaiting_dlq = Gauge(
            "orders_awaiting_dlq",
            "Orders set aside that the DLQ's depth does not show yet (SQS moves a message "
            "at a receive after its last retry delay), summed over worker processes.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._depth_read_at = Gauge(
            "sqs_queue_read_timestamp_seconds",
            "When the sqs_queue_messages reading of a queue was taken (Unix time).",
            ["queue"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        for outcome in OUTCOMES:
            self._processed.labels(outcome)

    def processed(self, outcome: str, seconds: float) -> None:
        self._processed.labels(outcome).inc()
        self._duration.observe(seconds)
        self._statsd.incr(f"orders.processed.{outcome}")
        self._statsd.timing("orders.processing", seconds)

    def message_age(self, seconds: float) -> None:
        self._age.observe(seconds)
        self._statsd.timing("orders.message_age", seconds)

    def set_aside(self) -> None:
        """One order failed for good (Prometheus only: the attempt is already in StatsD)."""
        self._set_aside.inc()

    def awaiting_dlq(self, count: int) -> None:
        self._awaiting_dlq.set(count)

    def in_flight(self, delta: int) -> None:
        self._in_flight.inc(delta)

    def queue_depth(self, queue: str, visible: int, in_flight: int, read_at: float) -> None:
        self._depth.labels(queue, "visible").set(visible)
        self._depth.labels(queue, "in_flight").set(in_flight)
        self._depth_read_at.labels(queue).set(read_at)
        self._statsd.gauge(f"queue.{queue}.visible", visible)
