"""Counting orders, not attempts: the store write that sets an order aside is the count.

The order page says "set aside on the dead-letter queue" as soon as the ``failed`` record exists,
so the pipeline counts an order failed for good at that very write, not when SQS gets round to
moving its message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consumer.ports import Store
from lantern.orders import Order, OrderRecord


class SetAsideCounter:
    """A :class:`~consumer.ports.Store` that calls ``on_set_aside`` after each ``failed`` record
    it writes (a refused write, or one that found the order fulfilled, counts nothing)."""

    def __init__(self, store: Store, on_set_aside: Callable[[], None]) -> None:
        self._store, self._on_set_aside = store, on_set_aside

    def record(self, order: Order, status: str, **details: Any) -> bool:
        written = self._store.record(order, status, **details)
        if written and status == "failed":
            self._on_set_aside()
        return written

    def get(self, order_id: str) -> OrderRecord | None:
        return self._store.get(order_id)

    def check(self) -> None:
        self._store.check()
