"""Consumer unit tests: the processor, the worker and the API built with in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry

from consumer.app import create_app
from consumer.bootstrap import Dependencies
from consumer.fakes import FakeMessages, FakeOrderStore
from consumer.processing import OrderProcessor
from consumer.settings import SERVICE, ConsumerSettings
from consumer.signals import ConsumerSignals
from consumer.worker import Worker
from lantern.catalog import load_catalog
from lantern.orders import Order, build_order
from lantern.telemetry.messaging import NoopMessagingTracer
from lantern.telemetry.statsd import SafeStatsd
from tests.support.units import ENV, FakeClock, quiet_telemetry

VISIBILITY, RETRY_BASE = 30, 2.0


class ScriptedWork:
    """The fulfilment step: records each order, raises the queued failures one per call, and
    runs ``during`` (e.g. moving the clock) while it "works"."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.failures: list[Exception] = []
        self.during: Callable[[Order], None] = lambda order: None

    def __call__(self, order: Order) -> None:
        self.during(order)
        if self.failures:
            raise self.failures.pop(0)
        self.done.append(order.order_id)


def an_order(name: str = "Ada Lovelace") -> Order:
    payload = {
        "customer": {"name": name, "email": "ada@example.com"},
        "items": [{"sku": "LNT-001", "quantity": 2}],
    }
    return build_order(payload, load_catalog())


@pytest.fixture
def clock() -> FakeClock:
    """One fake clock for the queue's visibility, the keeper and the store's timestamps."""
    return FakeClock()


@pytest.fixture
def messages(clock: FakeClock) -> FakeMessages:
    return FakeMessages(clock=clock, max_receive=5)


@pytest.fixture
def store(clock: FakeClock) -> FakeOrderStore:
    return FakeOrderStore(clock=clock)


@pytest.fixture
def signals() -> ConsumerSignals:
    return ConsumerSignals(CollectorRegistry(), SafeStatsd(None, 8125, SERVICE))


@pytest.fixture
def work() -> ScriptedWork:
    return ScriptedWork()


@pytest.fixture
def processor(
    store: FakeOrderStore, signals: ConsumerSignals, messages: FakeMessages, work: ScriptedWork
) -> OrderProcessor:
    return OrderProcessor(
        store, NoopMessagingTracer(), signals, "orders", work, messages.max_receive_count
    )


@pytest.fixture
def worker(messages: FakeMessages, processor: OrderProcessor, clock: FakeClock) -> Worker:
    return Worker(
        messages,
        processor,
        NoopMessagingTracer(),
        queue_name="orders",
        concurrency=1,
        batch_size=10,
        wait_seconds=0,
        visibility_seconds=VISIBILITY,
        retry_base_seconds=RETRY_BASE,
        clock=clock,
    )


@pytest.fixture
def app(
    messages: FakeMessages, store: FakeOrderStore, signals: ConsumerSignals, work: ScriptedWork
) -> Flask:
    deps = Dependencies(quiet_telemetry(SERVICE), signals, messages, store, work)
    built = create_app(ConsumerSettings.from_env(ENV), deps)
    built.config["TESTING"] = True
    return built


@pytest.fixture
def make_order() -> Callable[..., Order]:
    """``make_order(name=...)``: a valid, priced order."""
    return an_order


@pytest.fixture
def processed(signals: ConsumerSignals) -> Callable[[str], float]:
    """``processed(outcome)``: orders_processed_total for that outcome, as Prometheus has it."""

    def read(outcome: str) -> float:
        labels = {"outcome": outcome}
        return signals.registry.get_sample_value("orders_processed_total", labels) or 0.0

    return read
