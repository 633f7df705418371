"""The storefront's business metrics, emitted to Prometheus and StatsD together."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from lantern.telemetry.statsd import SafeStatsd

# placed: the producer accepted it; invalid: the form or the cart was refused (by us or by the
# producer); paused: the producer or its queue was unreachable, nothing was ordered;
# unconfirmed: it may have been placed (retried with the same key, still no answer); error: any
# other answer.
CHECKOUT_OUTCOMES = ("placed", "invalid", "paused", "unconfirmed", "error")


class FrontendSignals:
    def __init__(self, registry: CollectorRegistry, statsd: SafeStatsd) -> None:
        self._statsd = statsd
        self._checkouts = Counter(
            "checkouts",
            "Checkout form submissions, by outcome: placed, invalid, paused (ordering "
            "unavailable, cart kept), unconfirmed (it may have been placed), error.",
            ["outcome"],
            registry=registry,
        )
        for outcome in CHECKOUT_OUTCOMES:
            self._checkouts.labels(outcome)

    def checkout(self, outcome: str) -> None:
        self._checkouts.labels(outcome).inc()
        self._statsd.incr(f"checkouts.{outcome}")
