"""What every Lantern Shop web app shares: probes, metrics, request telemetry, error pages,
and the lifecycle of background work.

A service's ``create_app`` calls :func:`create_service_app`, adds its own routes, registers its
readiness checks and background tasks, and returns the app. :mod:`lantern.serve` runs it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from flask import Flask, Response, jsonify, request
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import CollectorRegistry
from werkzeug.exceptions import HTTPException

from lantern.logs import get_logger, new_context
from lantern.orders import MAX_BODY_BYTES
from lantern.telemetry import PROBE_PATHS, Telemetry
from lantern.telemetry.metrics import HttpMetrics, render_metrics

log = get_logger("lantern.http")
QUIET_PATHS = frozenset(PROBE_PATHS)
READINESS_CACHE_SECONDS = 2.0
_request_started: ContextVar[float | None] = ContextVar("lantern_request_started", default=None)


class Background(Protocol):
    """Work that runs beside the web server in each worker process."""

    def start(self) -> None: ...

    def stop(self, timeout: float) -> None: ...


ReadinessCheck = Callable[[], object]  # raises when the dependency is not usable


@dataclass
class ServiceState:
    telemetry: Telemetry
    registry: CollectorRegistry
    http: HttpMetrics
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    background: list[Background] = field(default_factory=list)
    shutting_down: threading.Event = field(default_factory=threading.Event)
    _ready_cache: tuple[float, dict[str, str]] = (0.0, {})

    def check_readiness(self) -> dict[str, str]:
        expires, cached = self._ready_cache
        if time.monotonic() < expires:
            return cached
        results = {}
        for name, check in self.readiness.items():
            try:
                # Probes are not traced (see _instrument); their AWS calls would otherwise
                # each start a trace of their own, every few seconds per pod.
                with suppress_instrumentation():
                    check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                results[name] = f"{type(exc).__name__}: {exc}"[:200]
        self._ready_cache = (time.monotonic() + READINESS_CACHE_SECONDS, results)
        return results


def state(app: Flask) -> ServiceState:
    result: ServiceState = app.extensions["lantern"]
    return result


def create_service_app(
    import_name: str,
    telemetry: Telemetry,
    registry: CollectorRegistry,
    *,
    json_errors: bool = True,
    untraced: tuple[str, ...] = (),
) -> Flask:
    """The common app. ``untraced``: path patterns polled so often that a trace per request would
    drown the interesting ones (probes and ``/metrics`` are always untraced)."""
    app = Flask(import_name)
    # One byte of headroom: a streamed (chunked) body exactly at the limit must read to its end,
    # and one byte more tells it from a longer one. Content-Length is checked against the limit
    # itself (producer.api).
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1
    app.extensions["lantern"] = ServiceState(telemetry, registry, HttpMetrics(registry))
    _instrument(app, telemetry, untraced)
    _register_request_telemetry(app)
    _register_probes(app)
    if json_errors:
        app.register_error_handler(HTTPException, _json_http_error)
        app.register_error_handler(Exception, _json_unexpected_error)
    return app


def _instrument(app: Flask, telemetry: Telemetry, untraced: tuple[str, ...]) -> None:
    if telemetry.mode == "otel":
        from opentelemetry.instrumentation.flask import FlaskInstrumentor
        from opentelemetry.metrics import NoOpMeterProvider

        excluded = ",".join((*(path.lstrip("/") for path in PROBE_PATHS), *untraced))
        FlaskInstrumentor().instrument_app(
            app,
            excluded_urls=excluded,
            # No SQL here to comment: the commenter's context would be built and attached on
            # every request for nothing.
            enable_commenter=False,
            # HTTP metrics are Prometheus's job here (lantern.telemetry.metrics); with no OTel
            # meter provider its instruments are no-ops, and binding them to one directly
            # spares each request the proxy's indirection.
            meter_provider=NoOpMeterProvider(),
        )
    elif telemetry.mode == "xray":
        from aws_xray_sdk.core import xray_recorder
        from aws_xray_sdk.ext.flask.middleware import XRayMiddleware

        from lantern.telemetry.xray import never_sample

        # The middleware continues a caller's X-Amzn-Trace-Id (Root, Parent, Sampled).
        XRayMiddleware(app, xray_recorder)
        paths = tuple(f"/{p}{tail}" for p in untraced for tail in ("", "/*"))
        never_sample(paths, telemetry.settings.xray_sampling_rate)


def _register_request_telemetry(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        # Worker threads are reused: each request starts with a clean logging context.
        new_context()
        _request_started.set(time.perf_counter())

    @app.after_request
    def _record(response: Response) -> Response:
        started = _request_started.get()
        if started is None:
            return response
        _request_started.set(None)
        elapsed = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule else "unmatched"
        svc = state(app)
        svc.http.request_duration.labels(route, request.method, str(response.status_code)).observe(
            elapsed
        )
        svc.telemetry.statsd.timing(f"http.{response.status_code // 100}xx", elapsed)
        if request.path not in QUIET_PATHS:
            # Fields the handler bound (lantern.logs.bind, e.g. order_id) join this line.
            log.info(
                "request",
                method=request.method,
                route=route,
                path=request.path,
                status=response.status_code,
                duration_ms=round(elapsed * 1000, 2),
            )
        return response

    @app.teardown_request
    def _end(_: BaseException | None) -> None:
        # Nor does a request leave its fields behind for whatever the thread runs next.
        new_context()


def _register_probes(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        svc = state(app)
        if svc.shutting_down.is_set():
            return jsonify(status="shutting_down"), 503
        checks = svc.check_readiness()
        ready = all(result == "ok" for result in checks.values())
        return jsonify(
            status="ready" if ready else "not_ready", checks=checks
        ), 200 if ready else 503

    @app.get("/metrics")
    def metrics() -> Response:
        body, content_type = render_metrics(state(app).registry)
        return Response(body, content_type=content_type)


def json_error(status: int, code: str, detail: str) -> tuple[Response, int]:
    return jsonify(error=code, detail=detail), status


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _json_http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    return json_error(status, code, exc.description or code)


def _json_unexpected_error(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error", path=request.path)
    return json_error(500, "internal_error", "unexpected error; see the service log")


def start_background(app: Flask) -> None:
    for task in state(app).background:
        task.start()


def shutdown(app: Flask, timeout: float = 25.0) -> None:
    """Flip readiness first, then stop background work and flush telemetry."""
    svc = state(app)
    svc.shutting_down.set()
    deadline = time.monotonic() + timeout
    for task in svc.background:
        task.stop(max(0.0, deadline - time.monotonic()))
    svc.telemetry.shutdown()
