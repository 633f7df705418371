"""The producer's ports: what the service layer needs from a queue and an idempotency store.

The real adapters (:mod:`producer.sqs`, :mod:`producer.idempotency`) and the in-memory fakes
(:mod:`producer.fakes`) both satisfy these, so the service and the API can be built with either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from lantern.orders import Order

STALE_CLAIM_SECONDS = 30
Clock = Callable[[], float]  # seconds since the epoch, like time.time


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: ours to send, or a previous request's result."""

    order_id: str
    replayed: bool
    state: str  # "pending" or "sent"
    same_request: bool


class Queue(Protocol):
    def send(self, order: Order) -> str:
        """Enqueue ``order``; return the message id. Raises botocore errors on failure."""
        ...

    def check(self) -> None:
        """Readiness: raise when the queue cannot be used."""
        ...


class IdempotencyClaims(Protocol):
    def claim(self, key: str, order_id: str, print_: str) -> Claim: ...

    def mark_sent(self, key: str, order_id: str) -> None: ...

    def release(self, key: str, order_id: str) -> None: ...

    def check(self) -> None: ...
