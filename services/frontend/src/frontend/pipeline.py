"""What the pipeline page shows, read from the services' own ``/metrics`` and recent-orders API.

Every figure carries the time it was read: counters when their ``/metrics`` answered, queue
depths when the consumer's reader asked SQS (``sqs_queue_read_timestamp_seconds``). Orders and
attempts are told apart: "done" is orders fulfilled plus orders set aside (failed for good), so
it never passes "accepted" on a fresh shop, while failed attempts are counted on their own.
Counters are cumulative; the page turns them into rates (history: :mod:`frontend.history`).
SQS's API has no "age of the oldest message" (that is CloudWatch's
``ApproximateAgeOfOldestMessage``): the page shows the age messages had when the consumer
picked them up, from the consumer's ``order_message_age_seconds`` histogram.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
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


def _read(fetch: Any, clock: Callable[[], float]) -> tuple[Samples | None, float]:
    """The samples (None when the service did not answer) and when the answer came."""
    try:
        text = fetch()
    except Unavailable:
        return None, clock()
    read_at = clock()
    try:
        return Samples(text), read_at
    except ValueError:
        return None, read_at


def producer_view(samples: Samples | None, read_at: float | None = None) -> dict[str, Any]:
    if samples is None:
        return {"up": False, "accepted": None, "rejected": None, "read_at": None}
    return {
        "up": True,
        "accepted": samples.total("orders_accepted_total") or 0.0,
        "rejected": samples.total("orders_rejected_total") or 0.0,
        "read_at": read_at,
    }


def consumer_view(samples: Samples | None, read_at: float | None = None) -> dict[str, Any]:
    """Orders (fulfilled, set aside, done) apart from attempts (failed, retried, redelivered)."""
    if samples is None:
        return {"up": False, "read_at": None}
    fulfilled = samples.total("orders_processed_total", outcome="fulfilled") or 0.0
    set_aside = samples.total("orders_set_aside_total") or 0.0
    failed = samples.total("orders_processed_total", outcome="failed") or 0.0
    return {
        "up": True,
        "fulfilled": fulfilled,
        "set_aside": set_aside,
        "done": fulfilled + set_aside,
        "attempts_failed": failed,
        # A failed attempt short of the last allowed receive goes back for another try. (A poison
        # message's last attempt is no order set aside, so it shows here as retried too.)
        "retried": max(0.0, failed - set_aside),
        "redelivered": samples.total("orders_processed_total", outcome="redelivered") or 0.0,
        "in_flight": samples.total("orders_in_flight") or 0.0,
        "read_at": read_at,
    }


def queue_depths(samples: Samples | None, queue: str, dlq: str) -> dict[str, Any]:
    """Visible and in-flight messages of the orders queue and the DLQ, each with the time SQS
    was asked (None when unknown). The DLQ's ``total`` adds the orders set aside that SQS has
    not moved yet, so it counts an order as soon as its page says it was set aside."""
    depths: dict[str, Any] = {"queue": None, "dlq": None}
    if samples is None:
        return depths
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for labels, value in samples.labelled("sqs_queue_messages"):
        found[labels.get("queue", "")][labels.get("state", "")] = value
    read_at = {
        labels.get("queue", ""): value
        for labels, value in samples.labelled("sqs_queue_read_timestamp_seconds")
    }
    for key, name in (("queue", queue), ("dlq", dlq)):
        if name in found:
            depths[key] = {
                "visible": found[name].get("visible", 0.0),
                "in_flight": found[name].get("in_flight", 0.0),
                "read_at": read_at.get(name) or None,
            }
    if depths["dlq"] is not None:
        awaiting = samples.total("orders_awaiting_dlq") or 0.0
        dlq_view = depths["dlq"]
        dlq_view["awaiting"] = awaiting
        dlq_view["total"] = dlq_view["visible"] + dlq_view["in_flight"] + awaiting
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
    watched: bool = True,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """One JSON-ready reading of the pipeline; a service that is down reads as ``up: false``.

    ``watched``: somebody has the page open. Only then is the consumer's recent list read, and
    that read (first, so its queue reader starts at once) asks the consumer to read SQS about
    every second; unwatched readings keep the history going at no cost to SQS."""
    recent: list[dict[str, Any]] | None = None
    consumer_down = False
    if watched:
        try:
            recent = recent_orders(consumer.recent(), trace_template)
        except Unavailable:
            recent, consumer_down = [], True  # do not wait for it twice
    producer_samples, producer_at = _read(producer.metrics_text, clock)
    consumer_samples, consumer_at = (
        (None, clock()) if consumer_down else _read(consumer.metrics_text, clock)
    )
    return {
        "at": clock(),
        "producer": producer_view(producer_samples, producer_at),
        "consumer": consumer_view(consumer_samples, consumer_at),
        **queue_depths(consumer_samples, queue, dlq),
        "age": message_age(consumer_samples),
        "recent": recent or [],
        "recent_at": consumer_at if recent is not None else None,
    }
