"""Synthetic traffic: the producer places generated orders by itself at a steady rate.

This is the "producer outpaces consumer" lab in one setting. Orders go through the same
:class:`OrderService` as real ones, so they are validated, traced and counted alike.
"""

from __future__ import annotations

import random
import threading
import time

from lantern.catalog import Catalog
from lantern.logs import get_logger
from lantern.orders import OrderRejected
from producer.service import OrderService, QueueUnavailable

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


class SyntheticTraffic:
    """Places ``rate`` orders per second from a background thread (per process)."""

    def __init__(self, service: OrderService, rate: float, seed: int | None = None) -> None:
        self._service, self._rate = service, rate
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._rate <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="synthetic-traffic", daemon=True)
        self._thread.start()
        log.info("synthetic traffic started", orders_per_second=self._rate)

    def stop(self, timeout: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        interval = 1.0 / self._rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self._service.place(synthetic_payload(self._service.catalog, self._rng))
            except (QueueUnavailable, OrderRejected) as exc:
                log.warning("synthetic order not placed", error=str(exc))
                self._stop.wait(1.0)  # back off instead of logging at the full rate
            next_at = max(next_at + interval, time.monotonic() - 1.0)
            self._stop.wait(max(0.0, next_at - time.monotonic()))
