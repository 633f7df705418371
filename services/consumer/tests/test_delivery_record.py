"""The record keeps how its message got to the consumer (the order page's journey reads it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from consumer.fakes import FakeMessages, FakeOrderStore
from consumer.processing import FAILED, FULFILLED, OrderProcessor, delivery_of
from consumer.store import OrderStore, from_item, to_item
from lantern.orders import Delivery, Order, OrderRecord
from lantern.table import create_table_request
from tests.support.units import moto_dynamodb, moto_endpoint


def receive_one(messages: FakeMessages) -> Any:
    (message,) = messages.receive(1, 0, 30)
    return message


def test_a_fulfilled_record_carries_its_delivery(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    make_order: Callable[..., Order],
) -> None:
    order = make_order()
    messages.send_order(order)
    message = receive_one(messages)

    assert processor.handle(message) is FULFILLED

    delivery = store.records[order.order_id].delivery
    assert delivery is not None
    attributes = message["Attributes"]
    assert delivery.sent_at == int(attributes["SentTimestamp"]) / 1000
    assert delivery.first_received_at == int(attributes["ApproximateFirstReceiveTimestamp"]) / 1000
    assert delivery.receive_count == 1
    assert delivery.started_at is not None
    assert delivery.worked_at is not None
    assert delivery.started_at <= delivery.worked_at


def test_the_failed_record_of_the_last_attempt_counts_every_delivery(
    messages: FakeMessages,
    store: FakeOrderStore,
    processor: OrderProcessor,
    make_order: Callable[..., Order],
    work: Any,
) -> None:
    order = make_order()
    messages.send_order(order)
    work.failures += [RuntimeError("the warehouse is on fire")] * 5
    for _ in range(5):
        message = receive_one(messages)
        assert processor.handle(message) is FAILED
        messages.change_visibility([message["ReceiptHandle"]], 0)

    record = store.records[order.order_id]
    assert record.status == "failed"
    assert record.delivery is not None
    assert record.delivery.receive_count == 5
    first = int(message["Attributes"]["ApproximateFirstReceiveTimestamp"]) / 1000
    assert record.delivery.first_received_at == first


@pytest.mark.parametrize(
    "attributes",
    [{}, {"SentTimestamp": "junk"}, {"SentTimestamp": "0", "ApproximateReceiveCount": "3"}],
)
def test_missing_or_odd_timestamps_are_left_out(attributes: dict[str, str]) -> None:
    delivery = delivery_of({"Attributes": attributes}, 10.0, None)

    assert (delivery.sent_at, delivery.first_received_at, delivery.worked_at) == (None, None, None)
    assert delivery.receive_count == int(attributes.get("ApproximateReceiveCount", "1"))


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with moto_endpoint() as url:
        yield moto_dynamodb(url)


def test_the_table_keeps_the_delivery_and_old_records_read_without_one(
    dynamodb: Any, make_order: Callable[..., Order]
) -> None:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(**create_table_request(name))
    table = OrderStore(dynamodb, name)
    delivery = Delivery(
        sent_at=100.25, first_received_at=100.5, receive_count=2, started_at=101.0, worked_at=101.5
    )
    with_delivery, without = make_order(), make_order()

    table.record(with_delivery, "fulfilled", message_id="m-1", trace_id=None, delivery=delivery)
    table.record(without, "fulfilled", message_id="m-2", trace_id=None)

    found = table.get(with_delivery.order_id)
    assert found is not None
    assert found.delivery == delivery
    old = table.get(without.order_id)
    assert old is not None
    assert old.delivery is None


def test_item_and_json_forms_round_trip(make_order: Callable[..., Order]) -> None:
    record = OrderRecord.of(
        make_order(),
        "failed",
        message_id="m-1",
        trace_id="ab" * 16,
        recorded_at=5.0,
        delivery=Delivery(sent_at=1.0, receive_count=5, started_at=4.0, worked_at=4.5),
    )

    assert from_item(to_item(record)) == record
    assert OrderRecord.from_json(record.to_json()) == record
    assert "first_received_at" not in record.to_json()["delivery"]
