"""The service layer: placing an order, its rejections, and idempotent retries (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from lantern.aws import client_error, endpoint_down
from lantern.orders import OrderRejected
from producer.fakes import FakeIdempotencyStore, FakeQueue
from producer.service import OrderService, OutcomeUnknown, QueueUnavailable


def test_placing_an_order_enqueues_it_and_counts_it(
    service: OrderService, queue: FakeQueue, body: Any, counts: Any
) -> None:
    placed = service.place(body())
    assert [order.order_id for order in queue.sent] == [placed.order_id]
    assert [(line.sku, line.quantity) for line in queue.sent[0].lines] == [("LNT-001", 2)]
    assert not placed.replayed
    assert counts() == (1.0, {})


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"items": []}, "invalid_item_count"),
        ({"items": [{"sku": "NOPE-1", "quantity": 1}]}, "unknown_sku"),
        ({"customer": {"name": "Ada", "email": "not-an-email"}}, "invalid_email"),
    ],
)
def test_an_invalid_order_is_refused_counted_and_not_enqueued(
    service: OrderService, queue: FakeQueue, body: Any, counts: Any, overrides: Any, code: str
) -> None:
    with pytest.raises(OrderRejected) as refused:
        service.place(body(**overrides))
    assert refused.value.code == code
    assert refused.value.status == 422
    assert queue.sent == []
    assert counts() == (0.0, {code: 1.0})


def test_a_malformed_idempotency_key_is_refused(
    service: OrderService, queue: FakeQueue, body: Any, counts: Any
) -> None:
    with pytest.raises(OrderRejected) as refused:
        service.place(body(), "has spaces")
    assert refused.value.code == "invalid_idempotency_key"
    assert queue.sent == []
    assert counts() == (0.0, {"invalid_idempotency_key": 1.0})


@pytest.mark.parametrize(
    "error", [endpoint_down(), client_error("ServiceUnavailable", "SendMessage")]
)
def test_queue_unavailable_releases_the_claim_so_a_retry_sends(
    service: OrderService, queue: FakeQueue, body: Any, counts: Any, error: Exception
) -> None:
    queue.failures.append(error)
    with pytest.raises(QueueUnavailable):
        service.place(body(), "key-1")
    assert queue.sent == []
    retried = service.place(body(), "key-1")
    assert not retried.replayed
    assert [order.order_id for order in queue.sent] == [retried.order_id]
    assert counts() == (1.0, {"queue_unavailable": 1.0})


def test_queue_unavailable_is_503_even_when_the_release_fails_too(
    service: OrderService, queue: FakeQueue, store: FakeIdempotencyStore, body: Any
) -> None:
    queue.failures.append(endpoint_down())
    store.failures["release"] = [endpoint_down()]
    with pytest.raises(QueueUnavailable):
        service.place(body(), "key-1")


def test_idempotency_store_down_is_queue_unavailable(
    service: OrderService, queue: FakeQueue, store: FakeIdempotencyStore, body: Any, counts: Any
) -> None:
    store.failures["claim"] = [endpoint_down()]
    with pytest.raises(QueueUnavailable):
        service.place(body(), "key-1")
    assert queue.sent == []
    assert counts() == (0.0, {"queue_unavailable": 1.0})


def test_a_replay_returns_the_same_id_and_enqueues_nothing(
    service: OrderService, queue: FakeQueue, body: Any, counts: Any
) -> None:
    first = service.place(body(), "key-1")
    again = service.place(body(), "key-1")
    assert again.order_id == first.order_id
    assert again.replayed
    assert len(queue.sent) == 1
    assert counts() == (1.0, {})


def test_the_same_key_with_another_body_is_refused(
    service: OrderService, queue: FakeQueue, body: Any, counts: Any
) -> None:
    service.place(body(), "key-1")
    with pytest.raises(OrderRejected) as refused:
        service.place(body(items=[{"sku": "LNT-002", "quantity": 1}]), "key-1")
    assert (refused.value.code, refused.value.status) == ("idempotency_key_reused", 422)
    assert len(queue.sent) == 1
    assert counts() == (1.0, {"idempotency_key_reused": 1.0})


def test_a_pending_claim_answers_409_in_progress(
    service: OrderService, queue: FakeQueue, store: FakeIdempotencyStore, body: Any, counts: Any
) -> None:
    store.failures["mark_sent"] = [endpoint_down()]
    service.place(body(), "key-1")  # enqueued, but the claim stays pending
    with pytest.raises(OrderRejected) as refused:
        service.place(body(), "key-1")
    assert (refused.value.code, refused.value.status) == ("request_in_progress", 409)
    assert len(queue.sent) == 1
    assert counts() == (1.0, {"request_in_progress": 1.0})


def test_a_failing_mark_sent_still_accepts_and_logs(
    service: OrderService,
    queue: FakeQueue,
    store: FakeIdempotencyStore,
    body: Any,
    log_lines: list[dict[str, Any]],
) -> None:
    store.failures["mark_sent"] = [endpoint_down()]
    placed = service.place(body(), "key-1")
    assert [order.order_id for order in queue.sent] == [placed.order_id]
    assert [line["event"] for line in log_lines if line["level"] == "warning"] == [
        "idempotency claim not marked sent"
    ]


def test_an_unknown_send_keeps_the_claim_and_a_retry_sends_the_same_order_id(
    service: OrderService, queue: FakeQueue, store: FakeIdempotencyStore, body: Any, counts: Any
) -> None:
    """The first send was enqueued but not confirmed: the retry must not make a second order.
    It sends the same order id again, which the consumer's conditional write fulfils once."""
    queue.unanswered = 1
    with pytest.raises(OutcomeUnknown) as unknown:
        service.place(body(), "key-1")
    assert store.records["key-1"].state == "unknown"

    retried = service.place(body(), "key-1")

    assert retried.order_id == unknown.value.order_id
    assert retried.replayed
    assert [order.order_id for order in queue.sent] == [retried.order_id] * 2
    assert store.records["key-1"].state == "sent"
    assert counts() == (1.0, {"outcome_unknown": 1.0})


