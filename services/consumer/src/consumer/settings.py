"""Consumer settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lantern.settings import ServiceSettings, env_float, env_int

SERVICE = "consumer"


@dataclass(frozen=True)
class ConsumerSettings(ServiceSettings):
    concurrency: int
    batch_size: int
    wait_seconds: int
    visibility_seconds: int
    work_ms: int
    retry_base_seconds: float
    queue_depth_interval_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ConsumerSettings:
        return cls(
            *ServiceSettings.shared_from_env(SERVICE, env),
            concurrency=env_int(env, "CONSUMER_CONCURRENCY", 4, low=0, high=64),
            batch_size=env_int(env, "CONSUMER_BATCH_SIZE", 10, low=1, high=10),
            wait_seconds=env_int(env, "CONSUMER_WAIT_SECONDS", 20, low=0, high=20),
            visibility_seconds=env_int(env, "CONSUMER_VISIBILITY_SECONDS", 30, low=2, high=43200),
            work_ms=env_int(env, "CONSUMER_WORK_MS", 0, low=0, high=600_000),
            retry_base_seconds=env_float(
                env, "CONSUMER_RETRY_BASE_SECONDS", 2.0, low=0.0, high=600.0
            ),
            queue_depth_interval_seconds=env_float(
                env, "QUEUE_DEPTH_INTERVAL_SECONDS", 10.0, low=1.0, high=3600.0
            ),
        )
