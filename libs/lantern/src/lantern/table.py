"""The orders table's schema, in one place: provisioning, both adapters and the tests read it here.

One DynamoDB table holds two kinds of item under one string partition key: an order's record
(key: the order id) and the producer's idempotency claims (key: ``idempotency#<Idempotency-Key>``).
Claims expire through the table's TTL attribute; order records never do.
"""

from __future__ import annotations

from typing import Any

KEY = "pk"
TTL_ATTRIBUTE = "expires_at"
IDEMPOTENCY_PREFIX = "idempotency#"


def order_key(order_id: str) -> dict[str, Any]:
    """The primary key of an order's record."""
    return {KEY: {"S": order_id}}


def idempotency_key(key: str) -> dict[str, Any]:
    """The primary key of the claim for one ``Idempotency-Key``."""
    return {KEY: {"S": f"{IDEMPOTENCY_PREFIX}{key}"}}


def create_table_request(table_name: str) -> dict[str, Any]:
    """Arguments for ``CreateTable``: on-demand billing, the one hash key."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": KEY, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
