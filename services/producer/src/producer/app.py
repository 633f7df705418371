"""The producer's application factory: wires the order API from the parts it is given."""

from __future__ import annotations

from flask import Flask
from prometheus_client import CollectorRegistry

from lantern.catalog import Catalog, load_catalog
from lantern.telemetry import Telemetry
from lantern.web import create_service_app, state
from producer.api import create_blueprint
from producer.bootstrap import Dependencies, bootstrap
from producer.ports import IdempotencyClaims, Queue
from producer.service import OrderService
from producer.settings import ProducerSettings
from producer.signals import ProducerSignals
from producer.synthetic import SyntheticTraffic


def create_app(
    settings: ProducerSettings | None = None,
    *,
    queue: Queue | None = None,
    idempotency: IdempotencyClaims | None = None,
    telemetry: Telemetry | None = None,
    signals: ProducerSignals | None = None,
    catalog: Catalog | None = None,
) -> Flask:
    """The order API. Gunicorn calls it bare: :func:`bootstrap` builds this process's real parts.
    Tests pass ``queue``, ``idempotency`` and ``telemetry`` (fakes or real); ``signals`` default
    to a fresh registry, ``catalog`` to the shipped one."""
    settings = settings or ProducerSettings.from_env()
    if queue is None and idempotency is None and telemetry is None:
        return _wire(settings, bootstrap(settings))
    if queue is None or idempotency is None or telemetry is None:
        raise TypeError("pass queue, idempotency and telemetry together, or none of them")
    signals = signals or ProducerSignals(CollectorRegistry(), telemetry.statsd)
    deps = Dependencies(telemetry, signals, queue, idempotency, catalog or load_catalog())
    return _wire(settings, deps)


def _wire(settings: ProducerSettings, deps: Dependencies) -> Flask:
    app = create_service_app(__name__, deps.telemetry, deps.signals.registry)
    service = OrderService(deps.catalog, deps.queue, deps.idempotency, deps.signals)
    app.register_blueprint(create_blueprint(service, deps.signals))
    svc = state(app)
    svc.readiness["sqs"] = deps.queue.check
    svc.readiness["dynamodb"] = deps.idempotency.check
    rate_per_worker = settings.synthetic_orders_per_second / settings.workers
    svc.background.append(SyntheticTraffic(service, rate_per_worker))
    return app
