"""The storefront's application factory: the one place that wires its dependencies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, request
from prometheus_client import CollectorRegistry

from frontend import sessions
from frontend.clients import ConsumerClient, OrderIntake, OrderStatus, ProducerClient
from frontend.compression import init_compression
from frontend.otlp_relay import init_otlp_relay
from frontend.security import init_security
from frontend.settings import SERVICE, FrontendSettings
from frontend.signals import FrontendSignals
from frontend.templating import init_templating
from frontend.views import checkout, errors, orders, pipeline, shop, your_orders
from lantern.catalog import load_catalog
from lantern.flags import FRONTEND_ERROR_RATE, ScenarioFailure, Scenarios, init_scenarios
from lantern.telemetry import init_telemetry
from lantern.web import create_service_app

MAX_FORM_BYTES = 16 * 1024  # a checkout form is well under 1 KB


def create_app(
    settings: FrontendSettings | None = None,
    *,
    producer: OrderIntake | None = None,
    consumer: OrderStatus | None = None,
) -> Flask:
    """Build the storefront. Tests pass settings, and fakes for the services where needed."""
    settings = settings or FrontendSettings.from_env()
    telemetry = init_telemetry(settings.telemetry)
    registry = CollectorRegistry()
    # Static files and the pipeline page's 2-second poll would bury the checkouts in traces.
    app = create_service_app(
        __name__, telemetry, registry, json_errors=False, untraced=("static", "api/pipeline")
    )
    app.config.update(_limits())
    # Registered before the other hooks, so it runs after them, on the finished response.
    init_compression(app)
    init_security(app, secret_key=settings.secret_key, secure_cookie=settings.session_cookie_secure)
    init_otlp_relay(app, telemetry)  # browser spans: POST /v1/traces, form traceparent
    catalog = load_catalog()
    init_templating(app, catalog)
    errors.register_error_pages(app)
    _inject_failures(app, init_scenarios(SERVICE, settings.flag_file))

    timeout = settings.upstream_timeout_seconds
    producer = producer or ProducerClient(settings.producer_url, timeout, None)
    consumer = consumer or ConsumerClient(settings.consumer_url, timeout, None)
    signals = FrontendSignals(registry, telemetry.statsd)
    app.register_blueprint(shop.create_blueprint(catalog))
    app.register_blueprint(checkout.create_blueprint(catalog, producer, signals))
    app.register_blueprint(orders.create_blueprint(consumer, settings.trace_ui_url))
    app.register_blueprint(your_orders.create_blueprint(consumer))
    app.register_blueprint(
        pipeline.create_blueprint(
            producer,
            consumer,
            queue=settings.queue_name,
            dlq=settings.dlq_name,
            trace_template=settings.trace_ui_url,
        )
    )
    # Readiness has no upstream checks on purpose: with the producer down the shop still
    # browses and keeps carts, and says so at checkout.
    return app


def _inject_failures(app: Flask, scenarios: Scenarios) -> None:
    """The ``frontend-error-rate`` scenario: that share of page views fails with a real error
    (a 500 page, an ERROR span with the exception, one log line with the stack)."""
    if not scenarios.enabled:
        return

    @app.before_request
    def maybe_fail() -> None:
        page_view = request.endpoint not in QUIET_ENDPOINTS and not request.path.startswith("/api/")
        if page_view and scenarios.roll(FRONTEND_ERROR_RATE):
            raise ScenarioFailure("injected by the frontend-error-rate flag")


QUIET_ENDPOINTS = frozenset({"static", "healthz", "readyz", "metrics"})


def _limits() -> dict[str, Any]:
    return {
        "MAX_CONTENT_LENGTH": MAX_FORM_BYTES,
        "MAX_FORM_MEMORY_SIZE": MAX_FORM_BYTES,
        "MAX_FORM_PARTS": 50,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=sessions.CART_DAYS),
        "SEND_FILE_MAX_AGE_DEFAULT": None,  # frontend.assets sets the static cache headers
        "TEMPLATES_AUTO_RELOAD": False,
    }
