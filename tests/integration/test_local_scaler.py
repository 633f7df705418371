"""``make run``'s KEDA stand-in against real processes and a real queue: a backlog starts extra
consumer processes that answer and take messages; an empty queue, once the scale-down window has
passed, stops them again; every order is fulfilled exactly once across the scale-out and in.
The HPA's 15 s rhythm runs on a fake clock, so nothing here waits for a timer."""

from __future__ import annotations

import time

from devstack.scaler import LocalScaler, sqs_backlog
from devstack.scaling import ScalingPolicy
from tests.conftest import ShopFactory
from tests.support.net import http
from tests.support.units import FakeClock

ORDERS = 12


def test_the_consumer_scales_out_on_backlog_and_back_in_when_it_drains(
    shop_factory: ShopFactory,
) -> None:
    # One thread, 1.5 s per order: twelve orders are a backlog for one process.
    shop = shop_factory(env={"CONSUMER_CONCURRENCY": "1", "CONSUMER_WORK_MS": "1500"})
    clock, lines = FakeClock(), list[str]()
    policy = ScalingPolicy(queue_length=4, max_replicas=3)
    scaler = LocalScaler(shop.stack, policy, sqs_backlog(shop.stack), log=lines.append, clock=clock)
    orders = [shop.place() for _ in range(ORDERS)]

    scaler.tick()
    assert scaler.replicas == ["consumer"]  # the first look waits for the HPA's period
    clock.advance(15)
    scaler.tick()
    assert scaler.replicas == ["consumer", "consumer-2", "consumer-3"], lines
    assert "→ 3 consumer replicas (was 1; one per 4 messages, at most 3)" in lines[0]
    for name in scaler.replicas[1:]:
        status, _, _ = http("GET", f"{shop.stack.config.url(name)}/readyz")
        assert status == 200

    for order_id in orders:
        assert shop.wait_fulfilled(order_id, timeout=90)["status"] == "fulfilled"
    replicas = [shop.stack.services[name] for name in scaler.replicas[1:]]
    worked = sum("order processed" in line for r in replicas for line in r.lines)
    assert worked > 0, "the extra consumers never took an order"

    clock.advance(61)  # past the 60 s window in which 3 was still wanted
    scaler.tick()
    assert scaler.replicas == ["consumer"], lines  # 3 → 1: two pods in one step, the policy's most
    deadline = time.monotonic() + 60
    while any(r.proc is not None and r.proc.poll() is None for r in replicas):
        assert time.monotonic() < deadline, "a scaled-in consumer did not exit"
        time.sleep(0.2)
    assert [r.proc.returncode for r in replicas if r.proc is not None] == [0, 0]
    assert len(shop.stored_orders()) == ORDERS  # each order once, whoever processed it
