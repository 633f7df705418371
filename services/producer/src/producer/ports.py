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
    state: str  # "pending", "sent", or "unknown" (a send that may or may not have enqueued)
    same_request: bool


class SendOutcomeUnknown(RuntimeError):
    """The send may have enqueued the order or not: the request reached SQS (or may have) and
    no answer came back, or an earlier attempt of the SDK's retries did. Sending the same order
    id again is safe: the consumer's conditional write fulfils it once."""


class Queue(Protocol):
    def send(self, order: Order) -> str:
        """Enqueue ``order``; return the message id. Raises botocore errors when the order was
        certainly not enqueued, :class:`SendOutcomeUnknown` when it may have been."""
        ...

    def check(self) -> None:
        """Readiness: raise when the queue cannot be used."""
        ...


class IdempotencyClaims(Protocol):
    def claim(self, key: str, order_id: str, print_: str) -> Claim: ...

    def mark_sent(self, key: str, order_id: str) -> None: ...

    def mark_unknown(self, key: str, order_id: str) -> None: ...

    def release(self, key: str, order_id: str) -> None: ...

    def check(self) -> None: ...
