"""The consumer's application factory: wires the worker and the read API from given parts."""

from __future__ import annotations

import time

from flask import Flask
from prometheus_client import CollectorRegistry

from consumer.api import create_blueprint
from consumer.bootstrap import Dependencies, Work, bootstrap, simulated_work
from consumer.ports import Clock, Messages, Store
from consumer.processing import OrderProcessor
from consumer.settings import ConsumerSettings
from consumer.signals import ConsumerSignals
from consumer.worker import QueueDepthPoller, Worker
from lantern.flags import Scenarios
from lantern.telemetry import Telemetry
from lantern.web import create_service_app, state


def create_app(
    settings: ConsumerSettings | None = None,
    *,
    messages: Messages | None = None,
    store: Store | None = None,
    telemetry: Telemetry | None = None,
    work: Work | None = None,
    signals: ConsumerSignals | None = None,
    clock: Clock = time.monotonic,
) -> Flask:
    """The worker and the read API. Gunicorn calls it bare: :func:`bootstrap` builds this
    process's real parts. Tests pass ``messages``, ``store`` and ``telemetry`` (fakes or real);
    ``work`` defaults to the configured sleep, ``signals`` to a fresh registry, and ``clock``
    (the visibility keeper's) to ``time.monotonic``."""
    settings = settings or ConsumerSettings.from_env()
    if messages is None and store is None and telemetry is None:
        return _wire(settings, bootstrap(settings), clock)
    if messages is None or store is None or telemetry is None:
        raise TypeError("pass messages, store and telemetry together, or none of them")
    signals = signals or ConsumerSignals(CollectorRegistry(), telemetry.statsd)
    work = work or simulated_work(settings.work_ms, Scenarios())
    return _wire(settings, Dependencies(telemetry, signals, messages, store, work), clock)


def _wire(settings: ConsumerSettings, deps: Dependencies, clock: Clock) -> Flask:
    # The storefront's pipeline page polls these every couple of seconds per open tab.
    untraced = ("orders/recent", "queues")
    app = create_service_app(__name__, deps.telemetry, deps.signals.registry, untraced=untraced)
    queue = settings.aws.queue_name
    processor = OrderProcessor(
        deps.store,
        deps.telemetry.messaging,
        deps.signals,
        queue,
        deps.work,
        deps.messages.max_receive_count,
    )
    worker = Worker(
        deps.messages,
        processor,
        deps.telemetry.messaging,
        queue_name=queue,
        concurrency=settings.concurrency,
        batch_size=settings.batch_size,
        wait_seconds=settings.wait_seconds,
        visibility_seconds=settings.visibility_seconds,
        retry_base_seconds=settings.retry_base_seconds,
        clock=clock,
    )
    queues = [queue, settings.aws.dlq_name]
    depth = QueueDepthPoller(
        deps.messages, deps.signals, queues, settings.queue_depth_interval_seconds
    )
    app.register_blueprint(create_blueprint(deps.store, depth, processor.recent))

    svc = state(app)
    svc.readiness["sqs"] = deps.messages.check
    svc.readiness["dynamodb"] = deps.store.check
    # Stop order matters: the worker drains in-flight messages before the poller goes.
    svc.background.extend([worker, depth])
    return app
