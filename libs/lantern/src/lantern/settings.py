"""Typed settings read once from the environment, failing fast with a clear message.

Standard names are used wherever one exists (``AWS_*``, ``OTEL_*``, ``STATSD_*``,
``WEB_CONCURRENCY``); everything else is documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

TRACING_MODES = ("otel", "xray", "off")
LOG_FORMATS = ("auto", "json", "console")
FLAG_FILE_ENV = "FLAGD_OFFLINE_FLAG_SOURCE_PATH"


class SettingsError(ValueError):
    """Raised when an environment variable holds a value the service cannot use."""


def _read(env: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], hint: str) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not valid: expected {hint}") from None


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    return _read(env, name, default, str, "a string")


def env_optional(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    return raw or None


def env_int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    value = _read(env, name, default, int, "an integer")
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range: expected {low}..{high}")
    return value


def env_float(
    env: Mapping[str, str], name: str, default: float, *, low: float, high: float
) -> float:
    value = _read(env, name, default, float, "a number")
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range: expected {low}..{high}")
    return value


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(env, name, default).lower()
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not valid: expected one of {', '.join(choices)}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    def parse(raw: str) -> bool:
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)

    return _read(env, name, default, parse, "true or false")


def flag_file(env: Mapping[str, str] = os.environ) -> str | None:
    """The configured scenario flag file (see :mod:`lantern.flags`), checked to exist."""
    path = env.get("FLAGD_OFFLINE_FLAG_SOURCE_PATH", "").strip()
    if path and not Path(path).is_file():
        raise SettingsError(f"{FLAG_FILE_ENV}={path!r}: no such flag file")
    return path or None


@dataclass(frozen=True)
class AwsSettings:
    """Where the queue and the table are. Region and endpoint use the standard AWS variables."""

    region: str
    endpoint_url: str | None
    queue_name: str
    queue_url: str | None
    dlq_name: str
    table_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AwsSettings:
        return cls(
            region=env_optional(env, "AWS_REGION")
            or env_optional(env, "AWS_DEFAULT_REGION")
            or "us-east-1",
            endpoint_url=env_optional(env, "AWS_ENDPOINT_URL"),
            queue_name=env_str(env, "ORDERS_QUEUE_NAME", "orders"),
            queue_url=env_optional(env, "ORDERS_QUEUE_URL"),
            dlq_name=env_str(env, "ORDERS_DLQ_NAME", "orders-dlq"),
            table_name=env_str(env, "ORDERS_TABLE_NAME", "orders"),
        )


@dataclass(frozen=True)
class LogSettings:
    """How a process logs; read by the gunicorn master and by each worker's telemetry alike."""

    service: str
    level: str
    format: str

    @classmethod
    def from_env(cls, default_service: str, env: Mapping[str, str] = os.environ) -> LogSettings:
        return cls(
            service=env_str(env, "OTEL_SERVICE_NAME", default_service),
            level=env_choice(
                env, "LOG_LEVEL", "info", ("debug", "info", "warning", "error")
            ).upper(),
            format=env_choice(env, "LOG_FORMAT", "auto", LOG_FORMATS),
        )


@dataclass(frozen=True)
class TelemetrySettings:
    """How a service reports. Trace exporters follow the standard ``OTEL_*`` variables."""

    service_name: str
    tracing_mode: str
    statsd_host: str | None
    statsd_port: int
    statsd_prefix: str
    logging: LogSettings
    xray_daemon_address: str
    xray_sampling_rate: float

    @classmethod
    def from_env(
        cls, default_service: str, env: Mapping[str, str] = os.environ
    ) -> TelemetrySettings:
        service = env_str(env, "OTEL_SERVICE_NAME", default_service)
        mode = env_choice(env, "TRACING_MODE", "otel", TRACING_MODES)
        if mode == "xray" and importlib.util.find_spec("aws_xray_sdk") is None:
            raise SettingsError(
                f"TRACING_MODE=xray: {service} does not carry the AWS X-Ray SDK (the lantern[xray]"
                " extra); use otel with OTEL_PROPAGATORS=tracecontext,baggage,xray instead"
            )
        return cls(
            service_name=service,
            tracing_mode=mode,
            statsd_host=None
            if env_str(env, "STATSD_HOST", "127.0.0.1").lower() in ("", "none", "off")
            else env_str(env, "STATSD_HOST", "127.0.0.1"),
            statsd_port=env_int(env, "STATSD_PORT", 8125, low=1, high=65535),
            statsd_prefix=env_str(env, "STATSD_PREFIX", default_service),
            logging=LogSettings.from_env(default_service, env),
            xray_daemon_address=env_str(env, "AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000"),
            xray_sampling_rate=env_float(env, "XRAY_SAMPLING_RATE", 1.0, low=0.0, high=1.0),
        )


def web_read_timeout(env: Mapping[str, str]) -> float:
    """Seconds a client has to send a whole request before it is answered 408
    (``WEB_READ_TIMEOUT``; see ``lantern.http_worker``)."""
    return env_float(env, "WEB_READ_TIMEOUT", 10.0, low=0.5, high=300.0)


@dataclass(frozen=True)
class ServiceSettings:
    """What every back-end service reads: its AWS resources, how it reports, its scenario flag
    file and how many gunicorn workers serve it (``lantern.serve`` exports the resolved
    ``WEB_CONCURRENCY``, so per-process work can be divided by it).

    A service's settings class extends this one with its own fields and builds itself from
    :meth:`shared_from_env` followed by those fields.
    """

    aws: AwsSettings
    telemetry: TelemetrySettings
    flag_file: str | None
    workers: int

    @staticmethod
    def shared_from_env(
        service: str, env: Mapping[str, str]
    ) -> tuple[AwsSettings, TelemetrySettings, str | None, int]:
        """The shared fields, in order, for a subclass's constructor: ``cls(*shared, ...)``."""
        return (
            AwsSettings.from_env(env),
            TelemetrySettings.from_env(service, env),
            flag_file(env),
            env_int(env, "WEB_CONCURRENCY", 1, low=1, high=64),
        )
