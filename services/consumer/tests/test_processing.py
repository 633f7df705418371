"""One message at a time: every outcome, what it records, what it counts and what it logs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from consumer.fakes import FakeMessages, FakeOrderStore
from consumer.processing import FAILED, FULFILLED, REDELIVERED, OrderProcessor
from lantern.aws import client_error
from lantern.logs import context_fields
from lantern.orders import Customer, Order
from tests.support.units import FakeClock

Processed = Callable[[str], float]


def receive_one(messages: FakeMessages) -> Any:
    (message,) = messages.receive(1, 0, 30)
    return message


def test_a_new_order_is_fulfilled_and_recorded_once(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    make_order: Callable[..., Order],
    processed: Processed,
) -> None:
    order = make_order()
    message_id = messages.send_order(order)

    outcome = processor.handle(receive_one(messages))

    assert outcome is FULFILLED
    record = store.records[order.order_id]
    assert (record.status, record.message_id) == ("fulfilled", message_id)
    assert record.customer_name == "Ada Lovelace"
    assert record.total_cents == order.total_cents
    assert processed("fulfilled") == 1


def test_a_redelivered_message_is_settled_without_a_second_fulfilment(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    clock: FakeClock,
    make_order: Callable[..., Order],
    processed: Processed,
) -> None:
    messages.send_order(make_order())
    first = receive_one(messages)
    assert processor.handle(first) is FULFILLED
    recorded = dict(store.records)
    clock.advance(31)  # the delete was lost: the message comes back after its timeout

    again = receive_one(messages)

    assert processor.handle(again) is REDELIVERED
    assert REDELIVERED.settled  # deleted now, and counted apart from fulfilment
    assert store.records == recorded
    assert (processed("fulfilled"), processed("redelivered")) == (1, 1)


def test_a_poison_message_fails_and_writes_nothing(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    processed: Processed,
    log_lines: list[dict[str, Any]],
) -> None:
    message_id = messages.send('{"schema": 1, "order": {"order_id": "not-one"}}')

    outcome = processor.handle(receive_one(messages))

    assert outcome is FAILED
    assert not FAILED.settled  # left for redelivery, then the DLQ
    assert store.records == {}
    assert processed("failed") == 1
    (line,) = [line for line in log_lines if line["event"] == "order processed"]
    assert line["level"] == "warning"
    assert (line["message_id"], line["reason"], line["outcome"]) == (message_id, "poison", "failed")


def test_a_failed_attempt_before_the_last_leaves_no_record(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    work: Any,
    make_order: Callable[..., Order],
) -> None:
    messages.send_order(make_order())
    work.failures.append(RuntimeError("the warehouse is on fire"))

    assert processor.handle(receive_one(messages)) is FAILED
    assert store.records == {}  # the shop keeps saying "queued": it may still succeed


def test_the_last_attempt_records_failed_and_a_later_success_supersedes_it(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    work: Any,
    clock: FakeClock,
    make_order: Callable[..., Order],
) -> None:
    order = make_order()
    messages.send_order(order)
    work.failures.extend(RuntimeError(f"attempt {n}") for n in range(1, 6))
    for _ in range(5):
        assert processor.handle(receive_one(messages)) is FAILED
        clock.advance(31)
    assert store.records[order.order_id].status == "failed"

    messages.send_order(order)  # a redrive from the DLQ, after the cause was fixed
    assert processor.handle(receive_one(messages)) is FULFILLED
    assert store.records[order.order_id].status == "fulfilled"


def test_an_order_the_store_refuses_is_recorded_failed_sanitised_on_its_last_attempt(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    clock: FakeClock,
    make_order: Callable[..., Order],
) -> None:
    """A name with an unpaired surrogate (from a sender that did not check it): every attempt
    fails, and the last one still leaves a ``failed`` record, so the shop does not say
    "queued" forever while the message sits in the DLQ."""
    order = make_order()
    hostile = dataclasses.replace(order, customer=Customer("Ada\ud800", "ada@example.com"))
    messages.send_order(hostile)
    for _ in range(5):
        assert processor.handle(receive_one(messages)) is FAILED
        clock.advance(31)

    record = store.records[order.order_id]
    assert (record.status, record.customer_name) == ("failed", "Ada\ufffd")
    assert messages.receive(1, 0, 30) == []  # the next receive redrives it
    assert len(messages.dead_letters) == 1


def test_a_store_that_refuses_leaves_the_message_for_redelivery(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    make_order: Callable[..., Order],
    log_lines: list[dict[str, Any]],
) -> None:
    messages.send_order(make_order())
    store.failures["record"] = [client_error("ProvisionedThroughputExceededException", "PutItem")]

    assert processor.handle(receive_one(messages)) is FAILED
    assert store.records == {}
    (line,) = [line for line in log_lines if line["event"] == "order processed"]
    assert line["reason"] == "ClientError"


def test_the_log_line_carries_the_message_and_order_and_the_context_ends_with_it(
    messages: FakeMessages,
    processor: OrderProcessor,
    make_order: Callable[..., Order],
    log_lines: list[dict[str, Any]],
) -> None:
    order = make_order()
    message_id = messages.send_order(order)

    processor.handle(receive_one(messages))

    (line,) = [line for line in log_lines if line["event"] == "order processed"]
    assert line["order_id"] == order.order_id
    assert (line["message_id"], line["receive_count"], line["outcome"]) == (
        message_id,
        1,
        "fulfilled",
    )
    assert "duration_ms" in line
    assert context_fields() == {}  # nothing of this message leaks into the next one
    assert processor.recent.snapshot()[0]["order_id"] == order.order_id
