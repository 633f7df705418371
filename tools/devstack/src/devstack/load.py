"""``make load``: drive the shop with ``hey`` and print one short summary per target.

    python -m devstack.load orders|shop|all [--producer URL] [--frontend URL]
        [--duration 20s] [--concurrency 20] [--rate 0]

For orders every request of a run carries one run tag (customer name ``Load run <id>``); after
the load the driver reads the orders table and counts the DISTINCT order ids of that run that are
``fulfilled`` or ``failed``, against the number of 202 answers. It reports accepted / fulfilled /
failed / missing (accepted - found) / extra (found - accepted) and exits non-zero on a mismatch.
The table is found through the standard variables (``AWS_ENDPOINT_URL``, ``AWS_REGION``,
``ORDERS_TABLE_NAME``), as the services find it. Works against ``make run``, compose, or AWS.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lantern.aws import dynamodb_client
from lantern.settings import AwsSettings

RUN_TAG_PREFIX = "Load run "
ITEMS = [{"sku": "LNT-001", "quantity": 1}, {"sku": "LNT-007", "quantity": 2}]


def new_run_tag() -> str:
    """A customer name no other run shares: the store is counted by it."""
    return f"{RUN_TAG_PREFIX}{uuid.uuid4().hex[:12]}"


def order_body(run_tag: str) -> dict[str, Any]:
    return {"customer": {"name": run_tag, "email": "load@example.com"}, "items": ITEMS}


@dataclass
class HeyResult:
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    total_seconds: float | None = None

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())


def parse_hey(output: str) -> HeyResult:
    """Read hey's text summary. hey exits 0 even when every request failed: the truth is here."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"Total:\s+([\d.]+) secs", output)
    p50 = re.search(r"\s50%+ in ([\d.]+) secs", output)
    p99 = re.search(r"\s99%+ in ([\d.]+) secs", output)
    statuses = {
        int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)
    }
    errors_part = (
        output.split("Error distribution:", 1)[1] if "Error distribution:" in output else ""
    )
    errors = {msg.strip(): int(n) for n, msg in re.findall(r"\[(\d+)\]\s+(.+)", errors_part)}
    return HeyResult(
        requests_per_second=float(rps.group(1)) if rps else 0.0,
        p50_ms=float(p50.group(1)) * 1000 if p50 else None,
        p99_ms=float(p99.group(1)) * 1000 if p99 else None,
        statuses=statuses,
        errors=errors,
        total_seconds=float(total.group(1)) if total else None,
    )


def run_hey(
    url: str, duration: str, concurrency: int, rate: float, body: Path | None = None
) -> HeyResult:
    """hey ``url`` for ``duration`` (POSTing the JSON file ``body`` if given), its summary read."""
    hey = shutil.which("hey")
    if hey is None:
        sys.exit("hey is not installed: apt-get install hey (Debian/Ubuntu) or see docs/load.md")
    argv = [hey, "-z", duration, "-c", str(concurrency)]
    if rate > 0:
        argv += ["-q", str(rate)]
    if body is not None:
        argv += ["-m", "POST", "-T", "application/json", "-D", str(body)]
    result = subprocess.run([*argv, url], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"hey failed: {result.stderr.strip()}")
    return parse_hey(result.stdout)


@dataclass(frozen=True)
class RunCount:
    """Distinct order ids of one run in the store, by status."""

    fulfilled: frozenset[str]
    failed: frozenset[str]

    @property
    def found(self) -> int:
        return len(self.fulfilled | self.failed)


