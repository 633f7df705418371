"""Fault soak: 1,500 orders at a fixed rate while the consumer is SIGKILLed three times and the
AWS endpoint disappears for 5 s. Every accepted order must be fulfilled exactly once, the
producer must answer 503 (never 202) during the outage, and the DLQ must hold only the poison
orders the test injected. An order answered 504 outcome_unknown (its send may have reached SQS
as the endpoint went away) may be fulfilled or not, but at most once; one answered 503 never
is. Bounded: about two minutes of load, then the drain."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from devstack import ServiceProcess
from tests.soak.support import load, progress, soak_shop, verify
from tests.support.proxy import TcpProxy
from tests.support.shop import Shop

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


@pytest.mark.soak
@pytest.mark.timeout(600)
def test_soak_nothing_lost_nothing_doubled(moto_port: int, tmp_path: Path) -> None:
    shop, proxy = soak_shop(moto_port, tmp_path)
    consumers = [shop.stack.services["consumer"]]
    done = threading.Event()
    try:
        t0 = time.monotonic() + 1.0
        faults = threading.Thread(
            target=_faults, args=(shop, proxy, t0, consumers, done), daemon=True
        )
        faults.start()
        stop_progress = threading.Event()
        threading.Thread(target=progress, args=(shop, t0, stop_progress), daemon=True).start()
        attempts = load(shop, t0, ORDERS, RATE)
        summary = verify(shop, attempts, OUTAGE, RATE, consumers, drain_seconds=300)
        stop_progress.set()
        print(f"\nsoak: {summary}")
    finally:
        shop.stack.stop()
        done.set()
        proxy.stop()
