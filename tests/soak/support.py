"""What both soaks share: orders at a fixed rate, the faults' bookkeeping, and the verdict.

The verdict is the same for the 1,500-order soak in `make test` and the 10,000-order one in
`make soak`: every accepted order fulfilled exactly once (or, if poison, in the DLQ once), only
503s and 504s and only around the outage, no 202 during it, and nothing in the table that was
not accepted or answered "unknown" (a 503 was really refused).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from devstack import ServiceProcess
from devstack.flags import TEMPLATE, set_variant
from tests.conftest import make_shop
from tests.support.net import free_port, http, wait_for
from tests.support.proxy import TcpProxy
from tests.support.shop import Shop, order_payload


def soak_shop(moto_port: int, tmp_path: Path) -> tuple[Shop, TcpProxy]:
    """Producer and consumer behind a proxy to the endpoint (the outage cuts it), 5% of orders
    poison, a 5 s visibility timeout so redeliveries after a crash come back quickly."""
    flags = tmp_path / "flags.json"
    shutil.copy(TEMPLATE, flags)
    set_variant(flags, "producer-poison-rate", "some")
    proxy = TcpProxy(free_port(), moto_port).start()
    shop = make_shop(
        moto_port,
        aws_port=proxy.port,
        env={
            "FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(flags),
            "CONSUMER_VISIBILITY_SECONDS": "5",
            "CONSUMER_CONCURRENCY": "4",
            "LOG_LEVEL": "info",
        },
        visibility_seconds=5,
    )
    return shop, proxy


@dataclass(frozen=True)
class Attempt:
    started: float
    ended: float
    status: int
    order_id: str | None


def place(shop: Shop, index: int, t0: float) -> Attempt:
    started = time.monotonic() - t0
    try:
        status, _, body = http(
            "POST",
            f"{shop.producer}/orders",
            order_payload((f"LNT-{index % 14 + 1:03d}", 1)),
            timeout=15,
        )
    except OSError:
        status, body = 0, b"{}"
    # 202 and 504 (outcome unknown) both name the order id; 503 names none: nothing was queued
    order_id = json.loads(body).get("order_id") if status in (202, 504) else None
    return Attempt(started, time.monotonic() - t0, status, order_id)


def load(shop: Shop, t0: float, orders: int, rate: float) -> list[Attempt]:
    with ThreadPoolExecutor(16) as pool:
        futures = []
        for index in range(orders):
            delay = t0 + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(place, shop, index, t0))
        return [future.result() for future in futures]


def dlq_orders(shop: Shop) -> Counter[str]:
    """Order ids of every DLQ message, with the scenario attribute checked on each."""
    sqs = shop.client("sqs")
    url = sqs.get_queue_url(QueueName=shop.dlq_name)["QueueUrl"]
    found: Counter[str] = Counter()
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=600,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            attributes = message["MessageAttributes"]
            assert attributes["scenario"]["StringValue"] == "poison", message
            found[attributes["order_id"]["StringValue"]] += 1


def fulfilled_log_lines(processes: list[ServiceProcess]) -> list[str]:
    lines = [json.loads(t) for p in processes for t in p.lines if t.startswith("{")]
    return [
        r["order_id"]
        for r in lines
        if r.get("event") == "order processed" and r.get("outcome") == "fulfilled"
    ]


def progress(shop: Shop, t0: float, stop: threading.Event) -> None:
    """A line every 10 s, so a slow drain is visible in the CI log."""
    while not stop.wait(10):
        try:
            state = f"queue={shop.queue_counts()} dlq={shop.queue_counts(shop.dlq_name)}"
        except Exception as exc:  # noqa: BLE001 - the endpoint may be away on purpose
            state = type(exc).__name__
        print(f"soak t={time.monotonic() - t0:5.0f}s {state}", flush=True)


def verify(
    shop: Shop,
    attempts: list[Attempt],
    outage: tuple[float, float],
    rate: float,
    consumers: list[ServiceProcess],
    drain_seconds: float,
) -> str:
    """Assert the soak's contract once the load is over; return its one-line summary."""
    statuses = Counter(a.status for a in attempts)
    assert set(statuses) <= {202, 503, 504}, statuses
    in_outage = [a for a in attempts if outage[0] + 0.5 <= a.started and a.ended <= outage[1]]
    # Most requests placed during the outage started and ended inside it.
    assert len(in_outage) >= 0.6 * rate * (outage[1] - outage[0] - 0.5)
    assert {a.status for a in in_outage} == {503}, "a 202 during the outage"
    refused = [a for a in attempts if a.status in (503, 504)]
    assert all(outage[0] - 1 <= a.started <= outage[1] + 5 for a in refused), "5xx outside"

    accepted = [a.order_id for a in attempts if a.status == 202 and a.order_id]
    unknown = {a.order_id for a in attempts if a.status == 504 and a.order_id}
    assert len(accepted) == len(set(accepted)) == statuses[202]

    # Poll the cheap queue counters, not a table scan that would slow moto down.
    wait_for(lambda: shop.queue_counts() == (0, 0), drain_seconds, 3, "an empty queue")
    records = [r["pk"]["S"] for r in shop.stored_orders()]
    poison = dlq_orders(shop)

    assert len(records) == len(set(records))
    assert set(poison.values()) == {1}
    assert not set(records) & set(poison)
    # Every accepted order is there, and nothing but accepted or unknown ones: a 503 was
    # really refused.
    assert set(accepted) <= set(records) | set(poison) <= set(accepted) | unknown
    assert 0 < len(poison) < 0.15 * len(accepted)
    fulfilled = fulfilled_log_lines(consumers)
    assert len(fulfilled) == len(set(fulfilled)), "an order was fulfilled twice"
    assert set(fulfilled) <= set(records)
    return (
        f"{len(attempts)} requests, {len(accepted)} accepted, "
        f"{statuses[503]} refused and {statuses[504]} unknown during the outage "
        f"({len(unknown & set(records))} of those fulfilled), {len(records)} fulfilled, "
        f"{len(poison)} poison in the DLQ, {len(consumers)} consumer processes, "
        f"{len(fulfilled)} 'fulfilled' log lines, 0 lost, 0 doubled"
    )
