"""The order pipeline end to end: producer -> SQS -> consumer -> DynamoDB, real processes."""

from __future__ import annotations

from tests.support.shop import Shop, order_payload


def test_one_order_is_fulfilled_and_readable(shop: Shop) -> None:
    order_id = shop.place(order_payload(("LNT-001", 2), ("LNT-006", 1)))

    record = shop.wait_fulfilled(order_id)

    assert record["status"] == "fulfilled"
    assert record["total_cents"] == 2 * 4900 + 1200
    assert [line["sku"] for line in record["lines"]] == ["LNT-001", "LNT-006"]
    assert shop.queue_counts() == (0, 0)
