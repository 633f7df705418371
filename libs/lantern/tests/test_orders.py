"""Order validation and pricing rules, without a network."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from lantern.catalog import load_catalog
from lantern.envelope import PoisonMessage, decode_order, encode_order
from lantern.orders import (
    MAX_JSON_DEPTH,
    Order,
    OrderRecord,
    OrderRejected,
    build_order,
    decode_json_body,
    is_email,
    is_order_id,
)

CATALOG = load_catalog()


def payload(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
        "items": [{"sku": "LNT-001", "quantity": 2}, {"sku": "LNT-007", "quantity": 1}],
    }
    base.update(overrides)
    return base


def test_catalog_has_at_least_twelve_priced_products() -> None:
    assert len(CATALOG) >= 12
    assert all(p.price_cents > 0 and p.image.endswith(".svg") for p in CATALOG)


def test_order_is_priced_from_the_catalog_not_the_client() -> None:
    body = payload(items=[{"sku": "LNT-001", "quantity": 2, "price_cents": 1}])
    order = build_order(body, CATALOG)
    assert order.total_cents == 2 * CATALOG.get("LNT-001").price_cents  # type: ignore[union-attr]
    assert order.item_count == 2
    assert is_order_id(order.order_id)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([], "invalid_type"),
        ({"items": [{"sku": "LNT-001", "quantity": 1}]}, "missing_field"),
        (payload(customer={"name": "A"}), "missing_field"),
        (payload(customer={"name": 7, "email": "a@b.co"}), "invalid_type"),
        (payload(customer={"name": " ", "email": "a@b.co"}), "invalid_name"),
        (payload(customer={"name": "x" * 101, "email": "a@b.co"}), "invalid_name"),
        (payload(customer={"name": "A", "email": "not-an-email"}), "invalid_email"),
        (payload(items=[]), "invalid_item_count"),
        (payload(items=[{"sku": "LNT-001", "quantity": 1}] * 51), "invalid_item_count"),
        (payload(items="LNT-001"), "invalid_type"),
        (payload(items=["LNT-001"]), "invalid_type"),
        (payload(items=[{"sku": "NOPE", "quantity": 1}]), "unknown_sku"),
        (payload(items=[{"sku": "LNT-001", "quantity": 0}]), "invalid_quantity"),
        (payload(items=[{"sku": "LNT-001", "quantity": 100}]), "invalid_quantity"),
        (payload(items=[{"sku": "LNT-001", "quantity": True}]), "invalid_type"),
        (payload(items=[{"sku": "LNT-001", "quantity": 1.5}]), "invalid_type"),
        (payload(items=[{"sku": "LNT-001"}]), "missing_field"),
    ],
)
def test_invalid_orders_are_rejected_with_a_stable_code(body: Any, code: str) -> None:
    with pytest.raises(OrderRejected) as info:
        build_order(body, CATALOG)
    assert info.value.code == code
    assert info.value.status == 422


def test_limits_are_inclusive() -> None:
    skus = [product.sku for product in CATALOG]
    fifty = [{"sku": skus[i % len(skus)], "quantity": 1} for i in range(50)]
    assert len(build_order(payload(items=fifty), CATALOG).lines) == 50
    split = [{"sku": "LNT-002", "quantity": 50}, {"sku": "LNT-002", "quantity": 49}]
    assert build_order(payload(items=split), CATALOG).item_count == 99


def test_the_quantity_limit_holds_per_product_over_all_its_lines() -> None:
    split = [{"sku": "LNT-002", "quantity": 60}, {"sku": "LNT-002", "quantity": 60}]
    with pytest.raises(OrderRejected) as info:
        build_order(payload(items=split), CATALOG)
    assert info.value.code == "invalid_quantity"
    assert "LNT-002: 120" in info.value.detail


@pytest.mark.parametrize("name", ["Ada\ud800", "Ada\udfff Lovelace", "Ada\x00", "Ada\nLovelace"])
def test_names_must_be_printable_text(name: str) -> None:
    with pytest.raises(OrderRejected) as info:
        build_order(payload(customer={"name": name, "email": "ada@example.com"}), CATALOG)
    assert info.value.code == "invalid_text"


def test_unicode_names_are_welcome() -> None:
    order = build_order(payload(customer={"name": "Zoë 李 🌟", "email": "z@example.com"}), CATALOG)
    assert order.customer.name == "Zoë 李 🌟"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "too_deep"),
        (b"{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
    ],
)
def test_bodies_that_are_not_an_order_are_400(body: bytes, code: str) -> None:
    with pytest.raises(OrderRejected) as info:
        decode_json_body(body)
    assert (info.value.code, info.value.status) == (code, 400)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    name = "[" * 100 + '\\"{' * 10
    body = json.dumps({"customer": {"name": name}, "items": [[[]]]}).encode()
    assert decode_json_body(body) == json.loads(body)
    nested = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert decode_json_body(nested) == json.loads(nested)


def test_envelope_round_trips_an_order() -> None:
    order = build_order(payload(), CATALOG)
    assert decode_order(encode_order(order)) == order


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"schema": "something/else", "order": {}}',
        '{"schema": "lantern.order/v1"}',
        '{"schema": "lantern.order/v1", "order": {"order_id": "ord_x"}}',
    ],
)
def test_undecodable_bodies_are_poison(body: str) -> None:
    with pytest.raises(PoisonMessage):
        decode_order(body)


def test_order_from_json_rejects_a_foreign_id() -> None:
    data = build_order(payload(), CATALOG).to_json()
    data["order_id"] = "idempotency#abc"
    with pytest.raises(ValueError, match="not an order id"):
        Order.from_json(data)


def _record(**changes: Any) -> OrderRecord:
    order = build_order(payload(), CATALOG, order_id="ord_" + "a" * 32)
    record = OrderRecord.of(
        order,
        "fulfilled",
        message_id="msg-1",
        trace_id="ab" * 16,
        recorded_at=order.accepted_at + 1,
    )
    return dataclasses.replace(record, **changes)


def test_an_order_record_round_trips_through_its_json() -> None:
    record = _record()

    data = record.to_json()

    assert OrderRecord.from_json(data) == record
    assert data["total_cents"] == record.total_cents
    assert "email" not in json.dumps(data)  # the record never carries the customer's email
    assert record.pipeline_seconds == pytest.approx(1.0)


def test_a_record_without_a_trace_id_has_none_in_its_json() -> None:
    data = _record(trace_id=None).to_json()

    assert "trace_id" not in data
    assert OrderRecord.from_json(data).trace_id is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("status", "queued"), ("order_id", "42"), ("lines", "[]"), ("accepted_at", "soon")],
)
def test_a_malformed_record_is_refused(key: str, value: object) -> None:
    data = {**_record().to_json(), key: value}

    with pytest.raises((KeyError, TypeError, ValueError)):
        OrderRecord.from_json(data)


def test_a_line_quantity_must_be_an_integer() -> None:
    data = _record().to_json()
    data["lines"][0]["quantity"] = True

    with pytest.raises(TypeError):
        OrderRecord.from_json(data)


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("ada@example.com", True),
        ("ada@example", False),
        ("a b@example.com", False),
        ("x" * 65 + "@example.com", False),
        ("ada@" + "e" * 250 + ".com", False),
    ],
)
def test_one_email_shape_for_every_service(email: str, ok: bool) -> None:
    assert is_email(email) is ok
