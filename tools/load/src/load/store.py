"""Count one run's orders in the orders table, by order id.

Every order of a run carries the run tag as its customer name. After the load the table is
scanned (consistent reads, every page) for that tag, and the run's distinct order ids are
compared with the producer's 202 answers: accepted = fulfilled exactly once, or the difference
shows as missing (accepted but not in the table) or extra (in the table but never accepted).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

RUN_TAG_PREFIX = "Load run "
ITEMS = [{"sku": "LNT-001", "quantity": 1}, {"sku": "LNT-007", "quantity": 2}]


def new_run_tag() -> str:
    """A customer name no other run shares: the store is counted by it."""
    return f"{RUN_TAG_PREFIX}{uuid.uuid4().hex[:12]}"


def order_body(run_tag: str) -> dict[str, Any]:
    return {"customer": {"name": run_tag, "email": "load@example.com"}, "items": ITEMS}


@dataclass(frozen=True)
class RunCount:
    """Distinct order ids of one run in the store, by status."""

    fulfilled: frozenset[str]
    failed: frozenset[str]

    @property
    def found(self) -> int:
        return len(self.fulfilled | self.failed)


def scan(dynamodb: Any, table: str, **request: Any) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` the scan ``request`` selects, page after page, read consistently."""
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True, **request}
    while True:
        page = dynamodb.scan(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_run(dynamodb: Any, table: str, run_tag: str) -> RunCount:
    """The run's order records in the table, by status."""
    by_status: dict[str, set[str]] = {"fulfilled": set(), "failed": set()}
    records = scan(
        dynamodb,
        table,
        FilterExpression="customer_name = :tag",
        ProjectionExpression="order_id, #status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":tag": {"S": run_tag}},
    )
    for item in records:
        by_status.setdefault(item["status"]["S"], set()).add(item["order_id"]["S"])
    return RunCount(frozenset(by_status["fulfilled"]), frozenset(by_status["failed"]))


def wait_for_store(
    count: Callable[[], RunCount],
    expected: int,
    patience: float,
    poll: float = 1.0,
    max_poll: float = 10.0,
) -> RunCount:
    """The run's count once it reaches ``expected`` or stops moving for ``patience`` s.

    Each count is a scan of the whole table, so the interval grows (x1.5, up to ``max_poll``)
    while the count is still short: a backlog that takes minutes is read a few dozen times,
    not once a second.
    """
    last, last_change = count(), time.monotonic()
    while last.found < expected and time.monotonic() - last_change <= patience:
        time.sleep(poll)
        poll = min(poll * 1.5, max_poll)
        current = count()
        if current != last:
            last, last_change = current, time.monotonic()
    return last


@dataclass(frozen=True)
class Reconciliation:
    """The run's verdict: the producer's 202 answers against the run's records in the table.
    A lost order shows as missing, a doubled or a stray one as extra."""

    accepted: int
    count: RunCount

    @property
    def missing(self) -> int:
        return max(self.accepted - self.count.found, 0)

    @property
    def extra(self) -> int:
        return max(self.count.found - self.accepted, 0)

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.extra == 0 and not self.count.failed

    def line(self) -> str:
        return (
            f"{'':8} accepted {self.accepted}   fulfilled {len(self.count.fulfilled)}   "
            f"failed {len(self.count.failed)}   missing {self.missing}   extra {self.extra}   "
            f"{'OK' if self.ok else 'MISMATCH'}"
        )
