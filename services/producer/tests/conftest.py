"""Producer unit tests: the app and the service built with in-memory fakes passed in."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry

from lantern.catalog import load_catalog
from lantern.telemetry.statsd import SafeStatsd
from producer.app import create_app
from producer.bootstrap import Dependencies
from producer.fakes import FakeIdempotencyStore, FakeQueue
from producer.service import OrderService
from producer.settings import SERVICE, ProducerSettings
from producer.signals import ProducerSignals
from tests.support.units import ENV, FakeClock, quiet_telemetry


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "items": [{"sku": "LNT-001", "quantity": 2}],
    }
    return {**body, **overrides}


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def store() -> FakeIdempotencyStore:
    return FakeIdempotencyStore(ttl_seconds=3600, clock=FakeClock())


@pytest.fixture
def signals() -> ProducerSignals:
    return ProducerSignals(CollectorRegistry(), SafeStatsd(None, 8125, SERVICE))


@pytest.fixture
def service(
    queue: FakeQueue, store: FakeIdempotencyStore, signals: ProducerSignals
) -> OrderService:
    return OrderService(load_catalog(), queue, store, signals)


@pytest.fixture
def app(queue: FakeQueue, store: FakeIdempotencyStore, signals: ProducerSignals) -> Flask:
    deps = Dependencies(quiet_telemetry(SERVICE), signals, queue, store, load_catalog())
    built = create_app(ProducerSettings.from_env(ENV), deps)
    built.config["TESTING"] = True
    return built


def rejected(signals: ProducerSignals, reason: str) -> float:
    return signals.registry.get_sample_value("orders_rejected_total", {"reason": reason}) or 0.0


def accepted(signals: ProducerSignals) -> float:
    return signals.registry.get_sample_value("orders_accepted_total") or 0.0


@pytest.fixture
def body() -> Any:
    """``body(**overrides)``: a valid order payload."""
    return payload


@pytest.fixture
def counts(signals: ProducerSignals) -> Any:
    """``counts()``: (accepted, {reason: rejected}) as the Prometheus registry has them."""

    def read() -> tuple[float, dict[str, float]]:
        reasons = {
            sample.labels["reason"]: sample.value
            for metric in signals.registry.collect()
            for sample in metric.samples
            if sample.name == "orders_rejected_total"
        }
        return accepted(signals), reasons

    return read
