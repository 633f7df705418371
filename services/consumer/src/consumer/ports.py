"""The consumer's ports: what the worker, the processor and the API need from SQS and the table.

The real adapters (:mod:`consumer.sqs`, :mod:`consumer.store`) and the in-memory fakes
(:mod:`consumer.fakes`) both satisfy these, so every part can be built with either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lantern.orders import Delivery, Order, OrderRecord

Message = Mapping[str, Any]  # one SQS message as ReceiveMessage returns it
Clock = Callable[[], float]  # seconds; time.time for wall time, time.monotonic for intervals


class Messages(Protocol):
    def receive(self, batch: int, wait: int, visibility: int) -> list[Message]:
        """Up to ``batch`` messages, hidden from other receivers for ``visibility`` seconds."""
        ...

    def delete(self, messages: Sequence[Message]) -> list[str]:
        """Delete settled messages; return the batch entry ids that were refused."""
        ...

    def change_visibility(self, handles: Sequence[str], seconds: int) -> list[str]:
        """Hide ``handles`` for ``seconds`` from now; return the handles SQS refused."""
        ...

    def depth(self, name: str) -> tuple[int, int]:
        """(visible, in flight) message counts of the named queue."""
        ...

    def check(self) -> None: ...

    def max_receive_count(self) -> int | None:
        """Receives before the redrive policy moves a message to the DLQ (None: no DLQ)."""
        ...


class Store(Protocol):
    def record(
        self,
        order: Order,
        status: str,
        *,
        message_id: str,
        trace_id: str | None,
        delivery: Delivery | None = None,
    ) -> bool:
        """Write the outcome (with how its message got here); False when the order was already
        fulfilled (a redelivery)."""
        ...

    def get(self, order_id: str) -> OrderRecord | None: ...

    def check(self) -> None: ...
