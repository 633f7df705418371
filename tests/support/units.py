"""What the services' fast tests share: a settable clock, telemetry that sends nothing, a moto
endpoint in-process, and spans recorded in memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack.endpoint import make_consistent
from lantern.settings import TelemetrySettings
from lantern.telemetry import Telemetry
from lantern.telemetry.messaging import NoopMessagingTracer
from lantern.telemetry.statsd import SafeStatsd

ENV = {"TRACING_MODE": "off", "STATSD_HOST": "none", "LOG_FORMAT": "json"}


class FakeClock:
    """A clock that moves only when told to (epoch-like by default; any origin works)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def quiet_telemetry(service: str) -> Telemetry:
    """Telemetry with tracing off and StatsD to nowhere, for an app built in-process."""
    settings = TelemetrySettings.from_env(service, ENV)
    return Telemetry(settings, SafeStatsd(None, 8125, service), NoopMessagingTracer())


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free loopback port, in this process: real HTTP, real botocore, and
    the consistency under concurrency that ``make run``'s endpoint has (devstack.endpoint)."""
    make_consistent()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def moto_dynamodb(url: str) -> Any:
    """A DynamoDB client for a moto endpoint (moto takes any credentials)."""
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def in_memory_spans() -> InMemorySpanExporter:
    """An exporter that records every span this process ends from now on.

    It joins the global SDK provider (installed here unless another test did: OpenTelemetry lets
    a process set it once), so the code under test needs no special wiring.
    """
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory
