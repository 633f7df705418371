"""`make soak`: 10,000 orders under make run's supervisor (not in make test: about 15 minutes).

The same contract as the 1,500-order soak (tests/soak/support.py: nothing lost, nothing doubled,
every refused order really refused), with the faults a long-running `make run` meets: the
consumer SIGKILLed three times (master and workers), a crash of its gunicorn master alone (its
orphaned workers finish their batches and exit while the new master waits for the port), and
the AWS endpoint away for 5 s. Every restart is make run's own (devstack.supervise.Supervisor),
never the test's.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from devstack import ServiceProcess
from devstack.supervise import Supervisor
from tests.soak.support import load, progress, soak_shop, verify
from tests.support.proxy import TcpProxy
from tests.support.shop import Shop

ORDERS = 10_000
RATE = 12.0  # as in the short soak: half the embedded endpoint's ceiling on a busy machine
KILLS_AT = (60.0, 240.0, 420.0)  # the consumer's process group: master and workers
MASTER_CRASH_AT = 600.0  # only the master
OUTAGE = (720.0, 725.0)


class Supervised:
    """make run's supervisor, one pass a second in a thread that outlives what it starts."""

    def __init__(self, shop: Shop) -> None:
        self.supervisor = Supervisor(shop.stack, log=lambda line: print(f"make run: {line}"))
        self.problems: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def __enter__(self) -> Supervised:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(120)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            problem = self.supervisor.check()
            if problem is not None:
                self.problems.append(problem)


def _faults(shop: Shop, proxy: TcpProxy, t0: float, consumers: list[ServiceProcess]) -> None:
    def at(second: float) -> ServiceProcess:
        time.sleep(max(0.0, t0 + second - time.monotonic()))
        process = shop.stack.services["consumer"]
        if process not in consumers:
            consumers.append(process)  # started by the supervisor since the last fault
        return process

    for second in KILLS_AT:
        at(second).kill()
    master = at(MASTER_CRASH_AT)
    assert master.proc is not None
    os.kill(master.proc.pid, signal.SIGKILL)
    at(OUTAGE[0])
    proxy.stop()
    at(OUTAGE[1])
    proxy.start()


@pytest.mark.soak_long
@pytest.mark.timeout(2400)
def test_10000_orders_under_make_run_nothing_lost_nothing_doubled(
    moto_port: int, tmp_path: Path
) -> None:
    shop, proxy = soak_shop(moto_port, tmp_path)
    consumers = [shop.stack.services["consumer"]]
    try:
        with Supervised(shop) as supervised:
            t0 = time.monotonic() + 1.0
            faults = threading.Thread(
                target=_faults, args=(shop, proxy, t0, consumers), daemon=True
            )
            faults.start()
            stop_progress = threading.Event()
            threading.Thread(target=progress, args=(shop, t0, stop_progress), daemon=True).start()
            attempts = load(shop, t0, ORDERS, RATE)
            faults.join(60)
            if shop.stack.services["consumer"] not in consumers:
                consumers.append(shop.stack.services["consumer"])  # the one that drains
            summary = verify(shop, attempts, OUTAGE, RATE, consumers, drain_seconds=600)
            stop_progress.set()
        restarts = supervised.supervisor.restarted

        assert supervised.problems == [], "make run gave up"
        assert restarts.count("consumer") >= len(KILLS_AT) + 1, restarts
        print(f"\nlong soak: {summary}; make run restarted the consumer {len(restarts)} times")
    finally:
        shop.stack.stop()
        proxy.stop()
