"""One quantity limit on the product page, in the cart and on the server; and "Your orders"."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from frontend.clients import Unavailable
from frontend.sessions import REMEMBERED_ORDERS
from lantern.orders import MAX_QUANTITY


def cart_quantity(shopper: Any, sku: str) -> int | None:
    page = shopper.get("/cart").get_data(as_text=True)
    match = re.search(rf'id="qty-{sku}"[^>]*value="(\d+)"', page)
    return int(match.group(1)) if match else None


def test_product_page_and_cart_offer_the_same_limit(shopper: Any) -> None:
    product = shopper.get("/products/LNT-001").get_data(as_text=True)
    assert re.search(rf'id="quantity"[^>]*min="1" max="{MAX_QUANTITY}"', product)
    assert f"Up to {MAX_QUANTITY} per order" in product

    shopper.add("LNT-001", 3)
    cart = shopper.get("/cart").get_data(as_text=True)
    assert re.search(rf'id="qty-LNT-001"[^>]*max="{MAX_QUANTITY}"', cart)
    assert f"Up to {MAX_QUANTITY} of a product per order" in cart

    product = shopper.get("/products/LNT-001").get_data(as_text=True)
    assert re.search(rf'id="quantity"[^>]*max="{MAX_QUANTITY - 3}"', product)
    assert f"Your cart holds 3: you can add up to {MAX_QUANTITY - 3} more" in product


def test_adding_past_the_limit_goes_back_to_the_product_with_the_reason(shopper: Any) -> None:
    shopper.add("LNT-001", 95)
    response = shopper.post("/cart/add", {"sku": "LNT-001", "quantity": "5"})

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/products/LNT-001")
    page = shopper.get("/products/LNT-001").get_data(as_text=True)
    assert "notice-error" in page
    assert "one order takes at most 99 of a product: you can add up to 4 more" in page
    assert cart_quantity(shopper, "LNT-001") == 95


def test_a_full_line_offers_the_cart_instead_of_the_form(shopper: Any) -> None:
    shopper.add("LNT-001", MAX_QUANTITY)
    page = shopper.get("/products/LNT-001").get_data(as_text=True)
    assert 'id="quantity"' not in page
    assert "the most one order takes" in page

    response = shopper.post("/cart/add", {"sku": "LNT-001", "quantity": "1"})  # a grid card
    assert response.status_code == 303
    assert cart_quantity(shopper, "LNT-001") == MAX_QUANTITY


def test_a_quantity_above_the_limit_is_never_added(shopper: Any) -> None:
    response = shopper.post("/cart/add", {"sku": "LNT-001", "quantity": "100"})
    assert response.status_code == 303
    assert "choose 1 to 99" in shopper.get("/products/LNT-001").get_data(as_text=True)
    assert "Your cart is empty" in shopper.get("/cart").get_data(as_text=True)


def test_setting_a_quantity_above_the_limit_keeps_the_line_and_says_why(shopper: Any) -> None:
    shopper.add("LNT-001", 2)
    response = shopper.post("/cart/update", {"sku": "LNT-001", "quantity": "150"})

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/cart")
    page = shopper.get("/cart").get_data(as_text=True)
    assert "One order takes at most 99 of a product: Harbour Storm Lantern stays at 2." in page
    assert cart_quantity(shopper, "LNT-001") == 2


def fulfilled(order_id: str, status: str = "fulfilled") -> dict[str, Any]:
    return {
        "order_id": order_id,
        "status": status,
        "customer_name": "Ada Lovelace",
        "lines": [
            {
                "sku": "LNT-001",
                "name": "Harbour Storm Lantern",
                "quantity": 2,
                "unit_price_cents": 4900,
            }
        ],
        "accepted_at": 1_700_000_000.0,
        "recorded_at": 1_700_000_000.5,
        "message_id": "m-1",
    }


def place(shopper: Any, sku: str = "LNT-001", quantity: int = 1) -> str:
    shopper.add(sku, quantity)
    response = shopper.checkout()
    assert response.status_code == 303
    match = re.search(r"/orders/(ord_[0-9a-f]{32})$", response.headers["Location"])
    assert match
    return match.group(1)


def test_your_orders_is_empty_before_the_first_order(shopper: Any) -> None:
    response = shopper.get("/orders")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Your orders</h1>" in page
    assert "You have not placed an order from this browser yet" in page


def test_your_orders_lists_this_sessions_orders_newest_first_with_status(
    shopper: Any, consumer: Any
) -> None:
    first = place(shopper, "LNT-001", 2)
    second = place(shopper, "LNT-014", 1)
    consumer.records[first] = fulfilled(first)

    page = shopper.get("/orders").get_data(as_text=True)
    links = re.findall(r'href="/orders/(ord_[0-9a-f]{32})"', page)
    assert links == [second, first]
    rows = page.split('class="placed-order"')[1:]
    for row, expected in zip(
        rows,
        (["Queued", "1 item ", "$21.00", "placed "], ["Fulfilled", "2 items", "$98.00"]),
        strict=True,
    ):
        assert all(text in row for text in expected), (expected, row)


def test_a_failed_order_says_so(shopper: Any, consumer: Any) -> None:
    order_id = place(shopper)
    consumer.records[order_id] = fulfilled(order_id, status="failed")
    assert "placed-status-failed" in shopper.get("/orders").get_data(as_text=True)


def test_your_orders_keeps_the_last_five(shopper: Any) -> None:
    placed = [place(shopper) for _ in range(REMEMBERED_ORDERS + 1)]
    page = shopper.get("/orders").get_data(as_text=True)
    links = re.findall(r'href="/orders/(ord_[0-9a-f]{32})"', page)
    assert links == placed[::-1][:REMEMBERED_ORDERS]


def test_another_session_sees_none_of_them(shopper: Any, client: FlaskClient, app: Any) -> None:
    place(shopper)
    other = app.test_client().get("/orders").get_data(as_text=True)
    assert "ord_" not in other


class DownConsumer:
    def __init__(self) -> None:
        self.calls = 0

    def order(self, order_id: str) -> None:
        self.calls += 1
        raise Unavailable("down")

    def recent(self) -> list[dict[str, Any]]:
        raise Unavailable("down")

    def metrics_text(self) -> str:
        raise Unavailable("down")


def test_consumer_down_lists_the_orders_with_unknown_status_asking_once(
    shopper_for: Any, producer: Any
) -> None:
    down = DownConsumer()
    shopper = shopper_for(producer=producer, consumer=down)
    placed = [place(shopper) for _ in range(3)]
    down.calls = 0
    page = shopper.get("/orders").get_data(as_text=True)

    assert down.calls == 1
    assert re.findall(r'href="/orders/(ord_[0-9a-f]{32})"', page) == placed[::-1]
    assert page.count("Status unknown") == 3
    assert "not answering right now" in page


def test_the_header_links_your_orders(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<a href="/orders"[^>]*><span class="nav-extra">Your </span>orders</a>', page)
    assert 'aria-current="page"' in client.get("/orders").get_data(as_text=True)
