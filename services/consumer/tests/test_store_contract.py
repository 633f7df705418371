"""The order record's exactly-once write, the same cases against the in-memory fake and the real
DynamoDB store (on a moto server)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from consumer.fakes import FakeOrderStore
from consumer.ports import Store
from consumer.store import OrderStore
from lantern.orders import Customer, Order
from lantern.table import create_table_request
from tests.support.units import FakeClock, moto_dynamodb, moto_endpoint


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with moto_endpoint() as url:
        yield moto_dynamodb(url)


@pytest.fixture(params=["fake", "dynamodb"])
def table(request: pytest.FixtureRequest, clock: FakeClock) -> Store:
    if request.param == "fake":
        return FakeOrderStore(clock=clock)
    client = request.getfixturevalue("dynamodb")
    name = f"orders-{uuid.uuid4().hex[:8]}"
    client.create_table(**create_table_request(name))
    return OrderStore(client, name, clock)


def test_the_first_write_wins_and_a_redelivery_writes_nothing(
    table: Store, clock: FakeClock, make_order: Callable[..., Order]
) -> None:
    order = make_order()

    assert table.record(order, "fulfilled", message_id="m-1", trace_id="ab" * 16)
    clock.advance(5)
    assert not table.record(order, "fulfilled", message_id="m-2", trace_id=None)

    record = table.get(order.order_id)
    assert record is not None
    assert (record.status, record.message_id, record.trace_id) == ("fulfilled", "m-1", "ab" * 16)
    assert record.recorded_at == clock.now - 5
    assert record.lines == order.lines
    assert record.accepted_at == order.accepted_at


def test_a_failed_record_is_superseded_by_a_later_success(
    table: Store, make_order: Callable[..., Order]
) -> None:
    order = make_order()
    assert table.record(order, "failed", message_id="m-1", trace_id=None)

    assert table.record(order, "fulfilled", message_id="m-2", trace_id=None)

    record = table.get(order.order_id)
    assert record is not None
    assert (record.status, record.message_id, record.trace_id) == ("fulfilled", "m-2", None)


def test_a_fulfilled_record_is_never_turned_into_failed(
    table: Store, make_order: Callable[..., Order]
) -> None:
    order = make_order()
    table.record(order, "fulfilled", message_id="m-1", trace_id=None)

    assert not table.record(order, "failed", message_id="m-2", trace_id=None)
    record = table.get(order.order_id)
    assert record is not None
    assert record.status == "fulfilled"


def test_an_unknown_order_is_none(table: Store) -> None:
    assert table.get("ord_" + "0" * 32) is None


def test_a_name_that_is_not_text_is_refused_and_its_sanitised_record_is_not(
    table: Store, make_order: Callable[..., Order]
) -> None:
    """DynamoDB refuses an unpaired surrogate (moto with a 500, AWS with a ValidationException).
    The producer refuses such names now; a message from before, or another sender, may still
    carry one."""
    order = make_order()
    hostile = dataclasses.replace(order, customer=Customer("Ada\ud800", "ada@example.com"))

    with pytest.raises(ClientError):
        table.record(hostile, "failed", message_id="m-1", trace_id=None)
    assert table.get(order.order_id) is None

    assert table.record(hostile.sanitised(), "failed", message_id="m-1", trace_id=None)
    record = table.get(order.order_id)
    assert record is not None
    assert record.customer_name == "Ada\ufffd"


def test_a_write_the_sdk_sends_again_after_a_lost_answer_is_still_a_fulfilment(
    dynamodb: Any, clock: FakeClock, make_order: Callable[..., Order]
) -> None:
    """On a busy endpoint the answer to a conditional write can time out after the write landed;
    the SDK then sends it again, and the retry fails the condition on the record the first
    attempt made. That is this delivery's own fulfilment, not a redelivery."""
    name = f"orders-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(**create_table_request(name))
    retried: list[int] = []

    def answer_lost(attempts: int, **_: Any) -> int | None:
        if attempts == 1 and not retried:  # the first answer "never arrived": retry at once
            retried.append(attempts)
            return 0
        return None

    dynamodb.meta.events.register("needs-retry.dynamodb.PutItem", answer_lost, "answer-lost")
    try:
        store = OrderStore(dynamodb, name, clock)
        order = make_order()
        assert store.record(order, "fulfilled", message_id="m-1", trace_id=None)
        assert retried == [1]  # the write was sent twice
        assert not store.record(order, "fulfilled", message_id="m-1", trace_id=None)  # redelivery
    finally:
        dynamodb.meta.events.unregister("needs-retry.dynamodb.PutItem", unique_id="answer-lost")
