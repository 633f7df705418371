"""The order page: queued until the consumer has the order, then fulfilled, with its trace."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

ORDER_ID = "ord_" + "c" * 32
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_UI = "http://localhost:16686/trace/{trace_id}"


def fulfilled(order_id: str = ORDER_ID, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "status": "fulfilled",
        "customer_name": "Ada Lovelace",
        "lines": [
            {
                "sku": "LNT-001",
                "name": "Harbour Storm Lantern",
                "quantity": 2,
                "unit_price_cents": 4900,
            },
            {"sku": "LNT-014", "name": "Firefly Jar", "quantity": 1, "unit_price_cents": 2100},
        ],
        "total_cents": 11900,
        "accepted_at": 1_700_000_000.0,
        "recorded_at": 1_700_000_000.25,
        "message_id": "msg-1",
        "trace_id": TRACE_ID,
        **extra,
    }


def placed_from(client: FlaskClient, order_id: str = ORDER_ID) -> None:
    """Make ``client``'s session the one that placed ``order_id`` (as checkout remembers it)."""
    with client.session_transaction() as session:
        session["orders"] = [{"id": order_id, "trace": TRACE_ID, "total": 11900, "items": 3}]


def test_an_order_not_processed_yet_is_queued_and_refreshes(client: FlaskClient) -> None:
    placed_from(client)
    response = client.get(f"/orders/{ORDER_ID}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<span class="status-badge">Queued</span>' in page
    assert "waiting in the queue" in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert "/static/js/order.js" in page


def test_a_fulfilled_order_shows_its_lines_timing_and_trace_link(
    make_app: Any, consumer: Any
) -> None:
    consumer.records[ORDER_ID] = fulfilled()
    client = make_app(consumer=consumer, TRACE_UI_URL=TRACE_UI).test_client()

    page = client.get(f"/orders/{ORDER_ID}").get_data(as_text=True)

    assert '<span class="status-badge">Fulfilled</span>' in page
    assert "Harbour Storm Lantern" in page
    assert "$119.00" in page
    assert "250 ms" in page
    assert f'href="http://localhost:16686/trace/{TRACE_ID}"' in page
    assert "http-equiv" not in page  # nothing left to wait for
    assert "order.js" not in page


def test_without_a_trace_ui_the_trace_id_is_shown_unlinked(
    client: FlaskClient, consumer: Any
) -> None:
    consumer.records[ORDER_ID] = fulfilled()

    page = client.get(f"/orders/{ORDER_ID}").get_data(as_text=True)

    assert TRACE_ID in page
    assert "trace-link" not in page


def test_a_failed_order_says_so(client: FlaskClient, consumer: Any) -> None:
    consumer.records[ORDER_ID] = fulfilled(status="failed")

    page = client.get(f"/orders/{ORDER_ID}").get_data(as_text=True)

    assert '<span class="status-badge">Failed</span>' in page
    assert "dead-letter queue" in page


def test_with_the_consumer_down_the_order_is_still_queued(make_app: Any) -> None:
    client = make_app().test_client()  # CONSUMER_URL points at a closed port
    placed_from(client)

    response = client.get(f"/orders/{ORDER_ID}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<span class="status-badge">Queued</span>' in page
    assert "not answering right now" in page
    assert client.get(f"/api/orders/{ORDER_ID}").json["consumer_up"] is False


def test_the_status_endpoint_returns_the_state_and_the_fragment(
    client: FlaskClient, consumer: Any
) -> None:
    placed_from(client)
    queued: dict[str, Any] = client.get(f"/api/orders/{ORDER_ID}").json or {}
    assert queued["status"] == "queued"
    assert "Queued" in queued["html"]

    consumer.records[ORDER_ID] = fulfilled()
    done: dict[str, Any] = client.get(f"/api/orders/{ORDER_ID}").json or {}
    assert done["status"] == "fulfilled"
    assert done["trace_id"] == TRACE_ID
    assert done["total_cents"] == 11900
    assert "Fulfilled" in done["html"]
    assert "<html" not in done["html"]


def test_something_that_is_not_an_order_id_is_a_404(client: FlaskClient) -> None:
    for path in ["/orders/nope", "/orders/ord_123", f"/api/orders/{ORDER_ID}x"]:
        assert client.get(path).status_code == 404, path
    assert client.get("/api/orders/nope").mimetype == "application/json"


def test_an_xray_console_template_gets_the_xray_form_of_the_id(
    make_app: Any, consumer: Any
) -> None:
    consumer.records[ORDER_ID] = fulfilled()
    template = "https://console.example/xray/home#xray:traces/{xray_trace_id}"
    client = make_app(consumer=consumer, TRACE_UI_URL=template).test_client()

    page = client.get(f"/orders/{ORDER_ID}").get_data(as_text=True)

    assert (
        'href="https://console.example/xray/home#xray:traces/1-4bf92f35-77b34da6a3ce929d0e0e4736"'
        in page
    )


def test_only_the_session_that_placed_an_order_sees_whose_it_is(
    shopper: Any, consumer: Any
) -> None:
    """Order ids are unguessable, but a link can be shared or seen: a stranger with it sees the
    order's status and lines, never the customer's name."""
    shopper.add("LNT-001")
    location = shopper.checkout().headers["Location"]
    order_id = location.rsplit("/", 1)[1]
    consumer.records[order_id] = fulfilled(order_id)

    own = shopper.get(location).get_data(as_text=True)
    stranger = shopper.client.application.test_client().get(location).get_data(as_text=True)
    api = shopper.client.application.test_client().get(f"/api/orders/{order_id}").get_json()

    assert "Ada Lovelace" in own
    assert "Fulfilled" in stranger
    assert "Ada Lovelace" not in stranger
    assert "Ada Lovelace" not in json.dumps(api)
