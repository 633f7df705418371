"""The pipeline page tells the truth: a real stack, an order that fails for good, and what
/api/pipeline says about it next to what its order record says."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from devstack.flags import TEMPLATE, set_variant
from tests.conftest import ShopFactory
from tests.support.net import http, wait_for
from tests.support.shop import Shop

MAX_RECEIVE = 2
IDLE_SECONDS = 2.0  # frontend.history's background pace


def pipeline(shop: Shop, since: float | None = None) -> dict[str, Any]:
    query = "" if since is None else f"?since={since}"
    status, _, body = http("GET", f"{shop.stack.config.url('frontend')}/api/pipeline{query}")
    assert status == 200
    result: dict[str, Any] = json.loads(body)
    return result


def reading_after(shop: Shop, moment: float, key: str = "consumer") -> dict[str, Any]:
    """The first pipeline reading whose ``key`` figures were read after ``moment``."""

    def newer() -> dict[str, Any] | None:
        snap = pipeline(shop)
        read_at = (snap.get(key) or {}).get("read_at")
        return snap if read_at is not None and read_at > moment else None

    return wait_for(newer, 15, interval=0.2, what=f"a {key} reading after the moment")


def test_an_order_that_fails_for_good_is_one_order_on_the_dlq_tile_as_its_record_says(
    shop_factory: ShopFactory, tmp_path: Path
) -> None:
    flags = tmp_path / "flags.json"
    shutil.copy(TEMPLATE, flags)
    set_variant(flags, "consumer-failure-rate", "broken")
    shop = shop_factory(
        services=("producer", "consumer", "frontend"),
        env={
            "FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(flags),
            "CONSUMER_RETRY_BASE_SECONDS": "0",
            # Only a watcher can make the queue readings move: the idle pace is an hour.
            "QUEUE_DEPTH_INTERVAL_SECONDS": "3600",
        },
        max_receive_count=MAX_RECEIVE,
    )
    first = pipeline(shop)
    assert first["consumer"]["done"] == 0
    assert first["dlq"]["total"] == 0

    order_id = shop.place()
    record = wait_for(lambda: shop.order(order_id), 30, what="the failed record")
    seen_at = time.time()

    assert record["status"] == "failed"  # its page: "set aside on the dead-letter queue"
    snap = reading_after(shop, seen_at)
    assert snap["producer"]["accepted"] == 1
    assert snap["consumer"]["done"] == 1  # one order, not two attempts
    assert snap["consumer"]["set_aside"] == 1
    assert snap["consumer"]["fulfilled"] == 0
    assert snap["consumer"]["attempts_failed"] == MAX_RECEIVE
    assert snap["consumer"]["retried"] == MAX_RECEIVE - 1
    assert snap["dlq"]["total"] == 1  # on the tile already, moved by SQS or not

    # SQS moves the message at a later receive; the tile still counts it once.
    def moved() -> dict[str, Any] | None:
        later = pipeline(shop)
        return later if later["dlq"]["visible"] == 1 else None

    later = wait_for(moved, 30, interval=0.3, what="the message in the DLQ")
    assert later["dlq"]["awaiting"] == 0
    assert later["dlq"]["total"] == 1
    assert later["consumer"]["done"] <= later["producer"]["accepted"]


def test_watched_queue_readings_stay_fresh_and_the_history_is_the_same_on_reload(
    shop_factory: ShopFactory,
) -> None:
    shop = shop_factory(
        services=("producer", "consumer", "frontend"),
        env={"QUEUE_DEPTH_INTERVAL_SECONDS": "3600"},
    )
    opened = pipeline(shop)
    assert opened["queue"] is not None
    start_read = opened["queue"]["read_at"]

    # With an hour's idle pace, a newer reading can only come from somebody watching.
    fresh = reading_after(shop, start_read, key="queue")
    assert fresh["queue"]["read_at"] > start_read
    assert set(fresh) >= {"now", "history", "recent_at"}

    # A reload, answered by either worker, draws the past the first view saw: each worker's
    # ring has read the same sources since it started, a point every IDLE_SECONDS.
    shown = [point[0] for point in opened["history"]]
    reloaded = [point[0] for point in pipeline(shop)["history"]]
    assert shown
    assert reloaded[0] <= shown[0] + IDLE_SECONDS
