"""In-memory stand-ins for the consumer's ports, for tests and for trying the worker without AWS.

They keep the real adapters' semantics: the queue hides a received message for its visibility
timeout, counts receives and moves a message to its DLQ past ``max_receive_count``; the store's
write is conditional like the table's. Injected ``failures`` raise the errors botocore raises.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from consumer.ports import Clock, Message
from lantern.aws import client_error
from lantern.envelope import MessageAttributes, encode_order
from lantern.orders import Delivery, Order, OrderRecord, is_text


class _Faults:
    """``failures[method]``: errors to raise, one per call, before the method does anything."""

    failures: dict[str, list[Exception]]

    def _maybe_fail(self, method: str) -> None:
        pending = self.failures.get(method)
        if pending:
            raise pending.pop(0)


@dataclass
class _Queued:
    message_id: str
    body: str
    attributes: MessageAttributes
    sent_at: float  # epoch seconds, as SentTimestamp reports it
    receive_count: int = 0
    first_received_at: float | None = None  # epoch seconds
    visible_at: float = 0.0  # on the queue's clock
    handle: str = ""


@dataclass
class FakeMessages(_Faults):
    """One SQS queue and its dead-letter queue. ``receive`` never waits: an empty queue answers
    at once. ``clock`` drives visibility (time.monotonic, or a test's fake clock)."""

    clock: Clock = time.monotonic
    max_receive: int | None = 5
    queue: str = "orders"
    dlq: str = "orders-dlq"
    failures: dict[str, list[Exception]] = field(default_factory=dict)  # by method, one per call
    visibility_changes: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    _messages: dict[str, _Queued] = field(default_factory=dict)
    _dead: list[_Queued] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def send_order(self, order: Order, attributes: MessageAttributes | None = None) -> str:
        return self.send(encode_order(order), attributes)

    def send(self, body: str, attributes: MessageAttributes | None = None) -> str:
        """Enqueue a body with message attributes (the trace context travels in these)."""
        message_id = f"msg-{next(self._ids)}"
        queued = _Queued(message_id, body, dict(attributes or {}), sent_at=time.time())
        self._messages[message_id] = queued
        return message_id

    def receive(self, batch: int, wait: int, visibility: int) -> list[Message]:
        self._maybe_fail("receive")
        now = self.clock()
        received: list[Message] = []
        for queued in list(self._messages.values()):
            if len(received) == batch:
                break
            if queued.visible_at > now:
                continue
            if self.max_receive and queued.receive_count >= self.max_receive:
                self._dead.append(self._messages.pop(queued.message_id))  # the redrive policy
                continue
            queued.receive_count += 1
            queued.first_received_at = queued.first_received_at or time.time()
            queued.visible_at = now + visibility
            queued.handle = f"{queued.message_id}/{queued.receive_count}"
            received.append(_as_sqs(queued))
        return received

    def delete(self, messages: Sequence[Message]) -> list[str]:
        self._maybe_fail("delete")
        refused = []
        for index, message in enumerate(messages):
            queued = self._by_handle(message["ReceiptHandle"])
            if queued is None:
                refused.append(str(index))
            else:
                del self._messages[queued.message_id]
        return refused

    def change_visibility(self, handles: Sequence[str], seconds: int) -> list[str]:
        self._maybe_fail("change_visibility")
        self.visibility_changes.append((tuple(handles), seconds))
        now = self.clock()
        refused = []
        for handle in handles:
            queued = self._by_handle(handle)
            if queued is None:
                refused.append(handle)
            else:
                queued.visible_at = now + seconds
        return refused

    def depth(self, name: str) -> tuple[int, int]:
        self._maybe_fail("depth")
        if name == self.dlq:
            return len(self._dead), 0
        now = self.clock()
        visible = sum(1 for queued in self._messages.values() if queued.visible_at <= now)
        return visible, len(self._messages) - visible

    def check(self) -> None:
        self._maybe_fail("check")

    def max_receive_count(self) -> int | None:
        return self.max_receive

    @property
    def dead_letters(self) -> list[str]:
        """Ids of the messages the redrive policy moved to the DLQ."""
        return [queued.message_id for queued in self._dead]

    def _by_handle(self, handle: str) -> _Queued | None:
        queued = self._messages.get(handle.split("/", 1)[0])
        return queued if queued is not None and queued.handle == handle else None


def _as_sqs(queued: _Queued) -> dict[str, Any]:
    return {
        "MessageId": queued.message_id,
        "ReceiptHandle": queued.handle,
        "Body": queued.body,
        "MessageAttributes": queued.attributes,
        "Attributes": {
            "ApproximateReceiveCount": str(queued.receive_count),
            "SentTimestamp": str(int(queued.sent_at * 1000)),
            "ApproximateFirstReceiveTimestamp": str(int((queued.first_received_at or 0) * 1000)),
        },
    }


@dataclass
class FakeOrderStore(_Faults):
    """The semantics of :class:`consumer.store.OrderStore`, in a dict."""

    clock: Clock = time.time
    records: dict[str, OrderRecord] = field(default_factory=dict)
    failures: dict[str, list[Exception]] = field(default_factory=dict)  # by method, one per call

    def record(
        self,
        order: Order,
        status: str,
        *,
        message_id: str,
        trace_id: str | None,
        delivery: Delivery | None = None,
    ) -> bool:
        self._maybe_fail("record")
        if not all(is_text(text) for text in (order.customer.name, order.customer.email)):
            raise client_error("ValidationException", "PutItem")  # as DynamoDB refuses it
        found = self.records.get(order.order_id)
        if found is not None and found.status != "failed":
            return False
        self.records[order.order_id] = OrderRecord.of(
            order,
            status,
            message_id=message_id,
            trace_id=trace_id,
            recorded_at=self.clock(),
            delivery=delivery,
        )
        return True

    def get(self, order_id: str) -> OrderRecord | None:
        self._maybe_fail("get")
        return self.records.get(order_id)

    def check(self) -> None:
        self._maybe_fail("check")
