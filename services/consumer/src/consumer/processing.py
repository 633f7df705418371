"""Processing one order message: decode, do the work, record the outcome exactly once.

Returns an outcome instead of raising, so a failure in one message never disturbs its batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consumer.ports import Message, Store
from consumer.signals import ConsumerSignals
from lantern.envelope import PoisonMessage, decode_order
from lantern.logs import bind, current_trace_ids, get_logger, log_context
from lantern.orders import Delivery, Order
from lantern.telemetry.messaging import MessageSpan, MessagingTracer

log = get_logger("consumer.orders")


@dataclass(frozen=True)
class Outcome:
    name: str  # fulfilled | redelivered | failed
    settled: bool  # True: delete the message; False: leave it for redelivery / the DLQ


FULFILLED = Outcome("fulfilled", settled=True)
REDELIVERED = Outcome("redelivered", settled=True)
FAILED = Outcome("failed", settled=False)


def receive_count(message: Message) -> int:
    return int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))


def message_age_seconds(message: Message, now: float) -> float | None:
    sent_ms = (message.get("Attributes") or {}).get("SentTimestamp")
    return max(0.0, now - int(sent_ms) / 1000.0) if sent_ms else None


def _epoch_attribute(message: Message, name: str) -> float | None:
    """A millisecond timestamp system attribute, in epoch seconds (None when absent or 0)."""
    raw = (message.get("Attributes") or {}).get(name)
    try:
        millis = int(raw) if raw else 0
    except ValueError:
        return None
    return millis / 1000.0 if millis > 0 else None


def delivery_of(message: Message, started_at: float, worked_at: float | None) -> Delivery:
    """What the record keeps of how ``message`` got here (see :class:`lantern.orders.Delivery`)."""
    return Delivery(
        sent_at=_epoch_attribute(message, "SentTimestamp"),
        first_received_at=_epoch_attribute(message, "ApproximateFirstReceiveTimestamp"),
        receive_count=receive_count(message),
        started_at=started_at,
        worked_at=worked_at,
    )


class RecentOrders:
    """The last few processed messages of this process, for the storefront's pipeline page."""

    def __init__(self, size: int = 50) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._items.appendleft(entry)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)


class OrderProcessor:
    def __init__(
        self,
        store: Store,
        messaging: MessagingTracer,
        signals: ConsumerSignals,
        queue_name: str,
        work: Callable[[Order], None],
        max_receive_count: Callable[[], int | None],
        recent: RecentOrders | None = None,
    ) -> None:
        self._store, self._messaging, self._signals = store, messaging, signals
        self._queue, self._work, self._max_receive = queue_name, work, max_receive_count
        self.recent = recent or RecentOrders()

    def handle(self, message: Message) -> Outcome:
        started = time.perf_counter()
        age = message_age_seconds(message, time.time())
        if age is not None:
            self._signals.message_age(age)
        self._signals.in_flight(1)
        try:
            with (
                log_context(
                    message_id=message.get("MessageId"),
                    receive_count=receive_count(message),
                    age_ms=None if age is None else round(age * 1000, 1),
                ),
                self._messaging.process(self._queue, message) as span,
            ):
                outcome, order_id = self._process(message, span)
                elapsed = time.perf_counter() - started
                span.set_attribute("lantern.outcome", outcome.name)
                # Logged inside the span so the line carries the order's trace id.
                self._report(outcome, order_id, elapsed)
        finally:
            self._signals.in_flight(-1)
        self._signals.processed(outcome.name, elapsed)
        return outcome

    def _report(self, outcome: Outcome, order_id: str | None, elapsed: float) -> None:
        duration_ms = round(elapsed * 1000, 2)
        self.recent.add(
            {
                "order_id": order_id,
                "outcome": outcome.name,
                "trace_id": current_trace_ids()[0],
                "processed_at": time.time(),
                "duration_ms": duration_ms,
            }
        )
        level = logging.WARNING if outcome is FAILED else logging.INFO
        log.log(level, "order processed", outcome=outcome.name, duration_ms=duration_ms)

    def _process(self, message: Message, span: MessageSpan) -> tuple[Outcome, str | None]:
        """The outcome, and the order id when the body could be read."""
        try:
            order = decode_order(message.get("Body", ""))
        except PoisonMessage as exc:
            span.record_failure(exc)
            bind(reason="poison", error=str(exc)[:200])
            return FAILED, None
        bind(order_id=order.order_id)
        span.set_attribute("lantern.order.id", order.order_id)
        trace_id = current_trace_ids()[0]
        started_at, worked_at = time.time(), None
        try:
            self._work(order)
            worked_at = time.time()
            first = self._store.record(
                order,
                "fulfilled",
                message_id=str(message.get("MessageId")),
                trace_id=trace_id,
                delivery=delivery_of(message, started_at, worked_at),
            )
        except Exception as exc:  # noqa: BLE001 - any failure leaves the message for redelivery
            span.record_failure(exc)
            bind(reason=type(exc).__name__, error=str(exc)[:200])
            delivery = delivery_of(message, started_at, worked_at or time.time())
            self._record_final_failure(order, message, trace_id, delivery)
            return FAILED, order.order_id
        return (FULFILLED if first else REDELIVERED), order.order_id

    def _record_final_failure(
        self, order: Order, message: Message, trace_id: str | None, delivery: Delivery
    ) -> None:
        """On the last attempt before the DLQ, leave a ``failed`` record the shop can show. When
        the store refuses the order itself (text it cannot hold), its sanitised copy is
        recorded, so the shop says "failed" rather than "queued" forever."""
        limit = self._max_receive()
        if limit is None or receive_count(message) < limit:
            return
        message_id = str(message.get("MessageId"))
        for candidate in dict.fromkeys((order, order.sanitised())):
            try:
                self._store.record(
                    candidate,
                    "failed",
                    message_id=message_id,
                    trace_id=trace_id,
                    delivery=delivery,
                )
            except Exception:
                log.debug("failed record not written", exc_info=True)
            else:
                return
