"""``make load``: drive the shop with ``hey`` and print one short summary per target.

    python -m devstack.load orders|shop|all [--producer URL] [--consumer URL] [--frontend URL]
        [--duration 20s] [--concurrency 20] [--rate 0]

For orders it also reports *accepted* (202 answers) against *fulfilled* (the consumer's
``orders_processed_total{outcome="fulfilled"}`` delta once the queue has drained), so a lost or
double-fulfilled order shows. Works against ``make run``, compose, or any base URL.
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
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

SAMPLE_ORDER = {
    "customer": {"name": "Load Tester", "email": "load@example.com"},
    "items": [{"sku": "LNT-001", "quantity": 1}, {"sku": "LNT-007", "quantity": 2}],
}


@dataclass
class HeyResult:
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())


def parse_hey(output: str) -> HeyResult:
    """Read hey's text summary. hey exits 0 even when every request failed: the truth is here."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
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
    )


def run_hey(
    url: str, duration: str, concurrency: int, rate: float, body: Path | None = None
) -> HeyResult:
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


def scrape(url: str) -> dict[str, float]:
    """Every sample of a Prometheus endpoint, keyed ``name{label="v",...}``."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


FULFILLED = 'orders_processed_total{outcome="fulfilled"}'
VISIBLE = 'sqs_queue_messages{queue="%s",state="%s"}'


def wait_for_drain(consumer: str, before: float, expected: int, patience: float) -> float:
    """Fulfilled-orders delta, once it reaches ``expected`` or stops moving for ``patience`` s."""
    last, last_change = -1.0, time.monotonic()
    while True:
        delta = scrape(f"{consumer}/metrics").get(FULFILLED, 0.0) - before
        if delta >= expected:
            return delta
        if delta != last:
            last, last_change = delta, time.monotonic()
        elif time.monotonic() - last_change > patience:
            return delta
        time.sleep(1.0)


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
    before = scrape(f"{args.consumer}/metrics").get(FULFILLED, 0.0)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body:
        json.dump(SAMPLE_ORDER, body)
    result = run_hey(
        f"{args.producer}/orders", args.duration, args.concurrency, args.rate, Path(body.name)
    )
    Path(body.name).unlink()
    print(summary_line("orders", result))
    accepted = result.statuses.get(202, 0)
    print(f"{'':8} accepted {accepted}   waiting for the queue to drain...", flush=True)
    fulfilled = int(wait_for_drain(args.consumer, before, accepted, args.drain_patience))
    verdict = "OK" if fulfilled == accepted else "MISMATCH"
    print(f"{'':8} accepted {accepted}   fulfilled {fulfilled}   {verdict}")
    return fulfilled == accepted and not result.errors


def load_shop(args: argparse.Namespace) -> bool:
    ok = True
    for path in ("/", "/products/LNT-003"):
        result = run_hey(f"{args.frontend}{path}", args.duration, args.concurrency, args.rate)
        print(summary_line(f"shop {path}"[:8] if path == "/" else "product", result))
        ok = ok and not result.errors and set(result.statuses) <= {200}
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=("orders", "shop", "all"), nargs="?", default="all")
    parser.add_argument("--producer", default="http://127.0.0.1:8081")
    parser.add_argument("--consumer", default="http://127.0.0.1:8082")
    parser.add_argument("--frontend", default="http://127.0.0.1:8080")
    parser.add_argument("--duration", default="20s", help="hey -z (default 20s)")
    parser.add_argument("--concurrency", type=int, default=20, help="hey -c (default 20)")
    parser.add_argument("--rate", type=float, default=0, help="hey -q, per worker; 0 = unlimited")
    parser.add_argument(
        "--drain-patience",
        type=float,
        default=30.0,
        help="give up waiting when fulfilment stalls this long (s)",
    )
    args = parser.parse_args(argv)
    for name in ("producer", "consumer", "frontend"):
        setattr(args, name, getattr(args, name).rstrip("/"))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ok = True
    if args.target in ("orders", "all"):
        ok = load_orders(args) and ok
    if args.target in ("shop", "all"):
        ok = load_shop(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