def count_run(dynamodb: Any, table: str, run_tag: str) -> RunCount:
    """Scan the table for the run's order records (consistent reads, every page)."""
    by_status: dict[str, set[str]] = {"fulfilled": set(), "failed": set()}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "ConsistentRead": True,
        "FilterExpression": "customer_name = :tag",
        "ProjectionExpression": "order_id, #status",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":tag": {"S": run_tag}},
    }
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            by_status.setdefault(item["status"]["S"], set()).add(item["order_id"]["S"])
        if "LastEvaluatedKey" not in page:
            return RunCount(frozenset(by_status["fulfilled"]), frozenset(by_status["failed"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def wait_for_store(
    count: Callable[[], RunCount], expected: int, patience: float, poll: float = 1.0
) -> RunCount:
    """The run's count once it reaches ``expected`` or stops moving for ``patience`` s."""
    last, last_change = count(), time.monotonic()
    while last.found < expected and time.monotonic() - last_change <= patience:
        time.sleep(poll)
        current = count()
        if current != last:
            last, last_change = current, time.monotonic()
    return last


@dataclass(frozen=True)
class Reconciliation:
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


def reconcile(args: argparse.Namespace, run_tag: str, accepted: int) -> Reconciliation:
    settings = AwsSettings.from_env()
    dynamodb = dynamodb_client(settings)
    found = wait_for_store(
        lambda: count_run(dynamodb, settings.table_name, run_tag), accepted, args.drain_patience
    )
    return Reconciliation(accepted, found)


def summary_line(name: str, result: HeyResult) -> str:
    codes = " ".join(f"{code}:{n}" for code, n in sorted(result.statuses.items()))
    errors = sum(result.errors.values())
    p50 = f"{result.p50_ms:.1f}" if result.p50_ms is not None else "-"
    p99 = f"{result.p99_ms:.1f}" if result.p99_ms is not None else "-"
    return (
        f"{name:8} {result.requests_per_second:8.1f} req/s   p50 {p50:>7} ms   p99 {p99:>7} ms   "
        f"status {codes or '-'}   errors {errors}"
    )


def load_orders(args: argparse.Namespace) -> bool:
    run_tag = args.run_tag or new_run_tag()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body:
        json.dump(order_body(run_tag), body)
    result = run_hey(
        f"{args.producer}/orders", args.duration, args.concurrency, args.rate, Path(body.name)
    )
    Path(body.name).unlink()
    print(summary_line("orders", result))
    accepted = result.statuses.get(202, 0)
    print(f"{'':8} run {run_tag!r}   accepted {accepted}   counting the store...", flush=True)
    reconciliation = reconcile(args, run_tag, accepted)
    print(reconciliation.line())
    return reconciliation.ok and not result.errors


def recount(args: argparse.Namespace) -> bool:
    """Reconcile an earlier run again, by its tag and its accepted count."""
    reconciliation = reconcile(args, args.run_tag, args.accepted)
    print(reconciliation.line())
    return reconciliation.ok


def load_shop(args: argparse.Namespace) -> bool:
    ok = True
    for path in ("/", "/products/LNT-003"):
        result = run_hey(f"{args.frontend}{path}", args.duration, args.concurrency, args.rate)
        print(summary_line(f"shop {path}"[:8] if path == "/" else "product", result))
        ok = ok and not result.errors and set(result.statuses) <= {200}
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "target", choices=("orders", "shop", "all", "recount"), nargs="?", default="all"
    )
    parser.add_argument("--producer", default="http://127.0.0.1:8081")
    parser.add_argument("--frontend", default="http://127.0.0.1:8080")
    parser.add_argument("--duration", default="20s", help="hey -z (default 20s)")
    parser.add_argument("--concurrency", type=int, default=20, help="hey -c (default 20)")
    parser.add_argument("--rate", type=float, default=0, help="hey -q, per worker; 0 = unlimited")
    parser.add_argument(
        "--drain-patience",
        type=float,
        default=30.0,
        help="give up waiting when the store's count stalls this long (s)",
    )
    parser.add_argument("--run-tag", help="tag the run's orders with this customer name")
    parser.add_argument("--accepted", type=int, default=0, help="recount: the run's 202 answers")
    args = parser.parse_args(argv)
    if args.target == "recount" and not args.run_tag:
        parser.error("recount needs --run-tag")
    for name in ("producer", "frontend"):
        setattr(args, name, getattr(args, name).rstrip("/"))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.target == "recount":
        return 0 if recount(args) else 1
    ok = True
    if args.target in ("orders", "all"):
        ok = load_orders(args) and ok
    if args.target in ("shop", "all"):
        ok = load_shop(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
