"""Telemetry setup, called once per process (after the fork under gunicorn).

``TRACING_MODE`` picks OpenTelemetry (default), the AWS X-Ray SDK, or nothing; logs and StatsD
are configured the same way in every mode. Code that records telemetry receives the
:class:`Telemetry` object and uses only what it exposes.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, replace

from opentelemetry.sdk.trace import TracerProvider

from lantern import logs
from lantern.settings import TelemetrySettings
from lantern.telemetry import tracing
from lantern.telemetry.messaging import (
    MessagingTracer,
    NoopMessagingTracer,
    OtelMessagingTracer,
    align_botocore_sqs_span,
)
from lantern.telemetry.statsd import SafeStatsd

__all__ = ["PROBE_PATHS", "Telemetry", "init_telemetry"]

# Probes and scrapes: never traced, never logged per request, in every tracing mode.
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")


@dataclass
class Telemetry:
    settings: TelemetrySettings
    statsd: SafeStatsd
    messaging: MessagingTracer
    provider: TracerProvider | None = None

    @property
    def mode(self) -> str:
        return self.settings.tracing_mode

    def for_endpoint(self, endpoint_url: str | None) -> Telemetry:
        """This telemetry, with messaging spans naming the SQS endpoint at ``endpoint_url``."""
        return replace(self, messaging=self.messaging.for_endpoint(endpoint_url))

    def shutdown(self) -> None:
        """Flush buffered spans; call on process exit."""
        if self.provider is not None:
            self.provider.shutdown()


def init_telemetry(settings: TelemetrySettings) -> Telemetry:
    logs.configure_logging(settings.logging)
    statsd = SafeStatsd(settings.statsd_host, settings.statsd_port, settings.statsd_prefix)
    provider = None
    messaging: MessagingTracer = NoopMessagingTracer()
    if settings.tracing_mode == "otel":
        provider = tracing.setup_tracer_provider(settings.service_name)
        _instrument_clients()
        messaging = OtelMessagingTracer()
        logs.set_trace_id_source(_otel_ids_source())
    elif settings.tracing_mode == "xray":
        from lantern.telemetry import xray

        xray.setup_xray(
            settings.service_name, settings.xray_daemon_address, settings.xray_sampling_rate
        )
        messaging = xray.XrayMessagingTracer(settings.service_name)
        logs.set_trace_id_source(xray.current_trace_ids)
    logs.get_logger(__name__).debug("telemetry ready", mode=settings.tracing_mode)
    return Telemetry(settings=settings, statsd=statsd, messaging=messaging, provider=provider)


def _otel_ids_source() -> logs.TraceIdSource:
    with_xray = os.environ.get("OTEL_PYTHON_ID_GENERATOR", "").strip().lower() == "xray"

    def source() -> tuple[str | None, str | None, str | None]:
        trace_id, span_id, xray_id = tracing.current_trace_ids()
        return trace_id, span_id, xray_id if with_xray else None

    return source


def _instrument_clients() -> None:
    """Trace the client libraries this service has: botocore (the ``aws`` extra) and requests
    (the ``http`` extra). A service installs only the extras it uses."""
    if importlib.util.find_spec("opentelemetry.instrumentation.botocore"):
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        if not BotocoreInstrumentor().is_instrumented_by_opentelemetry:
            # One messaging.system value across the trace: see align_botocore_sqs_span.
            BotocoreInstrumentor().instrument(request_hook=align_botocore_sqs_span)
    if importlib.util.find_spec("opentelemetry.instrumentation.requests"):
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        if not RequestsInstrumentor().is_instrumented_by_opentelemetry:
            RequestsInstrumentor().instrument()
