"""The consumer's application factory: wires the worker and the read API from given parts."""

from __future__ import annotations

from flask import Flask

from consumer.api import create_blueprint
from consumer.bootstrap import Dependencies, bootstrap
from consumer.processing import OrderProcessor
from consumer.settings import ConsumerSettings
from consumer.tally import SetAsideCounter
from consumer.worker import QueueDepthPoller, Worker
from lantern.web import create_service_app, state


def create_app(settings: ConsumerSettings | None = None, deps: Dependencies | None = None) -> Flask:
    """The worker and the read API, wired from ``deps``. Gunicorn calls it bare: then
    :func:`bootstrap` builds this process's real parts."""
    settings = settings or ConsumerSettings.from_env()
    deps = deps or bootstrap(settings)
    # The storefront's pipeline page polls these every couple of seconds per open tab.
    untraced = ("orders/recent", "queues")
    app = create_service_app(__name__, deps.telemetry, deps.signals.registry, untraced=untraced)
    queue = settings.aws.queue_name
    queues = [queue, settings.aws.dlq_name]
    depth = QueueDepthPoller(
        deps.messages,
        deps.signals,
        queues,
        settings.queue_depth_interval_seconds,
        dlq=settings.aws.dlq_name,
        clock=deps.clock,
    )
    processor = OrderProcessor(
        SetAsideCounter(deps.store, depth.set_aside),
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
        clock=deps.clock,
    )
    app.register_blueprint(create_blueprint(deps.store, depth, processor.recent))

    svc = state(app)
    svc.readiness["sqs"] = deps.messages.check
    svc.readiness["dynamodb"] = deps.store.check
    # Stop order matters: the worker drains in-flight messages before the poller goes.
    svc.background.extend([worker, depth])
    return app
