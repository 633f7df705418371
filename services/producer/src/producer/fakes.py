"""In-memory stand-ins for the producer's ports, for tests and for trying the API without AWS.

They keep the real adapters' semantics (the contract tests run the same cases against both) and
fail with the same botocore errors, so the service layer cannot tell them apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lantern.aws import client_error
from lantern.orders import Order
from producer.ports import STALE_CLAIM_SECONDS, Claim, Clock, SendOutcomeUnknown


class FakeQueue:
    """Records the orders sent; ``failures`` are raised, one per send, before any is recorded;
    the next ``unanswered`` sends are recorded and then answer SendOutcomeUnknown (the order
    was enqueued, but the sender cannot know it)."""

    def __init__(self) -> None:
        self.sent: list[Order] = []
        self.failures: list[Exception] = []
        self.unanswered = 0
        self.down: Exception | None = None  # raised by check() while set

    def send(self, order: Order) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(order)
        if self.unanswered:
            self.unanswered -= 1
            raise SendOutcomeUnknown("Read timeout on endpoint URL")
        return f"msg-{len(self.sent)}"

    def check(self) -> None:
        if self.down is not None:
            raise self.down


@dataclass
class _Record:
    order_id: str
    fingerprint: str
    state: str
    claimed_at: int
    expires_at: int


class FakeIdempotencyStore:
    """The semantics of :class:`producer.idempotency.IdempotencyStore`, in a dict."""

    def __init__(self, ttl_seconds: int = 86400, clock: Clock = time.time) -> None:
        self._ttl, self._clock = ttl_seconds, clock
        self.records: dict[str, _Record] = {}
        self.failures: dict[str, list[Exception]] = {}  # by method name, raised one per call

    def _maybe_fail(self, method: str) -> None:
        pending = self.failures.get(method)
        if pending:
            raise pending.pop(0)

    def _claimable(self, record: _Record | None, now: int) -> bool:
        if record is None or record.expires_at < now:
            return True
        return record.state == "pending" and record.claimed_at < now - STALE_CLAIM_SECONDS

    def claim(self, key: str, order_id: str, print_: str) -> Claim:
        self._maybe_fail("claim")
        now = int(self._clock())
        found = self.records.get(key)
        if found is not None and not self._claimable(found, now):
            same = found.fingerprint == print_
            return Claim(found.order_id, replayed=True, state=found.state, same_request=same)
        self.records[key] = _Record(order_id, print_, "pending", now, now + self._ttl)
        return Claim(order_id, replayed=False, state="pending", same_request=True)

    def mark_sent(self, key: str, order_id: str) -> None:
        self._maybe_fail("mark_sent")
        found = self.records.get(key)
        if found is None or found.order_id != order_id:
            raise client_error("ConditionalCheckFailedException", "UpdateItem")
        found.state = "sent"

    def mark_unknown(self, key: str, order_id: str) -> None:
        self._maybe_fail("mark_unknown")
        found = self.records.get(key)
        if found is None or found.order_id != order_id or found.state != "pending":
            raise client_error("ConditionalCheckFailedException", "UpdateItem")
        found.state = "unknown"

    def release(self, key: str, order_id: str) -> None:
        self._maybe_fail("release")
        found = self.records.get(key)
        if found is not None and found.order_id == order_id:
            del self.records[key]

    def check(self) -> None:
        self._maybe_fail("check")
