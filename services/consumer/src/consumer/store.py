"""The DynamoDB adapter: record an order's outcome exactly once, and read it back."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from consumer.ports import Clock
from lantern.orders import Delivery, Order, OrderRecord, lines_from_json, lines_to_json
from lantern.table import KEY, order_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


WRITE_ID = "write_id"  # which write made a record (see OrderStore.record)


class OrderStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str, clock: Clock = time.time) -> None:
        self._db, self._table, self._clock = dynamodb, table, clock

    def record(
        self,
        order: Order,
        status: str,
        *,
        message_id: str,
        trace_id: str | None,
        delivery: Delivery | None = None,
    ) -> bool:
        """Write the order's outcome; False when it was already fulfilled (a redelivery).

        The condition makes fulfilment exactly-once: a redelivered message finds the record and
        writes nothing. A ``failed`` record may still be superseded, e.g. after a DLQ redrive.

        Each write carries its own id: when the SDK sends a write again because the answer to
        the first was lost (a read timeout on a busy endpoint), the retry meets the record the
        first one made, and the id shows it is this write's own, not an earlier delivery's.
        """
        record = OrderRecord.of(
            order,
            status,
            message_id=message_id,
            trace_id=trace_id,
            recorded_at=self._clock(),
            delivery=delivery,
        )
        write_id = uuid.uuid4().hex
        try:
            self._db.put_item(
                TableName=self._table,
                Item={**to_item(record), WRITE_ID: {"S": write_id}},
                ConditionExpression=f"attribute_not_exists({KEY}) OR #status = :failed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":failed": {"S": "failed"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return _written_by(exc, write_id)
            raise
        return True

    def get(self, order_id: str) -> OrderRecord | None:
        item = self._db.get_item(TableName=self._table, Key=order_key(order_id)).get("Item")
        return None if item is None else from_item(item)

    def check(self) -> None:
        """Readiness: the table answers."""
        self._db.describe_table(TableName=self._table)


def _written_by(refusal: ClientError, write_id: str) -> bool:
    """Whether the record that failed the condition is the one this write (``write_id``) made."""
    found: Any = refusal.response.get("Item", {})  # ReturnValuesOnConditionCheckFailure
    return bool(found.get(WRITE_ID, {}).get("S") == write_id)


def to_item(record: OrderRecord) -> dict[str, Any]:
    """The table's attributes for a record (names and types are part of the table's contract)."""
    item: dict[str, Any] = {
        **order_key(record.order_id),
        "order_id": {"S": record.order_id},
        "status": {"S": record.status},
        "customer_name": {"S": record.customer_name},
        "lines": {"S": json.dumps(lines_to_json(record.lines))},
        "total_cents": {"N": str(record.total_cents)},
        "accepted_at": {"N": repr(record.accepted_at)},
        "recorded_at": {"N": repr(record.recorded_at)},
        "message_id": {"S": record.message_id},
    }
    if record.trace_id:
        item["trace_id"] = {"S": record.trace_id}
    if record.delivery is not None:
        item.update(_delivery_item(record.delivery))
    return item


# The delivery's attributes, flat beside the record's (a record without them predates them).
_DELIVERY_MOMENTS = ("sent_at", "first_received_at", "started_at", "worked_at")


def _delivery_item(delivery: Delivery) -> dict[str, Any]:
    item: dict[str, Any] = {"receive_count": {"N": str(delivery.receive_count)}}
    for name in _DELIVERY_MOMENTS:
        value = getattr(delivery, name)
        if value is not None:
            item[name] = {"N": repr(value)}
    return item


def _delivery_from_item(item: Mapping[str, Any]) -> Delivery | None:
    if "receive_count" not in item:
        return None

    def moment(name: str) -> float | None:
        return float(item[name]["N"]) if name in item else None

    return Delivery(
        sent_at=moment("sent_at"),
        first_received_at=moment("first_received_at"),
        receive_count=int(item["receive_count"]["N"]),
        started_at=moment("started_at"),
        worked_at=moment("worked_at"),
    )


def from_item(item: Mapping[str, Any]) -> OrderRecord:
    return OrderRecord(
        order_id=item["order_id"]["S"],
        status=item["status"]["S"],
        customer_name=item["customer_name"]["S"],
        lines=lines_from_json(json.loads(item["lines"]["S"])),
        accepted_at=float(item["accepted_at"]["N"]),
        recorded_at=float(item["recorded_at"]["N"]),
        message_id=item["message_id"]["S"],
        trace_id=item["trace_id"]["S"] if "trace_id" in item else None,
        delivery=_delivery_from_item(item),
    )
