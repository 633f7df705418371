"""``Idempotency-Key`` support, stored in the orders table so every worker and replica agrees.

A key is *claimed* with a conditional write before the order is sent, and marked *sent* after
SQS accepted it. A retry with the same key and body gets the same order id and enqueues nothing;
the same key with another body is refused. A claim whose sender died before finishing is taken
over after ``STALE_CLAIM_SECONDS`` so a crash never blocks a key for its whole window.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from lantern.table import KEY, TTL_ATTRIBUTE, idempotency_key
from producer.ports import STALE_CLAIM_SECONDS, Claim, Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
__all__ = ["KEY_PATTERN", "STALE_CLAIM_SECONDS", "Claim", "IdempotencyStore", "fingerprint"]


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    def __init__(
        self, dynamodb: DynamoDBClient, table: str, ttl_seconds: int, clock: Clock = time.time
    ) -> None:
        self._db, self._table, self._ttl, self._clock = dynamodb, table, ttl_seconds, clock

    def check(self) -> None:
        """Readiness: the table answers."""
        self._db.describe_table(TableName=self._table)

    def claim(self, key: str, order_id: str, print_: str) -> Claim:
        now = int(self._clock())
        item = {
            **idempotency_key(key),
            "order_id": {"S": order_id},
            "fingerprint": {"S": print_},
            "state": {"S": "pending"},
            "claimed_at": {"N": str(now)},
            TTL_ATTRIBUTE: {"N": str(now + self._ttl)},
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=(
                    f"attribute_not_exists({KEY}) OR {TTL_ATTRIBUTE} < :now"
                    " OR (#state = :pending AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":pending": {"S": "pending"},
                    ":stale": {"N": str(now - STALE_CLAIM_SECONDS)},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self._existing(key, print_)
        return Claim(order_id=order_id, replayed=False, state="pending", same_request=True)

    def _existing(self, key: str, print_: str) -> Claim:
        found = self._db.get_item(
            TableName=self._table,
            Key=idempotency_key(key),
            ConsistentRead=True,
        )["Item"]
        return Claim(
            order_id=found["order_id"]["S"],
            replayed=True,
            state=found["state"]["S"],
            same_request=found["fingerprint"]["S"] == print_,
        )

    def mark_sent(self, key: str, order_id: str) -> None:
        """Mark our claim sent. Conditional on the order id: a sender whose stale claim was taken
        over must not mark the new owner's claim sent (nor recreate a claim that was deleted)."""
        self._set_state(key, order_id, "sent")

    def mark_unknown(self, key: str, order_id: str) -> None:
        """Our send may or may not have enqueued: a retry with the key then sends the same order
        id again (safe: the consumer fulfils an id once) instead of a new order."""
        self._set_state(key, order_id, "unknown", only_from="pending")

    def _set_state(self, key: str, order_id: str, state: str, only_from: str | None = None) -> None:
        condition, values = "order_id = :id", {":to": {"S": state}, ":id": {"S": order_id}}
        if only_from is not None:
            condition += " AND #state = :from"
            values[":from"] = {"S": only_from}
        self._db.update_item(
            TableName=self._table,
            Key=idempotency_key(key),
            UpdateExpression="SET #state = :to",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def release(self, key: str, order_id: str) -> None:
        """Forget a claim whose order was never enqueued, so a retry can send it."""
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=idempotency_key(key),
                ConditionExpression="order_id = :id",
                ExpressionAttributeValues={":id": {"S": order_id}},
            )
        except (BotoCoreError, ClientError):
            pass  # the claim goes stale and is taken over after STALE_CLAIM_SECONDS
