"""The order API's contract: bad input never reaches the queue; retries are safe."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import make_shop
from tests.support.net import http
from tests.support.shop import Shop, order_payload

GOOD = order_payload(("LNT-001", 1))
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def producer_only(moto_port: int) -> Any:
    """A producer with no consumer, so every enqueued message stays countable."""
    shop = make_shop(moto_port, services=("producer",))
    yield shop
    shop.stack.stop()


def _post(shop: Shop, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, raw = http(
        "POST", f"{shop.producer}/orders", body, JSON if headers is None else headers
    )
    return status, json.loads(raw)


def _items(count: int, **item: Any) -> bytes:
    line = {"sku": "LNT-001", "quantity": 1, **item}
    return json.dumps({**GOOD, "items": [line] * count}).encode()


def _with(**overrides: Any) -> bytes:
    return json.dumps({**GOOD, **overrides}).encode()


BAD_REQUESTS = [
    ("malformed JSON", b'{"customer": ', JSON, 400, "invalid_json"),
    ("not UTF-8", b"\xff\xfe{}", JSON, 400, "invalid_json"),
    (
        "wrong content type",
        json.dumps(GOOD).encode(),
        {"Content-Type": "text/plain"},
        415,
        "unsupported_media_type",
    ),
    ("no content type", json.dumps(GOOD).encode(), {}, 415, "unsupported_media_type"),
    ("65 KiB body", b'{"pad": "' + b"x" * (65 * 1024) + b'"}', JSON, 413, "payload_too_large"),
    ("JSON array", b"[]", JSON, 422, "invalid_type"),
    ("missing customer", json.dumps({"items": GOOD["items"]}).encode(), JSON, 422, "missing_field"),
    (
        "missing items",
        json.dumps({"customer": GOOD["customer"]}).encode(),
        JSON,
        422,
        "missing_field",
    ),
    ("bad email", _with(customer={"name": "A", "email": "nope"}), JSON, 422, "invalid_email"),
    ("unknown SKU", _items(1, sku="LNT-999"), JSON, 422, "unknown_sku"),
    ("quantity 0", _items(1, quantity=0), JSON, 422, "invalid_quantity"),
    ("quantity 100", _items(1, quantity=100), JSON, 422, "invalid_quantity"),
    ("quantity as string", _items(1, quantity="2"), JSON, 422, "invalid_type"),
    ("51 items", _items(51), JSON, 422, "invalid_item_count"),
    ("no items", _items(0), JSON, 422, "invalid_item_count"),
    ("items not a list", _with(items={"sku": "LNT-001"}), JSON, 422, "invalid_type"),
    (
        "bad idempotency key",
        json.dumps(GOOD).encode(),
        {**JSON, "Idempotency-Key": "a b"},
        400,
        "invalid_idempotency_key",
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_input_gets_a_clear_4xx_and_is_never_enqueued(
    producer_only: Shop, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    before = producer_only.queue_counts()

    got_status, error = _post(producer_only, body, headers)

    assert (got_status, error["error"]) == (status, code)
    assert error["detail"]
    assert producer_only.queue_counts() == before


def test_a_good_order_is_enqueued_exactly_once(producer_only: Shop) -> None:
    visible, _ = producer_only.queue_counts()
    status, body = _post(producer_only, json.dumps(GOOD).encode())
    assert (status, body["status"]) == (202, "queued")
    assert producer_only.queue_counts()[0] == visible + 1


def test_an_idempotent_retry_returns_the_same_order_and_enqueues_nothing(
    producer_only: Shop,
) -> None:
    visible, _ = producer_only.queue_counts()
    headers = {**JSON, "Idempotency-Key": "checkout-7f3a"}

    first_status, first = _post(producer_only, json.dumps(GOOD).encode(), headers)
    status, _, raw = http(
        "POST", f"{producer_only.producer}/orders", json.dumps(GOOD).encode(), headers
    )

    assert (first_status, status) == (202, 202)
    assert json.loads(raw)["order_id"] == first["order_id"]
    assert producer_only.queue_counts()[0] == visible + 1


def test_an_idempotency_key_reused_for_another_order_is_refused(producer_only: Shop) -> None:
    headers = {**JSON, "Idempotency-Key": "checkout-reused"}
    assert _post(producer_only, json.dumps(GOOD).encode(), headers)[0] == 202
    visible, _ = producer_only.queue_counts()

    status, error = _post(producer_only, _items(2), headers)

    assert (status, error["error"]) == (422, "idempotency_key_reused")
    assert producer_only.queue_counts()[0] == visible


def test_products_are_served_from_the_catalog(producer_only: Shop) -> None:
    status, _, raw = http("GET", f"{producer_only.producer}/products")
    products = json.loads(raw)
    assert status == 200
    assert len(products) >= 12
    assert {"sku", "name", "price_cents", "description", "image"} <= set(products[0])


def test_unknown_routes_and_methods_answer_json(producer_only: Shop) -> None:
    status, _, raw = http("GET", f"{producer_only.producer}/nope")
    assert (status, json.loads(raw)["error"]) == (404, "not_found")
    status, _, raw = http("DELETE", f"{producer_only.producer}/orders")
    assert (status, json.loads(raw)["error"]) == (405, "method_not_allowed")


def test_probes(producer_only: Shop) -> None:
    assert http("GET", f"{producer_only.producer}/healthz")[0] == 200
    status, _, raw = http("GET", f"{producer_only.producer}/readyz")
    assert status == 200
    assert json.loads(raw)["checks"] == {"sqs": "ok", "dynamodb": "ok"}
