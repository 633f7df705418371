"""The DynamoDB adapter: record an order's outcome exactly once, and read it back."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lantern.orders import Order
from lantern.table import KEY, order_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class OrderStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._db, self._table = dynamodb, table

    def record(self, order: Order, status: str, *, message_id: str, trace_id: str | None) -> bool:
        """Write the order's outcome; False when it was already fulfilled (a redelivery).

        The condition makes fulfilment exactly-once: a redelivered message finds the record and
        writes nothing. A ``failed`` record may still be superseded, e.g. after a DLQ redrive.
        """
        item: dict[str, Any] = {
            **order_key(order.order_id),
            "order_id": {"S": order.order_id},
            "status": {"S": status},
            "customer_name": {"S": order.customer.name},
            "lines": {"S": json.dumps([asdict(line) for line in order.lines])},
            "total_cents": {"N": str(order.total_cents)},
            "accepted_at": {"N": repr(order.accepted_at)},
            "recorded_at": {"N": repr(time.time())},
            "message_id": {"S": message_id},
        }
        if trace_id:
            item["trace_id"] = {"S": trace_id}
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=f"attribute_not_exists({KEY}) OR #status = :failed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":failed": {"S": "failed"}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, order_id: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, Key=order_key(order_id)).get("Item")
        if item is None:
            return None
        record: dict[str, Any] = {
            "order_id": item["order_id"]["S"],
            "status": item["status"]["S"],
            "customer_name": item["customer_name"]["S"],
            "lines": json.loads(item["lines"]["S"]),
            "total_cents": int(item["total_cents"]["N"]),
            "accepted_at": float(item["accepted_at"]["N"]),
            "recorded_at": float(item["recorded_at"]["N"]),
            "message_id": item["message_id"]["S"],
        }
        if "trace_id" in item:
            record["trace_id"] = item["trace_id"]["S"]
        return record

    def check(self) -> None:
        """Readiness: the table answers."""
        self._db.describe_table(TableName=self._table)
