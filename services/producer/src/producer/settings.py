"""Producer settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lantern.flags import flag_file
from lantern.settings import AwsSettings, TelemetrySettings, env_float, env_int

SERVICE = "producer"


@dataclass(frozen=True)
class ProducerSettings:
    aws: AwsSettings
    telemetry: TelemetrySettings
    flag_file: str | None
    synthetic_orders_per_second: float
    idempotency_ttl_seconds: int
    workers: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProducerSettings:
        env = os.environ if env is None else env
        return cls(
            aws=AwsSettings.from_env(env),
            telemetry=TelemetrySettings.from_env(SERVICE, env),
            flag_file=flag_file(env),
            synthetic_orders_per_second=env_float(
                env, "SYNTHETIC_ORDERS_PER_SECOND", 0.0, low=0.0, high=1000.0
            ),
            idempotency_ttl_seconds=env_int(
                env, "IDEMPOTENCY_TTL_SECONDS", 86400, low=60, high=7 * 86400
            ),
            workers=env_int(env, "WEB_CONCURRENCY", 1, low=1, high=64),
        )
