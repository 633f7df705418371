"""Scenario switches for the labs, changeable at runtime without a restart.

The OpenFeature API with the flagd provider in in-process *file* mode: point
``FLAGD_OFFLINE_FLAG_SOURCE_PATH`` at a flagd flag file (``flags/scenarios.flagd.json`` is the
template) and edit its ``defaultVariant``s while the services run; every process re-reads it
within a second. Without the variable every scenario is off and nothing is evaluated.
"""

from __future__ import annotations

import random

from lantern.logs import get_logger

log = get_logger(__name__)

CONSUMER_WORK_MS = "consumer-work-ms"
CONSUMER_FAILURE_RATE = "consumer-failure-rate"
PRODUCER_POISON_RATE = "producer-poison-rate"
PRODUCER_SQS_LATENCY_MS = "producer-sqs-latency-ms"
FRONTEND_ERROR_RATE = "frontend-error-rate"
SYNTHETIC_ORDERS = "synthetic-orders"


class ScenarioFailure(RuntimeError):
    """A failure injected on purpose by a scenario switch."""


class Scenarios:
    """Typed reads of the scenario flags; every read falls back to "off" on any problem."""

    def __init__(self, client: object | None = None, rng: random.Random | None = None) -> None:
        self._client = client
        self._rng = rng or random.Random()

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def number(self, key: str) -> float:
        if self._client is None:
            return 0.0
        try:
            value = self._client.get_float_value(key, 0.0)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - a broken flag must never break an order
            return 0.0
        return float(value)

    def roll(self, key: str) -> bool:
        """True with the probability the rate flag ``key`` holds (0 when off)."""
        rate = self.number(key)
        return rate > 0 and self._rng.random() < rate


def init_scenarios(service: str, path: str | None) -> Scenarios:
    """Install the flagd file provider once per process (after any fork) and return the reader."""
    if path is None:
        return Scenarios()
    from openfeature import api
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType

    api.set_provider(
        FlagdProvider(
            resolver_type=ResolverType.FILE, offline_flag_source_path=path, deadline_ms=1000
        )
    )
    log.info("scenario flags loaded", flag_file=path)
    return Scenarios(api.get_client(service))
