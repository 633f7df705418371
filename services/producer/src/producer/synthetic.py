"""Synthetic traffic: the producer places generated orders by itself at a steady rate.

This is the "producer outpaces consumer" lab in one setting. Orders go through the same
:class:`OrderService` as real ones, so they are validated, traced and counted alike. The rate is
``SYNTHETIC_ORDERS_PER_SECOND`` unless the ``synthetic-orders`` scenario switch names one, so a
lab can start, double and stop the traffic while the shop runs.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from lantern.catalog import Catalog
from lantern.flags import SYNTHETIC_ORDERS, Scenarios
from lantern.logs import get_logger
from lantern.orders import OrderRejected
from producer.service import OrderService, QueueUnavailable
from producer.settings import ProducerSettings

log = get_logger(__name__)


def synthetic_payload(catalog: Catalog, rng: random.Random) -> dict[str, object]:
    products = rng.sample(list(catalog), k=rng.randint(1, 3))
    shopper = rng.randint(1, 9999)
    return {
        "customer": {
            "name": f"Synthetic Shopper {shopper}",
            "email": f"shopper{shopper}@example.com",
        },
        "items": [{"sku": p.sku, "quantity": rng.randint(1, 3)} for p in products],
    }


Rate = Callable[[], float]  # orders per second for this process, read before each order


def synthetic_rate(settings: ProducerSettings, scenarios: Scenarios) -> Rate:
    """This worker's share of the producer's rate: the switch's when on, else the setting's."""

    def rate() -> float:
        wanted = scenarios.number(SYNTHETIC_ORDERS) or settings.synthetic_orders_per_second
        return wanted / settings.workers

    return rate


class SyntheticTraffic:
    """Places ``rate()`` orders per second from a background thread (per process)."""

    IDLE_CHECK_SECONDS = 1.0  # how soon a rate switched on from zero takes effect

    def __init__(self, service: OrderService, rate: float | Rate, seed: int | None = None) -> None:
        self._service = service
        self._rate: Rate = (lambda: rate) if isinstance(rate, int | float) else rate
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="synthetic-traffic", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        next_at, running = time.monotonic(), 0.0
        while not self._stop.is_set():
            rate = self._rate()
            if rate != running:
                log.info("synthetic traffic rate", orders_per_second=rate)
                running, next_at = rate, time.monotonic()
            if rate <= 0:
                self._stop.wait(self.IDLE_CHECK_SECONDS)
                continue
            self._place()
            next_at = max(next_at + 1.0 / rate, time.monotonic() - 1.0)
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _place(self) -> None:
        try:
            self._service.place(synthetic_payload(self._service.catalog, self._rng))
        except (QueueUnavailable, OrderRejected) as exc:
            log.warning("synthetic order not placed", error=str(exc))
            self._stop.wait(1.0)  # back off instead of logging at the full rate
