"""Load the storefront and the order API with ``hey``, then say what happened to the orders.

Runs in the ``load`` image: ``docker compose --profile load run --rm load`` and, in a cluster,
``kubectl -n lantern create job load-1 --from=cronjob/load``. Standard library only.

Environment (all optional):
  FRONTEND_URL         storefront base URL               (http://frontend:8080)
  PRODUCER_URL         order API base URL                (http://producer:8081)
  CONSUMER_URL         consumer base URL, for /queues    (http://consumer:8082)
  LOAD_TARGETS         comma list of shop, orders        (shop,orders)
  LOAD_DURATION        hey -z, per target                (30s)
  LOAD_CONCURRENCY     hey -c, concurrent workers        (10)
  LOAD_RATE            hey -q, requests/s per worker; 0 = as fast as possible (0)
  LOAD_SETTLE_SECONDS  how long to wait for the queue to drain afterwards (120)
  QUEUE_DEPTH_INTERVAL_SECONDS  how often the consumer refreshes /queues: the first reading
                       after the load waits this long, so it is not an old one (10)

``hey`` exits 0 even when every request failed, so the summary reads its status-code section:
orders are *accepted* when the producer answered 202, and counted *fulfilled* once the queue has
drained and the dead-letter queue did not grow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

ORDER_BODY = json.dumps(
    {
        "customer": {"name": "Load Test", "email": "load@example.com"},
        "items": [{"sku": "LNT-001", "quantity": 1}],
    }
)
QUEUE, DLQ = "orders", "orders-dlq"

_RPS = re.compile(r"Requests/sec:\s+([0-9.]+)")
_PERCENTILE = re.compile(r"^\s+(\d+)%+ in ([0-9.]+) secs", re.MULTILINE)
_STATUS = re.compile(r"^\s+\[(\d{3})\]\s+(\d+) responses", re.MULTILINE)
_ERROR = re.compile(r"^\s+\[(\d+)\]\s+(.+)$", re.MULTILINE)


@dataclass
class HeyResult:
    """The parts of hey's text summary this tool reports."""

    requests_per_second: float = 0.0
    percentiles: dict[int, float] = field(default_factory=dict)  # percent -> seconds
    statuses: dict[int, int] = field(default_factory=dict)  # status code -> responses
    errors: int = 0  # requests that got no HTTP response at all

    @property
    def responses(self) -> int:
        return sum(self.statuses.values())

    def count(self, low: int, high: int) -> int:
        return sum(n for code, n in self.statuses.items() if low <= code <= high)


def parse_hey(text: str) -> HeyResult:
    """Read hey's default (non-CSV) output."""
    result = HeyResult()
    if match := _RPS.search(text):
        result.requests_per_second = float(match[1])
    result.percentiles = {int(p): float(s) for p, s in _PERCENTILE.findall(text)}
    result.statuses = {int(code): int(n) for code, n in _STATUS.findall(text)}
    _, _, errors = text.partition("Error distribution:")
    result.errors = sum(int(n) for n, _ in _ERROR.findall(errors))
    return result


def describe(name: str, result: HeyResult) -> str:
    p50 = result.percentiles.get(50, 0.0) * 1000
    p99 = result.percentiles.get(99, 0.0) * 1000
    statuses = ", ".join(f"{code} x{n}" for code, n in sorted(result.statuses.items()))
    line = (
        f"{name:<7} {result.responses} responses, {result.requests_per_second:.1f} req/s, "
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, status {statuses or 'none'}"
    )
    if result.errors:
        line += f", {result.errors} without a response (timeouts, refused connections)"
    return line


def run_hey(url: str, *, duration: str, concurrency: int, rate: float, post: bool) -> HeyResult:
    argv = ["hey", "-z", duration, "-c", str(concurrency)]
    if rate > 0:
        argv += ["-q", f"{rate:g}"]
    if post:
        argv += ["-m", "POST", "-T", "application/json", "-d", ORDER_BODY]
    argv.append(url)
    completed = subprocess.run(argv, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"hey failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse_hey(completed.stdout)


def queue_depths(consumer_url: str) -> dict[str, int] | None:
    """Visible + in-flight messages per queue, as the consumer last polled them."""
    if not consumer_url.startswith(("http://", "https://")):
        raise ValueError(f"CONSUMER_URL must be an http(s) URL, not {consumer_url!r}")
    try:
        with urllib.request.urlopen(f"{consumer_url}/queues", timeout=5) as response:  # noqa: S310
            body = json.load(response)
    except (OSError, ValueError):
        return None
    return {name: int(d["visible"]) + int(d["in_flight"]) for name, d in body.items()}


def settle(
    consumer_url: str, dlq_before: int | None, accepted: int, seconds: float, refresh: float
) -> str:
    """Wait for the orders queue to drain, then say how many accepted orders were fulfilled."""
    started = time.monotonic()
    time.sleep(refresh)  # the consumer's /queues is a periodic reading: wait for a fresh one
    depths = queue_depths(consumer_url)
    while depths is not None and depths.get(QUEUE, 0) > 0:
        if time.monotonic() - started > seconds:
            return (
                f"backlog  {depths[QUEUE]} orders still queued after {seconds:.0f} s: the consumer"
                " is behind (watch it scale, or raise LOAD_SETTLE_SECONDS)"
            )
        time.sleep(2)
        depths = queue_depths(consumer_url)
    if depths is None:
        return f"orders   {accepted} accepted; queue depth unavailable from {consumer_url}/queues"
    dead = depths.get(DLQ, 0) - (dlq_before or 0)
    return (
        f"orders   {accepted} accepted, {accepted - max(dead, 0)} fulfilled, "
        f"{max(dead, 0)} dead-lettered; queue drained {time.monotonic() - started:.0f} s "
        "after the load stopped"
    )


def main() -> int:
    env = os.environ
    frontend = env.get("FRONTEND_URL", "http://frontend:8080").rstrip("/")
    producer = env.get("PRODUCER_URL", "http://producer:8081").rstrip("/")
    consumer = env.get("CONSUMER_URL", "http://consumer:8082").rstrip("/")
    targets = [t.strip() for t in env.get("LOAD_TARGETS", "shop,orders").split(",") if t.strip()]
    duration = env.get("LOAD_DURATION", "30s")
    concurrency = int(env.get("LOAD_CONCURRENCY", "10"))
    rate = float(env.get("LOAD_RATE", "0"))
    unknown = set(targets) - {"shop", "orders"}
    if unknown or not targets:
        print(f"LOAD_TARGETS: use shop and/or orders, not {sorted(unknown)}", file=sys.stderr)
        return 2
    if shutil.which("hey") is None:
        print("hey is not installed (Debian package: hey)", file=sys.stderr)
        return 2

    dlq_before = (queue_depths(consumer) or {}).get(DLQ)
    results: dict[str, HeyResult] = {}
    for target in targets:
        url = f"{frontend}/" if target == "shop" else f"{producer}/orders"
        print(f"hey: {target} {url} for {duration}, {concurrency} workers", flush=True)
        results[target] = run_hey(
            url, duration=duration, concurrency=concurrency, rate=rate, post=target == "orders"
        )

    print("\nSummary")
    for target, result in results.items():
        print(describe(target, result))
    if "orders" in results:
        accepted = results["orders"].statuses.get(202, 0)
        settle_seconds = float(env.get("LOAD_SETTLE_SECONDS", "120"))
        refresh = float(env.get("QUEUE_DEPTH_INTERVAL_SECONDS", "10"))
        print(settle(consumer, dlq_before, accepted, settle_seconds, refresh))
    return 0 if any(r.count(200, 299) for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
