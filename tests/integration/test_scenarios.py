"""Scenario switches change behaviour at runtime, without a restart (OpenFeature + flagd file)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from devstack.flags import TEMPLATE, set_variant
from producer.synthetic import SyntheticTraffic
from tests.conftest import ShopFactory
from tests.support.net import http, wait_for
from tests.support.shop import Shop, order_payload


def _flags(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    shutil.copy(TEMPLATE, path)
    return path


def _lines(shop: Shop, service: str, event: str) -> list[dict[str, Any]]:
    records = [json.loads(t) for t in shop.stack.services[service].lines if t.startswith("{")]
    return [r for r in records if r.get("event") == event]


def test_consumer_failures_switch_on_and_off_while_running(
    shop_factory: ShopFactory, tmp_path: Path
) -> None:
    flags = _flags(tmp_path)
    shop = shop_factory(
        env={"FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(flags), "CONSUMER_RETRY_BASE_SECONDS": "1"}
    )
    shop.wait_fulfilled(shop.place())

    set_variant(flags, "consumer-failure-rate", "broken")

    def a_failing_order() -> str | None:  # the watcher re-reads the file within a second
        order_id = shop.place()
        wait_for(lambda: order_id in _failed(shop) or shop.order(order_id), 10, what="processing")
        return order_id if order_id in _failed(shop) else None

    order_id = wait_for(a_failing_order, 15, what="an injected failure")
    assert shop.order(order_id) is None
    set_variant(flags, "consumer-failure-rate", "off")

    record = shop.wait_fulfilled(order_id, timeout=20)
    assert record["status"] == "fulfilled"
    assert {
        r["reason"] for r in _lines(shop, "consumer", "order processed") if r["outcome"] == "failed"
    } == {"ScenarioFailure"}


def _failed(shop: Shop) -> set[str]:
    lines = _lines(shop, "consumer", "order processed")
    return {r["order_id"] for r in lines if r["outcome"] == "failed"}


def test_poisoned_orders_are_accepted_and_end_in_the_dlq(
    shop_factory: ShopFactory, tmp_path: Path
) -> None:
    flags = _flags(tmp_path)
    set_variant(flags, "producer-poison-rate", "all")
    shop = shop_factory(env={"FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(flags)}, max_receive_count=2)

    poisoned = {shop.place() for _ in range(3)}

    wait_for(lambda: shop.queue_counts(shop.dlq_name)[0] == 3, 30, interval=0.5, what="DLQ")
    sqs = shop.client("sqs")
    url = sqs.get_queue_url(QueueName=shop.dlq_name)["QueueUrl"]
    moved = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    assert {m["MessageAttributes"]["scenario"]["StringValue"] for m in moved["Messages"]} == {
        "poison"
    }
    assert {
        m["MessageAttributes"]["order_id"]["StringValue"] for m in moved["Messages"]
    } == poisoned
    assert shop.stored_orders() == []


def test_added_sqs_latency_shows_in_the_request(shop_factory: ShopFactory, tmp_path: Path) -> None:
    flags = _flags(tmp_path)
    set_variant(flags, "producer-sqs-latency-ms", "slow")
    shop = shop_factory(services=("producer",), env={"FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(flags)})

    status, _, _ = http("POST", f"{shop.producer}/orders", order_payload())

    assert status == 202
    # The log line reaches the test through a pipe reader: wait for it rather than race it.
    requests = wait_for(lambda: _lines(shop, "producer", "request"), 10, what="the request line")
    assert requests[-1]["duration_ms"] >= 300


def test_a_missing_flag_file_stops_the_service_at_start(tmp_path: Path) -> None:
    env = {**os.environ, "FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(tmp_path / "nope.json")}
    result = subprocess.run(
        [sys.executable, "-m", "producer"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "no such flag file" in result.stderr


def test_the_synthetic_orders_switch_starts_and_stops_generated_orders_while_running(
    shop_factory: ShopFactory, tmp_path: Path
) -> None:
    flags = _flags(tmp_path)
    shop = shop_factory(env={"FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(flags)})

    def rates() -> list[float]:
        return [r["orders_per_second"] for r in _lines(shop, "producer", "synthetic traffic rate")]

    def accepted() -> int:  # the producer's own count, scraped
        _, _, raw = http("GET", f"{shop.producer}/metrics")
        body = raw.decode() if isinstance(raw, bytes) else raw
        found = re.search(r"^orders_accepted_total(?:\{[^}]*\})? ([0-9.e+]+)$", body, re.M)
        return int(float(found.group(1))) if found else 0

    workers = sum("Booting worker" in line for line in shop.stack.services["producer"].lines)
    assert rates() == []  # off, and SYNTHETIC_ORDERS_PER_SECOND is 0
    assert accepted() == 0
    set_variant(flags, "synthetic-orders", "rush")  # 2/s, split among the producer's workers
    wait_for(lambda: accepted() >= 4, 30, what="generated orders")
    wait_for(lambda: len(rates()) == workers, 30, what="every worker's share")
    assert rates() == [2 / workers] * workers
    set_variant(flags, "synthetic-orders", "off")
    wait_for(lambda: rates().count(0) == workers, 30, what="every worker stopped")
    stopped = accepted()  # no order starts after a worker has read the zero rate
    time.sleep(2 * SyntheticTraffic.IDLE_CHECK_SECONDS)  # two idle checks later: still none
    assert accepted() == stopped
