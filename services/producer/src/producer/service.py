"""Placing an order: validate, claim the idempotency key, enqueue, count. No HTTP here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lantern.catalog import Catalog
from lantern.logs import get_logger
from lantern.orders import Order, OrderRejected, build_order
from producer.idempotency import KEY_PATTERN, fingerprint
from producer.ports import IdempotencyClaims, Queue, SendOutcomeUnknown
from producer.signals import ProducerSignals

log = get_logger(__name__)
AWS_ERRORS = (BotoCoreError, ClientError)


class QueueUnavailable(RuntimeError):
    """The order could not be enqueued; nothing was accepted."""


class OutcomeUnknown(RuntimeError):
    """The order may or may not have been enqueued. A retry with the same Idempotency-Key sends
    the same order id again, which the consumer fulfils once."""

    def __init__(self, order_id: str, detail: str) -> None:
        super().__init__(detail)
        self.order_id = order_id


@dataclass(frozen=True)
class Placed:
    order_id: str
    replayed: bool
    total_cents: int | None


class OrderService:
    def __init__(
        self,
        catalog: Catalog,
        queue: Queue,
        idempotency: IdempotencyClaims,
        signals: ProducerSignals,
    ) -> None:
        self.catalog, self._queue = catalog, queue
        self._idempotency, self._signals = idempotency, signals

    def place(self, payload: Any, idempotency_key: str | None = None) -> Placed:
        """Accept ``payload`` as an order. Raises OrderRejected, QueueUnavailable (nothing was
        enqueued) or OutcomeUnknown (it may have been)."""
        try:
            order = build_order(payload, self.catalog)
            if idempotency_key is not None and not KEY_PATTERN.match(idempotency_key):
                raise OrderRejected(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1-128 of [A-Za-z0-9_.:-]",
                    400,
                )
        except OrderRejected as rejected:
            self._signals.rejected(rejected.code)
            raise
        if idempotency_key is None:
            self._send(order)
            return Placed(order.order_id, replayed=False, total_cents=order.total_cents)
        return self._place_once(order, payload, idempotency_key)

    def _place_once(self, order: Order, payload: Any, key: str) -> Placed:
        try:
            claim = self._idempotency.claim(key, order.order_id, fingerprint(payload))
        except AWS_ERRORS as exc:
            self._signals.rejected("queue_unavailable")
            raise QueueUnavailable(str(exc)) from exc
        resending = claim.replayed and claim.state == "unknown" and claim.same_request
        if resending:
            # The first send's fate is unknown: send the same order id again. Whatever this
            # attempt's fate, the claim stays unknown (never released: the first send may
            # have gone through, and a new order id would then be a second order).
            order = replace(order, order_id=claim.order_id)
        elif claim.replayed:
            return self._replay(claim.order_id, claim.state, claim.same_request)
        try:
            self._send(order)
        except QueueUnavailable:
            if not resending:
                self._release(key, order.order_id)
            raise
        except OutcomeUnknown:
            if not resending:
                self._mark(key, order.order_id, "unknown")
            raise
        self._mark(key, order.order_id, "sent")
        return Placed(order.order_id, replayed=claim.replayed, total_cents=order.total_cents)

    def _mark(self, key: str, order_id: str, state: str) -> None:
        mark = self._idempotency.mark_sent if state == "sent" else self._idempotency.mark_unknown
        try:
            mark(key, order_id)
        except AWS_ERRORS:
            # sent: a retry gets 409 until the claim goes stale; unknown: a retry is taken for
            # a new request after that, as if the claim had been released
            log.warning(f"idempotency claim not marked {state}", exc_info=True)

    def _release(self, key: str, order_id: str) -> None:
        try:
            self._idempotency.release(key, order_id)
        except AWS_ERRORS:
            pass  # the claim goes stale and is taken over; the client still gets its 503

    def _replay(self, order_id: str, state: str, same_request: bool) -> Placed:
        if not same_request:
            self._signals.rejected("idempotency_key_reused")
            raise OrderRejected(
                "idempotency_key_reused", "this Idempotency-Key was used with a different body"
            )
        if state != "sent":
            self._signals.rejected("request_in_progress")
            raise OrderRejected(
                "request_in_progress", "a request with this Idempotency-Key is in progress", 409
            )
        return Placed(order_id, replayed=True, total_cents=None)

    def _send(self, order: Order) -> None:
        try:
            self._queue.send(order)
        except SendOutcomeUnknown as exc:
            self._signals.rejected("outcome_unknown")
            log.warning("order may not be enqueued", order_id=order.order_id, error=str(exc))
            raise OutcomeUnknown(order.order_id, str(exc)) from exc
        except AWS_ERRORS as exc:
            self._signals.rejected("queue_unavailable")
            log.warning(
                "order not enqueued",
                order_id=order.order_id,
                error=str(exc),
            )
            raise QueueUnavailable(str(exc)) from exc
        self._signals.accepted()
