"""Fault soak: 1,500 orders at a fixed rate while the consumer is SIGKILLed three times and the
AWS endpoint disappears for 5 s. Every accepted order must be fulfilled exactly once, the
producer must answer 503 (never 202) during the outage, and the DLQ must hold only the poison
orders the test injected. An order answered 504 outcome_unknown (its send may have reached SQS
as the endpoint went away) may be fulfilled or not, but at most once; one answered 503 never
is. Bounded: about two minutes of load, then the drain."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack import ServiceProcess
from devstack.flags import TEMPLATE, set_variant
from tests.conftest import make_shop
from tests.support.net import free_port, http, wait_for
from tests.support.proxy import TcpProxy
from tests.support.shop import Shop, order_payload

ORDERS = 1500
# Orders per second: 125 s of load. The embedded endpoint (moto) is the ceiling: on a slow or busy
# two-core machine it manages ~50 SendMessage/s, and each order costs it about four requests
# (send, receive, conditional put, delete). At 25/s the backlog grew, moto slowed with it, and a
# consumer restart could not become ready; 12/s keeps half the ceiling in reserve.
RATE = 12.0
# A restarted consumer's readiness asks the endpoint; give it time on a loaded machine.
RESTART_READY_SECONDS = 180.0
KILLS_AT = (15.0, 40.0, 65.0)  # seconds into the load
OUTAGE = (85.0, 90.0)


@dataclass(frozen=True)
class Attempt:
    started: float
    ended: float
    status: int
    order_id: str | None


def _place(shop: Shop, index: int, t0: float) -> Attempt:
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


def _load(shop: Shop, t0: float) -> list[Attempt]:
    with ThreadPoolExecutor(16) as pool:
        futures = []
        for index in range(ORDERS):
            delay = t0 + index / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(_place, shop, index, t0))
        return [future.result() for future in futures]


def _faults(
    shop: Shop, proxy: TcpProxy, t0: float, consumers: list[ServiceProcess], done: threading.Event
) -> None:
    """Kill and restart the consumer, then cut the endpoint. This thread then waits for ``done``:
    the consumers it started get SIGTERM when their starting thread ends (PR_SET_PDEATHSIG)."""

    def at(second: float) -> None:
        time.sleep(max(0.0, t0 + second - time.monotonic()))

    for second in KILLS_AT:
        at(second)
        shop.stack.services["consumer"].kill()
        consumers.append(shop.stack.start_service("consumer", RESTART_READY_SECONDS))
    at(OUTAGE[0])
    proxy.stop()
    at(OUTAGE[1])
    proxy.start()
    done.wait()


def _dlq_orders(shop: Shop) -> Counter[str]:
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


def _fulfilled_log_lines(processes: list[ServiceProcess]) -> list[str]:
    lines = [json.loads(t) for p in processes for t in p.lines if t.startswith("{")]
    return [
        r["order_id"]
        for r in lines
        if r.get("event") == "order processed" and r.get("outcome") == "fulfilled"
    ]


def _progress(shop: Shop, t0: float, stop: threading.Event) -> None:
    """A line every 10 s, so a slow drain is visible in the CI log."""
    while not stop.wait(10):
        try:
            state = f"queue={shop.queue_counts()} dlq={shop.queue_counts(shop.dlq_name)}"
        except Exception as exc:  # noqa: BLE001 - the endpoint may be away on purpose
            state = type(exc).__name__
        print(f"soak t={time.monotonic() - t0:5.0f}s {state}", flush=True)


@pytest.mark.soak
@pytest.mark.timeout(600)
def test_soak_nothing_lost_nothing_doubled(moto_port: int, tmp_path: Path) -> None:
    flags = tmp_path / "flags.json"
    shutil.copy(TEMPLATE, flags)
    set_variant(flags, "producer-poison-rate", "some")  # 5% of accepted orders are poison
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
    consumers = [shop.stack.services["consumer"]]
    done = threading.Event()
    try:
        t0 = time.monotonic() + 1.0
        faults = threading.Thread(
            target=_faults, args=(shop, proxy, t0, consumers, done), daemon=True
        )
        faults.start()
        stop_progress = threading.Event()
        threading.Thread(target=_progress, args=(shop, t0, stop_progress), daemon=True).start()
        attempts = _load(shop, t0)

        statuses = Counter(a.status for a in attempts)
        assert set(statuses) <= {202, 503, 504}, statuses
        in_outage = [a for a in attempts if OUTAGE[0] + 0.5 <= a.started and a.ended <= OUTAGE[1]]
        # Most requests placed during the outage started and ended inside it.
        assert len(in_outage) >= 0.6 * RATE * (OUTAGE[1] - OUTAGE[0] - 0.5)
        assert {a.status for a in in_outage} == {503}, "a 202 during the outage"
        refused = [a for a in attempts if a.status in (503, 504)]
        assert all(OUTAGE[0] - 1 <= a.started <= OUTAGE[1] + 5 for a in refused), "5xx outside"

        accepted = [a.order_id for a in attempts if a.status == 202 and a.order_id]
        unknown = {a.order_id for a in attempts if a.status == 504 and a.order_id}
        assert len(accepted) == len(set(accepted)) == statuses[202]

        # Poll the cheap queue counters, not a table scan that would slow moto down.
        wait_for(lambda: shop.queue_counts() == (0, 0), 300, interval=3, what="an empty queue")
        stop_progress.set()
        records = [r["pk"]["S"] for r in shop.stored_orders()]
        poison = _dlq_orders(shop)

        assert len(records) == len(set(records))
        assert set(poison.values()) == {1}
        assert not set(records) & set(poison)
        # Every accepted order is there, and nothing but accepted or unknown ones: a 503 was
        # really refused.
        assert set(accepted) <= set(records) | set(poison) <= set(accepted) | unknown
        assert 0 < len(poison) < 0.15 * len(accepted)
        fulfilled = _fulfilled_log_lines(consumers)
        assert len(fulfilled) == len(set(fulfilled)), "an order was fulfilled twice"
        assert set(fulfilled) <= set(records)
        print(
            f"\nsoak: {len(attempts)} requests, {len(accepted)} accepted, "
            f"{statuses[503]} refused and {statuses[504]} unknown during the outage "
            f"({len(unknown & set(records))} of those fulfilled), {len(records)} fulfilled, "
            f"{len(poison)} poison in the DLQ, {len(consumers)} consumer processes"
        )
    finally:
        shop.stack.stop()
        done.set()
        proxy.stop()
