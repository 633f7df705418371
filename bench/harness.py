"""What every benchmark needs: one moto endpoint, stacks on free ports, hey, memory readings."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import devstack
from devstack import ServiceProcess, Stack, StackConfig
from lantern.settings import AwsSettings
from tests.support.net import free_port

# Quiet, comparable services: no StatsD agent, no span export unless a benchmark says otherwise.
QUIET = {"STATSD_HOST": "none", "OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "warning"}
# Where benchmarked services write their output: files, drained by the kernel as a container
# runtime's log driver would, not a pipe read by a thread of the measuring process (which,
# busy with hey and the sinks, paced every logging thread behind the handler's lock).
LOG_DIR = Path(tempfile.mkdtemp(prefix="lantern-bench-logs-"))
# The services with telemetry off: no spans, no StatsD, warnings only (Prometheus stays on).
TELEMETRY_OFF = {"TRACING_MODE": "off", "STATSD_HOST": "none", "LOG_LEVEL": "warning"}


def telemetry_on(otlp_port: int, statsd_port: int) -> dict[str, str]:
    """The services as shipped: spans over OTLP/HTTP to ``otlp_port``, StatsD to
    ``statsd_port``, one INFO log line per request or order, as JSON."""
    return {
        "TRACING_MODE": "otel",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "STATSD_HOST": "127.0.0.1",
        "STATSD_PORT": str(statsd_port),
        "LOG_LEVEL": "info",
        "LOG_FORMAT": "json",
    }


def log_dir() -> Path:
    """A folder of its own under LOG_DIR for one stack's service logs."""
    return LOG_DIR / uuid.uuid4().hex[:8]


def start_moto() -> ServiceProcess:
    return devstack.start_moto(free_port())


def moto_port(moto: ServiceProcess) -> int:
    return int(urlsplit(moto.ready_url).port or 0)


def names(prefix: str) -> dict[str, str]:
    suffix = f"{prefix}-{uuid.uuid4().hex[:6]}"
    return {
        "ORDERS_QUEUE_NAME": f"orders-{suffix}",
        "ORDERS_DLQ_NAME": f"orders-dlq-{suffix}",
        "ORDERS_TABLE_NAME": f"orders-{suffix}",
    }


def stack(
    moto: ServiceProcess,
    services: tuple[str, ...],
    env: dict[str, str],
    per_service_env: dict[str, dict[str, str]] | None = None,
) -> Stack:
    """Provision fresh resources and start ``services``; the caller stops the stack."""
    config = StackConfig(
        aws_port=moto_port(moto),
        producer_port=free_port(),
        consumer_port=free_port(),
        frontend_port=free_port(),
        services=services,
        env=env,
        per_service_env=per_service_env or {},
        manage_endpoint=False,
        log_dir=log_dir(),
    )
    return Stack(config).start()


def aws_settings(stack_: Stack) -> AwsSettings:
    return AwsSettings.from_env({**stack_.base_env()})


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_tree_rss(pid: int) -> dict[int, float]:
    """RSS of a process and its children (a gunicorn master and its workers)."""
    result = {pid: rss_mb(pid)}
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        result.update(process_tree_rss(int(child)))
    return result
