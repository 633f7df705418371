"""Prometheus metrics that are exact under gunicorn with several workers.

Each service builds its metrics on a registry it owns (so tests can build many apps). When
``PROMETHEUS_MULTIPROC_DIR`` is set, prometheus-client writes every value to per-process files
and :func:`render_metrics` aggregates them with a fresh registry on each scrape; otherwise the
owning registry is rendered directly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Buckets for request-scale latencies in seconds: 5 ms to 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def reset_multiproc_dir() -> None:
    """Empty the multiprocess directory; call once in the gunicorn master before workers start."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    # Empty it rather than remove it: on Kubernetes it is often a mount point (emptyDir).
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def mark_process_dead(pid: int) -> None:
    if multiprocess_enabled():
        multiprocess.mark_process_dead(pid)


def render_metrics(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The Prometheus text exposition for this service, aggregated across workers if needed."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class HttpMetrics:
    """The HTTP server request histogram every service exposes."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.request_duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests served, by route template, method and status code.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
