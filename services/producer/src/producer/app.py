"""The producer's application factory: the one place that wires its dependencies."""

from __future__ import annotations

from flask import Flask
from prometheus_client import CollectorRegistry

from lantern.aws import dynamodb_client, sqs_client
from lantern.catalog import load_catalog
from lantern.flags import init_scenarios
from lantern.telemetry import init_telemetry
from lantern.web import create_service_app, state
from producer.api import create_blueprint
from producer.idempotency import IdempotencyStore
from producer.service import OrderService
from producer.settings import SERVICE, ProducerSettings
from producer.signals import ProducerSignals
from producer.sqs import OrderQueue
from producer.synthetic import SyntheticTraffic


def create_app(settings: ProducerSettings | None = None) -> Flask:
    settings = settings or ProducerSettings.from_env()
    telemetry = init_telemetry(settings.telemetry)
    registry = CollectorRegistry()
    app = create_service_app(__name__, telemetry, registry)
    signals = ProducerSignals(registry, telemetry.statsd)
    dynamodb = dynamodb_client(settings.aws)
    scenarios = init_scenarios(SERVICE, settings.flag_file)
    queue = OrderQueue(
        sqs_client(settings.aws), settings.aws, telemetry.messaging, signals, scenarios
    )
    idempotency = IdempotencyStore(
        dynamodb, settings.aws.table_name, settings.idempotency_ttl_seconds
    )
    service = OrderService(load_catalog(), queue, idempotency, signals)
    app.register_blueprint(create_blueprint(service, signals))

    svc = state(app)
    svc.readiness["sqs"] = queue.check
    svc.readiness["dynamodb"] = lambda: dynamodb.describe_table(TableName=settings.aws.table_name)
    rate_per_worker = settings.synthetic_orders_per_second / settings.workers
    svc.background.append(SyntheticTraffic(service, rate_per_worker))
    return app