def test_an_unknown_key_with_another_body_is_still_refused(
    service: OrderService, queue: FakeQueue, body: Any
) -> None:
    queue.unanswered = 1
    with pytest.raises(OutcomeUnknown):
        service.place(body(), "key-1")
    with pytest.raises(OrderRejected) as refused:
        service.place(body(items=[{"sku": "LNT-002", "quantity": 1}]), "key-1")
    assert refused.value.code == "idempotency_key_reused"
    assert len(queue.sent) == 1


def test_an_unknown_send_without_a_key_is_reported_unknown_not_unavailable(
    service: OrderService, queue: FakeQueue, body: Any
) -> None:
    queue.unanswered = 1
    with pytest.raises(OutcomeUnknown) as unknown:
        service.place(body())
    assert [order.order_id for order in queue.sent] == [unknown.value.order_id]


def test_a_resend_that_is_refused_keeps_the_claim_unknown_and_its_order_id(
    service: OrderService, queue: FakeQueue, store: FakeIdempotencyStore, body: Any
) -> None:
    """Releasing it would let the next retry make a new order id, a second order if the first
    unconfirmed send had in fact gone through."""
    queue.unanswered = 1
    with pytest.raises(OutcomeUnknown) as unknown:
        service.place(body(), "key-1")
    queue.failures.append(endpoint_down())
    with pytest.raises(QueueUnavailable):
        service.place(body(), "key-1")
    assert store.records["key-1"].state == "unknown"

    retried = service.place(body(), "key-1")
    assert retried.order_id == unknown.value.order_id
    assert {order.order_id for order in queue.sent} == {unknown.value.order_id}
