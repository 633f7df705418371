"""Checkout: inline validation, one order per submission, a friendly pause when ordering is down."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from frontend.clients import Refused, Unavailable, Unconfirmed
from frontend.views import checkout as checkout_view

ORDER_PAGE = re.compile(r"/orders/(ord_[0-9a-f]{32})$")


def checkouts(client: FlaskClient, outcome: str) -> float:
    metrics = client.get("/metrics").get_data(as_text=True)
    match = re.search(rf'checkouts_total{{outcome="{outcome}"}} ([0-9.]+)', metrics)
    assert match, metrics
    return float(match.group(1))


def test_checkout_without_items_goes_back_to_the_cart(shopper: Any) -> None:
    assert shopper.get("/checkout").headers["Location"].endswith("/cart")

    response = shopper.post("/checkout", {"name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 303
    assert "Your cart is empty, so there is nothing" in shopper.get("/cart").get_data(as_text=True)


def test_a_valid_checkout_places_the_order_and_empties_the_cart(
    shopper: Any, producer: Any
) -> None:
    shopper.add("LNT-001", 2)
    shopper.add("LNT-014", 3)
    key = shopper.checkout_id()

    response = shopper.checkout(name="  Ada Lovelace ", key=key)

    assert response.status_code == 303
    match = ORDER_PAGE.search(response.headers["Location"])
    assert match
    assert producer.calls == [
        (
            {
                "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "items": [{"sku": "LNT-001", "quantity": 2}, {"sku": "LNT-014", "quantity": 3}],
            },
            key,
        )
    ]
    assert "Your cart is empty" in shopper.get("/cart").get_data(as_text=True)
    order_page = shopper.get(match.group(0)).get_data(as_text=True)
    assert "5 items · $161.00" in order_page  # remembered while the order is queued
    assert checkouts(shopper.client, "placed") == 1


def test_a_double_submit_sends_one_idempotency_key(shopper: Any, producer: Any) -> None:
    shopper.add("LNT-001")
    key = shopper.checkout_id()
    token = shopper.token()
    before = shopper.client.get_cookie("lantern_session").value
    form = {"name": "Ada", "email": "ada@example.com", "checkout_id": key, "csrf_token": token}

    first = shopper.client.post("/checkout", data=form)
    # The second click left before the first answer (and its new cookie) arrived.
    shopper.client.set_cookie("lantern_session", before)
    second = shopper.client.post("/checkout", data=form)

    assert first.headers["Location"] == second.headers["Location"]
    assert [call[1] for call in producer.calls] == [key, key]
    assert len(producer.orders) == 1


def test_every_checkout_form_gets_a_fresh_key(shopper: Any) -> None:
    shopper.add("LNT-001")
    assert shopper.checkout_id() != shopper.checkout_id()


@pytest.mark.parametrize(
    ("name", "email", "field", "message"),
    [
        ("", "ada@example.com", "name", "Please tell us your name."),
        ("   ", "ada@example.com", "name", "Please tell us your name."),
        ("A" * 101, "ada@example.com", "name", "at most 100 characters"),
        ("Ada", "", "email", "Please enter your email address."),
        ("Ada", "ada@", "email", "does not look like an email address"),
        ("Ada", "ada at example.com", "email", "does not look like an email address"),
        ("Ada", "a" * 250 + "@example.com", "email", "does not look like an email address"),
    ],
)
def test_invalid_details_get_inline_messages_and_no_order(
    shopper: Any, producer: Any, name: str, email: str, field: str, message: str
) -> None:
    shopper.add("LNT-001")
    response = shopper.checkout(name=name, email=email)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page
    assert message in page
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page, flags=re.S)
    assert producer.calls == []
    assert checkouts(shopper.client, "invalid") == 1


def test_both_fields_are_reported_at_once(shopper: Any) -> None:
    shopper.add("LNT-001")
    page = shopper.checkout(name="", email="nope").get_data(as_text=True)

    assert 'id="name-error"' in page
    assert 'id="email-error"' in page
    assert "Please check the fields marked below." in page


def test_what_was_typed_is_kept_after_an_error(shopper: Any) -> None:
    shopper.add("LNT-001")
    page = shopper.checkout(name="Grace Hopper", email="grace@").get_data(as_text=True)

    assert 'value="Grace Hopper"' in page
    assert 'value="grace@"' in page


def test_a_field_longer_than_any_form_needs_is_a_400(shopper: Any, producer: Any) -> None:
    shopper.add("LNT-001")
    response = shopper.checkout(name="A" * 5000)

    assert response.status_code == 400
    assert producer.calls == []


def test_with_the_producer_down_ordering_is_paused_and_the_cart_kept(shopper_for: Any) -> None:
    shopper = shopper_for()  # a real producer client; PRODUCER_URL points at a closed port
    shopper.add("LNT-003", 2)
    key = shopper.checkout_id()

    response = shopper.checkout(name="Ada Lovelace", key=key)

    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Ordering is paused, your cart is kept" in page
    assert 'value="Ada Lovelace"' in page
    assert f'value="{key}"' in page  # a retry sends the same key: never two orders
    assert 'data-sku="LNT-003"' in shopper.get("/cart").get_data(as_text=True)
    assert checkouts(shopper.client, "paused") == 1


def test_a_twin_request_in_progress_is_waited_for(shopper: Any, producer: Any) -> None:
    shopper.add("LNT-001")
    producer.failures.append(Refused(409, "request_in_progress", "in progress"))

    response = shopper.checkout()

    assert response.status_code == 303
    assert len(producer.calls) == 2


def test_a_refusal_by_the_producer_is_shown_on_the_field(shopper: Any, producer: Any) -> None:
    shopper.add("LNT-001")
    producer.failures.append(Refused(422, "invalid_email", "customer.email is not an email"))

    response = shopper.checkout()

    assert response.status_code == 422
    assert "customer.email is not an email" in response.get_data(as_text=True)


def test_a_reused_key_with_changed_details_asks_to_submit_again(
    shopper: Any, producer: Any
) -> None:
    shopper.add("LNT-001")
    key = shopper.checkout_id()
    producer.failures.append(Refused(422, "idempotency_key_reused", "different body"))

    response = shopper.checkout(key=key)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your details changed" in page
    assert f'value="{key}"' not in page  # a new key, so the next press is a new order


def test_an_unexpected_answer_is_an_error_page_that_keeps_the_cart(
    shopper: Any, producer: Any
) -> None:
    shopper.add("LNT-001")
    producer.failures.append(Refused(415, "unsupported_media_type", "nope"))

    response = shopper.checkout()

    assert response.status_code == 502
    assert "Your cart is kept" in response.get_data(as_text=True)
    assert checkouts(shopper.client, "error") == 1
    assert 'data-sku="LNT-001"' in shopper.get("/cart").get_data(as_text=True)


@pytest.fixture
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkout_view, "RETRY_WAITS", (0.0,) * len(checkout_view.RETRY_WAITS))


@pytest.mark.usefixtures("no_retry_waits")
def test_an_unconfirmed_order_is_retried_with_the_same_key_and_placed(
    shopper: Any, producer: Any
) -> None:
    shopper.add("LNT-001")
    producer.failures.append(Unconfirmed("POST /orders: ReadTimeout"))

    response = shopper.checkout()

    assert response.status_code == 303
    assert ORDER_PAGE.search(response.headers["Location"])
    assert [key for _, key in producer.calls] == [producer.calls[0][1]] * 2


@pytest.mark.usefixtures("no_retry_waits")
@pytest.mark.parametrize(
    "then",
    [
        Refused(409, "request_in_progress", "in progress"),  # the stalled first try holds the key
        Unavailable("POST /orders: ConnectionError"),  # the producer went away meanwhile
        Unconfirmed("POST /orders: HTTP 504"),
    ],
)
def test_an_order_that_stays_unconfirmed_never_says_nothing_was_ordered(
    shopper: Any, producer: Any, then: Exception
) -> None:
    shopper.add("LNT-001")
    key = shopper.checkout_id()
    producer.failures.extend([Unconfirmed("POST /orders: ReadTimeout"), *[then] * 4])

    response = shopper.checkout(key=key)

    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "it may have been placed" in page
    assert "nothing was ordered" not in page
    assert "not placed" not in page
    assert f'value="{key}"' in page  # pressing again sends the same key
    assert len(producer.calls) == 1 + len(checkout_view.RETRY_WAITS)
    assert checkouts(shopper.client, "unconfirmed") == 1
