"""The producer's application factory: wires the order API from the parts it is given."""

from __future__ import annotations

from flask import Flask

from lantern.web import create_service_app, state
from producer.api import create_blueprint
from producer.bootstrap import Dependencies, bootstrap
from producer.service import OrderService
from producer.settings import ProducerSettings
from producer.synthetic import SyntheticTraffic, synthetic_rate


def create_app(settings: ProducerSettings | None = None, deps: Dependencies | None = None) -> Flask:
    """The order API, wired from ``deps``. Gunicorn calls it bare: then :func:`bootstrap` builds
    this process's real parts."""
    settings = settings or ProducerSettings.from_env()
    deps = deps or bootstrap(settings)
    app = create_service_app(__name__, deps.telemetry, deps.signals.registry)
    service = OrderService(deps.catalog, deps.queue, deps.idempotency, deps.signals)
    app.register_blueprint(create_blueprint(service, deps.signals))
    svc = state(app)
    svc.readiness["sqs"] = deps.queue.check
    svc.readiness["dynamodb"] = deps.idempotency.check
    svc.background.append(SyntheticTraffic(service, synthetic_rate(settings, deps.scenarios)))
    return app
