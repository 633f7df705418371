"""The consumer's application factory: the one place that wires its dependencies."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from prometheus_client import CollectorRegistry

from consumer.api import create_blueprint
from consumer.processing import OrderProcessor
from consumer.settings import ConsumerSettings
from consumer.signals import ConsumerSignals
from consumer.sqs import OrderMessages
from consumer.store import OrderStore
from consumer.worker import QueueDepthPoller, Worker
from lantern.aws import dynamodb_client, sqs_client
from lantern.orders import Order
from lantern.telemetry import init_telemetry
from lantern.web import create_service_app, state


def simulated_work(work_ms: int) -> Callable[[Order], None]:
    def work(order: Order) -> None:
        if work_ms:
            time.sleep(work_ms / 1000.0)

    return work


def create_app(settings: ConsumerSettings | None = None) -> Flask:
    settings = settings or ConsumerSettings.from_env()
    telemetry = init_telemetry(settings.telemetry)
    registry = CollectorRegistry()
    app = create_service_app(__name__, telemetry, registry)
    signals = ConsumerSignals(registry, telemetry.statsd)
    messages = OrderMessages(sqs_client(settings.aws, long_poll=True), settings.aws)
    store = OrderStore(dynamodb_client(settings.aws), settings.aws.table_name)
    processor = OrderProcessor(
        store,
        telemetry.messaging,
        signals,
        settings.aws.queue_name,
        simulated_work(settings.work_ms),
        messages.max_receive_count,
    )
    worker = Worker(
        messages,
        processor,
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
