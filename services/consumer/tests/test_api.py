"""The consumer's read API over the test client, with the fakes behind it."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from consumer.fakes import FakeMessages, FakeOrderStore
from consumer.worker import QueueDepthPoller
from lantern.aws import endpoint_down
from lantern.orders import Order
from lantern.web import state


def test_a_recorded_order_is_served_as_its_json(
    app: Flask, store: FakeOrderStore, make_order: Callable[..., Order]
) -> None:
    order = make_order()
    store.record(order, "fulfilled", message_id="m-1", trace_id="cd" * 16)

    response = app.test_client().get(f"/orders/{order.order_id}")

    assert response.status_code == 200
    body = response.get_json()
    assert body == store.records[order.order_id].to_json()
    assert set(body) == {
        "order_id",
        "status",
        "customer_name",
        "lines",
        "total_cents",
        "accepted_at",
        "recorded_at",
        "message_id",
        "trace_id",
    }


def test_an_unknown_or_malformed_id_is_a_json_404(app: Flask) -> None:
    client = app.test_client()
    for order_id in ("ord_" + "0" * 32, "not-an-id", "ord_../../etc"):
        response = client.get(f"/orders/{order_id}")
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


def test_queue_depths_are_the_pollers_last_sample(
    app: Flask, messages: FakeMessages, make_order: Callable[..., Order]
) -> None:
    messages.send_order(make_order())
    messages.send_order(make_order())
    messages.receive(1, 0, 30)
    (poller,) = [task for task in state(app).background if isinstance(task, QueueDepthPoller)]

    poller.sample()

    body = app.test_client().get("/queues").get_json()
    counts = {name: (q["visible"], q["in_flight"]) for name, q in body.items()}
    assert counts == {"orders": (1, 1), "orders-dlq": (0, 0)}
    assert body["orders-dlq"]["awaiting"] == 0
    assert all(q["age_seconds"] >= 0 for q in body.values())


def test_readiness_names_the_dependency_that_is_down(app: Flask, store: FakeOrderStore) -> None:
    store.failures["check"] = [endpoint_down()]

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["sqs"] == "ok"
    assert checks["dynamodb"] != "ok"
