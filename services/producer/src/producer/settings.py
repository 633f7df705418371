"""Producer settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lantern.settings import ServiceSettings, env_float, env_int

SERVICE = "producer"


@dataclass(frozen=True)
class ProducerSettings(ServiceSettings):
    synthetic_orders_per_second: float
    idempotency_ttl_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ProducerSettings:
        return cls(
            *ServiceSettings.shared_from_env(SERVICE, env),
            synthetic_orders_per_second=env_float(
                env, "SYNTHETIC_ORDERS_PER_SECOND", 0.0, low=0.0, high=1000.0
            ),
            idempotency_ttl_seconds=env_int(
                env, "IDEMPOTENCY_TTL_SECONDS", 86400, low=60, high=7 * 86400
            ),
        )
