"""Drive the shop with ``hey`` and print one short summary per target.

    python -m load orders|shop|all|recount [--producer URL] [--frontend URL]
        [--duration 20s] [--concurrency 20] [--rate 0] [--drain-patience 30]

``orders`` POSTs one order body, tagged with the run's tag, to the order API; then it counts the
run's order ids in the table (:mod:`load.store`) against the 202 answers and exits non-zero on
any mismatch. ``shop`` loads the storefront's home and a product page. ``recount`` reconciles an
earlier run again, by ``--run-tag`` and ``--accepted``.

Every option has an environment default, so the load image needs no arguments: ``LOAD_TARGET``,
``PRODUCER_URL``, ``FRONTEND_URL``, ``LOAD_DURATION``, ``LOAD_CONCURRENCY``, ``LOAD_RATE``,
``LOAD_DRAIN_PATIENCE_SECONDS``. The table is found as the services find it (``AWS_REGION``,
``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_DYNAMODB``, ``ORDERS_TABLE_NAME``). Works against
``make run``, compose, or AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from lantern.aws import dynamodb_client
from lantern.settings import AwsSettings
from load.hey import HeyMissing, run_hey, summary_line
from load.store import Reconciliation, count_run, new_run_tag, order_body, wait_for_store

SHOP_PAGES = {"shop /": "/", "product": "/products/LNT-003"}


def reconcile(args: argparse.Namespace, run_tag: str, accepted: int) -> Reconciliation:
    settings = AwsSettings.from_env()
    dynamodb = dynamodb_client(settings)
    found = wait_for_store(
        lambda: count_run(dynamodb, settings.table_name, run_tag), accepted, args.drain_patience
    )
    return Reconciliation(accepted, found)


def load_orders(args: argparse.Namespace) -> bool:
    run_tag = args.run_tag or new_run_tag()
    with tempfile.TemporaryDirectory() as scratch:
        body = Path(scratch) / "order.json"
        body.write_text(json.dumps(order_body(run_tag)))
        result = run_hey(
            f"{args.producer}/orders", args.duration, args.concurrency, args.rate, body
        )
    print(summary_line("orders", result))
    print(
        f"{'':8} run {run_tag!r}   accepted {result.accepted}   counting the store...", flush=True
    )
    reconciliation = reconcile(args, run_tag, result.accepted)
    print(reconciliation.line())
    return reconciliation.ok and not result.errors


def recount(args: argparse.Namespace) -> bool:
    """Reconcile an earlier run again, by its tag and its accepted count."""
    reconciliation = reconcile(args, args.run_tag, args.accepted)
    print(reconciliation.line())
    return reconciliation.ok


def load_shop(args: argparse.Namespace) -> bool:
    ok = True
    for name, path in SHOP_PAGES.items():
        result = run_hey(f"{args.frontend}{path}", args.duration, args.concurrency, args.rate)
        print(summary_line(name, result))
        ok = ok and not result.errors and set(result.statuses) <= {200}
    return ok


def parse_args(
    argv: list[str] | None = None, env: Mapping[str, str] = os.environ
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "target",
        choices=("orders", "shop", "all", "recount"),
        nargs="?",
        default=env.get("LOAD_TARGET", "all"),
    )
    parser.add_argument("--producer", default=env.get("PRODUCER_URL", "http://127.0.0.1:8081"))
    parser.add_argument("--frontend", default=env.get("FRONTEND_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--duration", default=env.get("LOAD_DURATION", "20s"), help="hey -z")
    parser.add_argument(
        "--concurrency", type=int, default=env.get("LOAD_CONCURRENCY", "20"), help="hey -c"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=env.get("LOAD_RATE", "0"),
        help="hey -q, requests/s per worker; 0 = as fast as possible",
    )
    parser.add_argument(
        "--drain-patience",
        type=float,
        default=env.get("LOAD_DRAIN_PATIENCE_SECONDS", "30"),
        help="stop counting when the store's count has not moved for this long (s)",
    )
    parser.add_argument("--run-tag", help="tag the run's orders with this customer name")
    parser.add_argument("--accepted", type=int, default=0, help="recount: the run's 202 answers")
    args = parser.parse_args(argv)
    if args.target == "recount" and not args.run_tag:
        parser.error("recount needs --run-tag")
    for name in ("producer", "frontend"):
        setattr(args, name, getattr(args, name).rstrip("/"))
    return args


def run(args: argparse.Namespace) -> bool:
    if args.target == "recount":
        return recount(args)
    ok = True
    if args.target in ("orders", "all"):
        ok = load_orders(args) and ok
    if args.target in ("shop", "all"):
        ok = load_shop(args) and ok
    return ok


def main(argv: list[str] | None = None) -> int:
    try:
        return 0 if run(parse_args(argv)) else 1
    except HeyMissing as missing:
        print(missing, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
