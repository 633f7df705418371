"""OpenTelemetry SDK setup from the standard ``OTEL_*`` variables.

Only this module touches the SDK; everything that records spans uses the API. Supported:
``OTEL_TRACES_EXPORTER`` = ``otlp`` (default) | ``console`` | ``none`` (comma-separated),
``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL`` = ``http/protobuf`` (default) | ``grpc``,
``OTEL_PYTHON_ID_GENERATOR`` = ``random`` (default) | ``xray``, and everything the SDK reads
itself (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_BSP_*``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_PROPAGATORS``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

from lantern.settings import SettingsError
from lantern.traceids import xray_trace_id


def _otlp_exporter(env: Mapping[str, str]) -> SpanExporter:
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        return HttpExporter()
    raise SettingsError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use http/protobuf or grpc")


def _id_generator(env: Mapping[str, str]) -> IdGenerator:
    name = env.get("OTEL_PYTHON_ID_GENERATOR", "random").strip().lower() or "random"
    if name == "xray":
        from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator

        return AwsXRayIdGenerator()
    if name == "random":
        return RandomIdGenerator()
    raise SettingsError(f"OTEL_PYTHON_ID_GENERATOR={name!r}: use random or xray")


def exporter_names(env: Mapping[str, str]) -> list[str]:
    raw = env.get("OTEL_TRACES_EXPORTER", "otlp")
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    unknown = set(names) - {"otlp", "console", "none"}
    if unknown:
        raise SettingsError(f"OTEL_TRACES_EXPORTER: unsupported {sorted(unknown)}")
    return [name for name in names if name != "none"]


def _one_line(span: ReadableSpan) -> str:
    return f"{span.to_json(indent=None)}\n"


def setup_tracer_provider(
    service_name: str, env: Mapping[str, str] | None = None
) -> TracerProvider:
    """Install the global tracer provider. Call once per process, after any fork."""
    env = os.environ if env is None else env
    resource = Resource.create({"service.name": service_name})
    provider = TracerProvider(resource=resource, id_generator=_id_generator(env))
    for name in exporter_names(env):
        if name == "otlp":
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(env)))
        else:
            # One compact JSON object per line, so stdout stays parseable as JSON lines.
            console = ConsoleSpanExporter(formatter=_one_line)
            provider.add_span_processor(SimpleSpanProcessor(console))
    trace.set_tracer_provider(provider)
    return provider


def current_trace_ids() -> tuple[str | None, str | None, str | None]:
    """(trace_id, span_id, xray_trace_id) of the active OpenTelemetry span, as hex."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None, None
    trace_id = format(context.trace_id, "032x")
    return trace_id, format(context.span_id, "016x"), xray_trace_id(trace_id)


def xray_header(trace_id: int, span_id: int, sampled: bool) -> str:
    """An ``AWSTraceHeader`` value for the given span."""
    root = xray_trace_id(format(trace_id, "032x"))
    return f"Root={root};Parent={span_id:016x};Sampled={1 if sampled else 0}"
