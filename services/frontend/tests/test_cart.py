"""Cart arithmetic: quantities live in the cookie, prices always come from the catalog."""

from __future__ import annotations

import pytest

from frontend import cart
from lantern.catalog import load_catalog
from lantern.orders import MAX_QUANTITY

CATALOG = load_catalog()


def test_totals_are_computed_from_catalog_prices() -> None:
    priced = cart.price({"LNT-001": 2, "LNT-014": 3}, CATALOG)

    assert [line.total_cents for line in priced.lines] == [9800, 6300]
    assert priced.total_cents == 16100
    assert priced.item_count == 5
    assert priced.order_items() == [
        {"sku": "LNT-001", "quantity": 2},
        {"sku": "LNT-014", "quantity": 3},
    ]


def test_an_empty_cart_is_falsy_and_costs_nothing() -> None:
    priced = cart.price({}, CATALOG)

    assert not priced
    assert priced.total_cents == 0
    assert priced.item_count == 0


def test_adding_the_same_product_twice_adds_up_to_the_limit() -> None:
    items = cart.add({}, "LNT-006", 3, CATALOG)
    items = cart.add(items, "LNT-006", 4, CATALOG)
    assert items == {"LNT-006": 7}

    assert cart.add(items, "LNT-006", 92, CATALOG) == {"LNT-006": cart.MAX_PER_PRODUCT}


def test_the_cart_limit_is_the_one_the_producer_enforces() -> None:
    assert cart.MAX_PER_PRODUCT == MAX_QUANTITY == 99


def test_adding_past_the_limit_adds_nothing_and_says_how_many_fit() -> None:
    with pytest.raises(cart.CartLimit, match="you can add up to 4 more"):
        cart.add({"LNT-006": 95}, "LNT-006", 5, CATALOG)
    with pytest.raises(cart.CartLimit, match="already holds 99"):
        cart.add({"LNT-006": 99}, "LNT-006", 1, CATALOG)
    with pytest.raises(cart.CartLimit, match="choose 1 to 99"):
        cart.add({}, "LNT-006", 100, CATALOG)


def test_room_for_counts_what_the_cart_can_still_take() -> None:
    assert cart.room_for({}, "LNT-001") == 99
    assert cart.room_for({"LNT-001": 95}, "LNT-001") == 4
    assert cart.room_for({"LNT-001": 99}, "LNT-001") == 0


@pytest.mark.parametrize(("sku", "quantity"), [("LNT-999", 1), ("LNT-001", 0), ("LNT-001", -1)])
def test_adding_rejects_unknown_products_and_bad_quantities(sku: str, quantity: int) -> None:
    with pytest.raises(cart.CartError) as raised:
        cart.add({}, sku, quantity, CATALOG)
    assert not isinstance(raised.value, cart.CartLimit)


def test_setting_a_quantity_replaces_it_and_zero_removes_the_line() -> None:
    items = {"LNT-001": 1, "LNT-002": 2}

    assert cart.set_quantity(items, "LNT-002", 5, CATALOG) == {"LNT-001": 1, "LNT-002": 5}
    assert cart.set_quantity(items, "LNT-002", 0, CATALOG) == {"LNT-001": 1}
    with pytest.raises(cart.CartError):
        cart.set_quantity(items, "LNT-003", 1, CATALOG)  # not in the cart
    with pytest.raises(cart.CartLimit, match="stays at 1"):
        cart.set_quantity(items, "LNT-001", 100, CATALOG)


def test_removing_keeps_the_other_lines() -> None:
    assert cart.remove({"LNT-001": 1, "LNT-002": 2}, "LNT-001") == {"LNT-002": 2}


def test_whatever_the_cookie_holds_is_cleaned_before_use() -> None:
    raw = {"LNT-001": 2, "LNT-999": 1, "LNT-002": True, "LNT-003": 0, "LNT-004": "3", 5: 1}

    assert cart.clean(raw, CATALOG) == {"LNT-001": 2}
    assert cart.clean(["LNT-001"], CATALOG) == {}
    assert cart.clean(None, CATALOG) == {}
