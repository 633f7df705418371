"""`make load`: hey drives the order API; the run's orders are counted in the table by id.

Against a real shop on the moto endpoint: a clean run reconciles (fulfilled == accepted == the
run's records), and a tampered store (one record of the run deleted, one stray record carrying
the run's tag) is reported as missing 1 / extra 1 with a non-zero exit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from lantern.table import order_key
from load.__main__ import parse_args
from load.hey import parse_hey
from tests.conftest import ShopFactory
from tests.support.shop import Shop, order_payload

HEY_OUTPUT = """
Summary:
  Total:\t2.0031 secs
  Slowest:\t0.2100 secs
  Fastest:\t0.0020 secs
  Average:\t0.0150 secs
  Requests/sec:\t412.3456

Response time histogram:
  0.002 [700]	|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.210 [120]	|■■■■■■■

Latency distribution:
  10% in 0.0040 secs
  50% in 0.0120 secs
  99% in 0.1800 secs

Status code distribution:
  [202]\t800 responses
  [503]\t20 responses

Error distribution:
  [5]\tPost "http://127.0.0.1:1/orders": dial tcp 127.0.0.1:1: connect: connection refused
"""


def test_hey_summary_is_read_including_failures() -> None:
    result = parse_hey(HEY_OUTPUT)

    assert result.requests_per_second == pytest.approx(412.3456)
    assert result.p50_ms == pytest.approx(12.0)
    assert result.p99_ms == pytest.approx(180.0)
    assert result.statuses == {202: 800, 503: 20}
    assert sum(result.errors.values()) == 5
    assert result.total == 825


def load_env(shop: Shop) -> dict[str, str]:
    """The driver finds the table as the services do: the standard AWS variables."""
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": shop.stack.config.endpoint_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "lantern-local",
        "AWS_SECRET_ACCESS_KEY": "lantern-local",
        "ORDERS_TABLE_NAME": shop.table_name,
    }


def run_driver(shop: Shop, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "load", *args, "--drain-patience", "15"],
        capture_output=True,
        text=True,
        timeout=90,
        env=load_env(shop),
        check=False,
    )


def verdict(output: str) -> dict[str, Any]:
    """The last line, ``accepted N   fulfilled N   failed N   missing N   extra N   OK``."""
    words = output.strip().splitlines()[-1].split()
    counts: dict[str, Any] = {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}
    counts["verdict"] = words[-1]
    return counts


def run_records(shop: Shop, run_tag: str) -> list[dict[str, Any]]:
    return [o for o in shop.stored_orders() if o["customer_name"]["S"] == run_tag]


def test_load_orders_counts_the_runs_fulfilled_orders_by_id(shop_factory: ShopFactory) -> None:
    assert shutil.which("hey"), "hey is required: apt-get install hey"
    shop = shop_factory()
    shop.place()  # an order of another run: must not be counted

    result = run_driver(
        shop, "orders", "--duration", "3s", "--concurrency", "4", "--producer", shop.producer
    )

    assert result.returncode == 0, result.stdout + result.stderr
    counts = verdict(result.stdout)
    assert counts["accepted"] > 0
    assert counts["accepted"] == counts["fulfilled"] == len(shop.stored_orders()) - 1
    assert (counts["failed"], counts["missing"], counts["extra"]) == (0, 0, 0)
    assert counts["verdict"] == "OK"
    # Without a fault no message comes back after its order was fulfilled: the keeper holds
    # every message of a batch from the moment its receive was sent.
    assert shop.processed("fulfilled") == counts["accepted"] + 1
    assert shop.processed("redelivered") == 0


def test_a_lost_and_a_stray_order_of_the_run_are_reported(shop_factory: ShopFactory) -> None:
    shop = shop_factory()
    run_tag = "Load run tampered"
    placed = [shop.place(order_payload(name=run_tag)) for _ in range(3)]
    for order_id in placed:
        shop.wait_fulfilled(order_id)
    dynamodb = shop.client("dynamodb")

    dynamodb.delete_item(TableName=shop.table_name, Key=order_key(placed[0]))
    lost = run_driver(shop, "recount", "--run-tag", run_tag, "--accepted", "3")
    stray = dict(run_records(shop, run_tag)[0], pk={"S": "ord_stray"}, order_id={"S": "ord_stray"})
    dynamodb.put_item(TableName=shop.table_name, Item=stray)
    doubled = run_driver(shop, "recount", "--run-tag", run_tag, "--accepted", "2")

    assert lost.returncode == 1, lost.stdout + lost.stderr
    assert verdict(lost.stdout) == {
        "accepted": 3,
        "fulfilled": 2,
        "failed": 0,
        "missing": 1,
        "extra": 0,
        "verdict": "MISMATCH",
    }
    assert doubled.returncode == 1, doubled.stdout + doubled.stderr
    assert verdict(doubled.stdout) == {
        "accepted": 2,
        "fulfilled": 3,
        "failed": 0,
        "missing": 0,
        "extra": 1,
        "verdict": "MISMATCH",
    }


def test_the_load_image_configures_the_driver_through_its_environment() -> None:
    """The image runs ``lantern-load`` with no arguments: every option has a LOAD_* default,
    and a command-line option still wins over it."""
    env = {
        "LOAD_TARGET": "orders",
        "PRODUCER_URL": "http://producer:8081/",
        "LOAD_DURATION": "5s",
        "LOAD_CONCURRENCY": "3",
        "LOAD_RATE": "2.5",
        "LOAD_DRAIN_PATIENCE_SECONDS": "90",
    }
    args = parse_args([], env)
    assert (args.target, args.producer, args.duration) == ("orders", "http://producer:8081", "5s")
    assert (args.concurrency, args.rate, args.drain_patience) == (3, 2.5, 90.0)
    assert parse_args(["shop", "--concurrency", "7"], env).concurrency == 7
