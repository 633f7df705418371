"""The consumer's application factory: the one place that wires its dependencies."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from prometheus_client import CollectorRegistry

from consumer.api import create_blueprint
from consumer.processing import OrderProcessor
from consumer.settings import SERVICE, ConsumerSettings
from consumer.signals import ConsumerSignals
from consumer.sqs import OrderMessages
from consumer.store import OrderStore
from consumer.worker import QueueDepthPoller, Worker
from lantern.aws import dynamodb_client, sqs_client
from lantern.flags import (
    CONSUMER_FAILURE_RATE,
    CONSUMER_WORK_MS,
    ScenarioFailure,
    Scenarios,
    init_scenarios,
)
from lantern.orders import Order
from lantern.telemetry import init_telemetry
from lantern.web import create_service_app, state


def simulated_work(work_ms: int, scenarios: Scenarios) -> Callable[[Order], None]:
    """The "fulfilment" an order needs: sleep, and fail when a scenario says so.

    The ``consumer-work-ms`` flag, when above 0, replaces ``CONSUMER_WORK_MS`` at runtime.
    """

    def work(order: Order) -> None:
        delay_ms = scenarios.number(CONSUMER_WORK_MS) or work_ms
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if scenarios.roll(CONSUMER_FAILURE_RATE):
            raise ScenarioFailure("injected by the consumer-failure-rate flag")

    return work


def create_app(settings: ConsumerSettings | None = None) -> Flask:
    settings = settings or ConsumerSettings.from_env()
    telemetry = init_telemetry(settings.telemetry)
    registry = CollectorRegistry()
    # The storefront's pipeline page polls these every couple of seconds per open tab.
    app = create_service_app(__name__, telemetry, registry, untraced=("orders/recent", "queues"))
    signals = ConsumerSignals(registry, telemetry.statsd)
    messages = OrderMessages(sqs_client(settings.aws, long_poll=True), settings.aws)
    store = OrderStore(dynamodb_client(settings.aws), settings.aws.table_name)
    processor = OrderProcessor(
        store,
        telemetry.messaging,
        signals,
        settings.aws.queue_name,
        simulated_work(settings.work_ms, init_scenarios(SERVICE, settings.flag_file)),
        messages.max_receive_count,
    )
    worker = Worker(
        messages,
        processor,
        telemetry.messaging,
        queue_name=settings.aws.queue_name,
        concurrency=settings.concurrency,
        batch_size=settings.batch_size,
        wait_seconds=settings.wait_seconds,
        visibility_seconds=settings.visibility_seconds,
        retry_base_seconds=settings.retry_base_seconds,
    )
    depth = QueueDepthPoller(
        messages,
        signals,
        [settings.aws.queue_name, settings.aws.dlq_name],
        settings.queue_depth_interval_seconds,
    )
    app.register_blueprint(create_blueprint(store, depth, processor.recent))

    svc = state(app)
    svc.readiness["sqs"] = messages.check
    svc.readiness["dynamodb"] = store.check
    # Stop order matters: the worker drains in-flight messages before the poller goes.
    svc.background.extend([worker, depth])
    return app
