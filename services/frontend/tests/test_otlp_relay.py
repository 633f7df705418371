"""The browser's span endpoint and the form traceparent, in front of any WSGI app."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from werkzeug.test import Client

from frontend.otlp_relay import MAX_EXPORT_BYTES, OtlpRelay, TokenBucket, telemetry_sink
from lantern.settings import TelemetrySettings
from lantern.telemetry import Telemetry
from lantern.telemetry.messaging import NoopMessagingTracer
from lantern.telemetry.statsd import SafeStatsd

from .conftest import AppFactory

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PAGE = "00f067aa0ba902b7"
SUBMIT = "b7ad6b7169203331"


def inner(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Echo what the app behind the relay receives."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    seen = {"traceparent": environ.get("HTTP_TRACEPARENT"), "body": body.decode()}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


class Sink:
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def __call__(self, spans: Sequence[ReadableSpan]) -> None:
        self.spans.extend(spans)


def relay(sink: Sink | None, limiter: TokenBucket | None = None) -> Client:
    app = OtlpRelay(
        inner, service_name="frontend", sink=sink, max_form_bytes=16 * 1024, limiter=limiter
    )
    return Client(app)


def export(*spans: dict[str, Any], resource: dict[str, str] | None = None) -> dict[str, Any]:
    attributes = [{"key": k, "value": {"stringValue": v}} for k, v in (resource or {}).items()]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes},
                "scopeSpans": [{"scope": {"name": "lantern-shop-web"}, "spans": list(spans)}],
            }
        ]
    }


def span(span_id: str = PAGE, parent: str = "", **fields: Any) -> dict[str, Any]:
    base = {
        "traceId": TRACE,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": "document load",
        "kind": 1,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000250000000",
        "attributes": [{"key": "url.path", "value": {"stringValue": "/checkout"}}],
        "events": [{"name": "domInteractive", "timeUnixNano": "1700000000100000000"}],
        "status": {"code": 0},
    }
    return {**base, **fields}


def test_an_export_becomes_spans_of_the_browser_service() -> None:
    sink = Sink()
    submit = span(SUBMIT, PAGE, name="submit /checkout", kind=3)
    body = export(span(), submit, resource={"service.name": "producer", "browser.mobile": "no"})
    response = relay(sink).post("/v1/traces", json=body)

    assert response.status_code == 200
    assert response.get_json() == {}
    page, sent = sink.spans
    assert page.resource.attributes["service.name"] == "frontend-browser"
    assert page.resource.attributes["browser.mobile"] == "no"
    assert page.parent is None
    assert page.attributes == {"url.path": "/checkout"}
    assert [event.name for event in page.events] == ["domInteractive"]
    assert (page.start_time, page.end_time) == (1700000000000000000, 1700000000250000000)
    assert sent.kind is SpanKind.CLIENT
    assert sent.parent is not None
    assert format(sent.parent.span_id, "016x") == PAGE
    assert format(sent.context.trace_id, "032x") == TRACE


@pytest.mark.parametrize(
    "bad",
    [
        {"traceId": "0" * 32},
        {"spanId": "xyz"},
        {"parentSpanId": "12"},
        {"kind": 2},
        {"name": ""},
        {"endTimeUnixNano": "1"},
        {"startTimeUnixNano": "-5"},
    ],
)
def test_spans_outside_the_limits_are_dropped_and_counted(bad: dict[str, Any]) -> None:
    sink = Sink()
    response = relay(sink).post("/v1/traces", json=export(span(SUBMIT), span(**bad)))

    assert response.status_code == 200
    assert response.get_json()["partialSuccess"]["rejectedSpans"] == 1
    assert len(sink.spans) == 1


def test_long_names_and_values_are_cut_and_odd_values_dropped() -> None:
    sink = Sink()
    attributes = [
        {"key": "long", "value": {"stringValue": "x" * 5000}},
        {"key": "nested", "value": {"arrayValue": {"values": []}}},
        {"key": "count", "value": {"intValue": "42"}},
    ]
    relay(sink).post("/v1/traces", json=export(span(name="n" * 500, attributes=attributes)))

    (kept,) = sink.spans
    assert len(kept.name) == 128
    assert kept.attributes == {"long": "x" * 1024, "count": 42}


@pytest.mark.parametrize(
    ("method", "headers", "data", "status"),
    [
        ("GET", {}, b"", 405),
        ("POST", {"Content-Type": "application/x-protobuf"}, b"\x0a\x00", 415),
        ("POST", {"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"{}", 415),
        ("POST", {"Content-Type": "application/json"}, b"x" * (MAX_EXPORT_BYTES + 1), 413),
        ("POST", {"Content-Type": "application/json"}, b"not json", 400),
        ("POST", {"Content-Type": "application/json"}, b'{"resourceSpans": 3}', 400),
    ],
)
def test_what_is_not_an_otlp_json_export_is_refused(
    method: str, headers: dict[str, str], data: bytes, status: int
) -> None:
    sink = Sink()
    response = relay(sink).open("/v1/traces", method=method, headers=headers, data=data)

    assert response.status_code == status
    assert sink.spans == []


def test_exports_beyond_the_rate_are_refused_with_retry_after() -> None:
    now = [0.0]
    client = relay(Sink(), TokenBucket(rate=1.0, burst=2, clock=lambda: now[0]))
    statuses = [client.post("/v1/traces", json=export()).status_code for _ in range(3)]
    now[0] = 1.0
    later = client.post("/v1/traces", json=export())

    assert statuses == [200, 200, 429]
    assert later.status_code == 200


def test_a_form_traceparent_field_becomes_the_request_header_body_unchanged() -> None:
    field = f"00-{TRACE}-{SUBMIT}-01"
    form = {"csrf_token": "t", "name": "Ada", "traceparent": field}
    seen = relay(Sink()).post("/checkout", data=form).get_json()

    assert seen["traceparent"] == field
    assert "name=Ada" in seen["body"]


@pytest.mark.parametrize(
    "field", ["01-" + TRACE + "-" + SUBMIT + "-01", f"00-{'0' * 32}-{SUBMIT}-01", "junk"]
)
def test_a_malformed_traceparent_field_is_ignored(field: str) -> None:
    seen = relay(Sink()).post("/checkout", data={"traceparent": field}).get_json()
    assert seen["traceparent"] is None


def test_a_traceparent_header_wins_over_the_field() -> None:
    header = f"00-{TRACE}-{PAGE}-01"
    seen = (
        relay(Sink())
        .post(
            "/checkout",
            data={"traceparent": f"00-{TRACE}-{SUBMIT}-01"},
            headers={"traceparent": header},
        )
        .get_json()
    )
    assert seen["traceparent"] == header


def test_without_tracing_forms_are_not_read_and_exports_are_dropped() -> None:
    client = relay(None)
    seen = client.post("/checkout", data={"traceparent": f"00-{TRACE}-{SUBMIT}-01"}).get_json()

    assert seen["traceparent"] is None
    assert client.post("/v1/traces", json=export(span())).status_code == 200


def test_the_sink_is_the_storefronts_own_span_processors() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = TelemetrySettings.from_env("frontend", {"STATSD_HOST": "none"})
    telemetry = Telemetry(settings, SafeStatsd(None, 8125, "t"), NoopMessagingTracer(), provider)
    sink = telemetry_sink(telemetry)
    assert sink is not None
    relay_client = Client(OtlpRelay(inner, service_name="frontend", sink=sink, max_form_bytes=1024))
    relay_client.post("/v1/traces", json=export(span()))

    (exported,) = exporter.get_finished_spans()
    assert exported.name == "document load"
    assert exported.resource.attributes["service.name"] == "frontend-browser"


def test_the_storefront_serves_the_endpoint_without_a_csrf_token(make_app: AppFactory) -> None:
    client = make_app().test_client()
    response = client.post("/v1/traces", json=export(span()))
    page = client.get("/").get_data(as_text=True)

    assert response.status_code == 200
    assert "otel-web.js" not in page  # tracing is off in these tests: no bundle, no exports
