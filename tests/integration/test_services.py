"""Service behaviour beyond the order path: startup checks, synthetic traffic, several workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ShopFactory
from tests.support.net import http, wait_for


@pytest.mark.parametrize(
    ("service", "variable", "value", "message"),
    [
        (
            "consumer",
            "CONSUMER_BATCH_SIZE",
            "20",
            "CONSUMER_BATCH_SIZE=20 is out of range: expected 1..10",
        ),
        ("producer", "SYNTHETIC_ORDERS_PER_SECOND", "lots", "expected a number"),
        ("producer", "TRACING_MODE", "jaeger", "expected one of otel, xray, off"),
    ],
)
def test_a_bad_setting_stops_the_service_with_one_clear_line(
    service: str, variable: str, value: str, message: str
) -> None:
    env = {**os.environ, variable: value, "PORT": "1"}

    result = subprocess.run(
        [sys.executable, "-m", service], env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 2
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["event"] == "invalid settings"
    assert message in line["error"]


def test_synthetic_traffic_places_orders_by_itself(shop_factory: ShopFactory) -> None:
    shop = shop_factory(env={"SYNTHETIC_ORDERS_PER_SECOND": "20"})

    records = wait_for(
        lambda: found if len(found := shop.stored_orders()) >= 20 else None,
        30,
        interval=0.5,
        what="20 synthetic orders",
    )

    names = {r["customer_name"]["S"] for r in records}
    assert all(name.startswith("Synthetic Shopper") for name in names)
    assert {r["status"]["S"] for r in records} == {"fulfilled"}


def test_several_consumer_processes_share_the_queue(shop_factory: ShopFactory) -> None:
    shop = shop_factory(
        per_service_env={"consumer": {"WEB_CONCURRENCY": "2", "CONSUMER_CONCURRENCY": "2"}}
    )
    accepted = [shop.place() for _ in range(60)]

    wait_for(lambda: len(shop.stored_orders()) == 60, 60, interval=0.5, what="60 fulfilled")

    lines = [
        json.loads(text) for text in shop.stack.services["consumer"].lines if text.startswith("{")
    ]
    processed = [rec for rec in lines if rec.get("event") == "order processed"]
    assert sorted(rec["order_id"] for rec in processed) == sorted(accepted)
    workers = {rec["event"] for rec in lines if rec.get("event", "").startswith("Booting worker")}
    assert len(workers) == 2
    status, _, _ = http("GET", f"{shop.consumer}/readyz")
    assert status == 200
