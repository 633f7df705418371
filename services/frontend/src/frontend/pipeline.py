"""What the pipeline page shows, read from the services' own ``/metrics`` and recent-orders API.

Counters are cumulative; the page's script turns two snapshots into rates, so the server keeps
no history and any worker or replica can answer. SQS's API has no "age of the oldest message"
(that is CloudWatch's ``ApproximateAgeOfOldestMessage``): the page shows the age messages had
when the consumer picked them up, from the consumer's ``order_message_age_seconds`` histogram.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from frontend.clients import OrderIntake, OrderStatus, Unavailable
from frontend.tracelinks import trace_url
from lantern.orders import is_order_id

RECENT_LIMIT = 10


class Samples:
    """Prometheus samples by name, each with its labels."""

    def __init__(self, text: str) -> None:
        self._by_name: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self._by_name[sample.name].append((dict(sample.labels), float(sample.value)))

    def total(self, name: str, **labels: str) -> float | None:
        """Sum of the samples named ``name`` whose labels include ``labels``; None if absent."""
        values = [
            value
            for sample_labels, value in self._by_name.get(name, [])
            if all(sample_labels.get(key) == wanted for key, wanted in labels.items())
        ]
        return sum(values) if values else None

    def labelled(self, name: str) -> list[tuple[dict[str, str], float]]:
        return list(self._by_name.get(name, []))


def _read(fetch: Any) -> Samples | None:
    try:
        return Samples(fetch())
    except (Unavailable, ValueError):
        return None


def producer_view(samples: Samples | None) -> dict[str, Any]:
    if samples is None:
        return {"up": False, "accepted": None, "rejected": None}
    return {
        "up": True,
        "accepted": samples.total("orders_accepted_total") or 0.0,
        "rejected": samples.total("orders_rejected_total") or 0.0,
    }


def consumer_view(samples: Samples | None) -> dict[str, Any]:
    if samples is None:
        return {"up": False}
    outcomes = {
        outcome: samples.total("orders_processed_total", outcome=outcome) or 0.0
        for outcome in ("fulfilled", "failed", "redelivered")
    }
    return {
        "up": True,
        **outcomes,
        "processed": sum(outcomes.values()),
        "in_flight": samples.total("orders_in_flight") or 0.0,
    }


def queue_depths(samples: Samples | None, queue: str, dlq: str) -> dict[str, Any]:
    """Visible and in-flight messages of the orders queue and the DLQ (None when unknown)."""
    depths: dict[str, Any] = {"queue": None, "dlq": None}
    if samples is None:
        return depths
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for labels, value in samples.labelled("sqs_queue_messages"):
        found[labels.get("queue", "")][labels.get("state", "")] = value
    for key, name in (("queue", queue), ("dlq", dlq)):
        if name in found:
            depths[key] = {
                "visible": found[name].get("visible", 0.0),
                "in_flight": found[name].get("in_flight", 0.0),
            }
    return depths


def message_age(samples: Samples | None) -> dict[str, Any] | None:
    """The pickup-age histogram: count, sum and cumulative buckets ``[[upper_bound, count]]``."""
    if samples is None:
        return None
    count = samples.total("order_message_age_seconds_count")
    total = samples.total("order_message_age_seconds_sum")
    if count is None or total is None:
        return None
    buckets: dict[float, float] = defaultdict(float)
    for labels, value in samples.labelled("order_message_age_seconds_bucket"):
        bound = float(labels.get("le", "nan"))
        if not math.isnan(bound):
            buckets[bound] += value
    return {
        "count": count,
        "sum": total,
        "buckets": [
            [bound if math.isfinite(bound) else None, buckets[bound]] for bound in sorted(buckets)
        ],
    }


# The public pipeline page names an order by its first 8 hex digits: enough to tell rows apart
# and to find your own, far too little to open anybody's order page (that takes all 32).
ORDER_REF_CHARS = len("ord_") + 8


def order_ref(order_id: str) -> str:
    return order_id[:ORDER_REF_CHARS] + "…"


def recent_orders(
    items: Iterable[dict[str, Any]], trace_template: str | None
) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        order_id = item.get("order_id")
        ref = order_ref(order_id) if isinstance(order_id, str) and is_order_id(order_id) else None
        trace_id = item.get("trace_id")
        rows.append(
            {
                "order_ref": ref,
                "outcome": str(item.get("outcome", "unknown"))[:32],
                "trace_id": trace_id if isinstance(trace_id, str) else None,
                "trace_url": trace_url(trace_template, trace_id),
                "processed_at": _number(item.get("processed_at")),
                "duration_ms": _number(item.get("duration_ms")),
            }
        )
        if len(rows) >= RECENT_LIMIT:
            break
    return rows


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def snapshot(
    producer: OrderIntake,
    consumer: OrderStatus,
    *,
    queue: str,
    dlq: str,
    trace_template: str | None,
) -> dict[str, Any]:
    """One JSON-ready reading of the pipeline; a service that is down reads as ``up: false``."""
    producer_samples = _read(producer.metrics_text)
    consumer_samples = _read(consumer.metrics_text)
    recent: list[dict[str, Any]] = []
    if consumer_samples is not None:  # do not wait twice for a consumer that is down
        try:
            recent = recent_orders(consumer.recent(), trace_template)
        except Unavailable:
            pass
    return {
        "at": time.time(),
        "producer": producer_view(producer_samples),
        "consumer": consumer_view(consumer_samples),
        **queue_depths(consumer_samples, queue, dlq),
        "age": message_age(consumer_samples),
        "recent": recent,
    }
