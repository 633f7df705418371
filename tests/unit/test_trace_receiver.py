"""make run's trace receiver (devstack.traces): OTLP/HTTP protobuf in, from the real exporter and
from a hand-built ExportTraceServiceRequest; Jaeger-shaped JSON and a waterfall out; bounded."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ResourceProto
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from devstack.stack import Stack, StackConfig
from devstack.traces import SpanRecord, TraceReceiver, TraceStore
from tests.support.net import http

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def receiver() -> Iterator[TraceReceiver]:
    with TraceReceiver() as running:
        yield running


def _kv(key: str, value: str | int) -> KeyValue:
    any_value = (
        AnyValue(string_value=value) if isinstance(value, str) else AnyValue(int_value=value)
    )
    return KeyValue(key=key, value=any_value)


def _request(trace_id: bytes, spans: list[Span], service: str = "consumer") -> bytes:
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=ResourceProto(attributes=[_kv("service.name", service)]),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        ]
    )
    body: bytes = request.SerializeToString()
    return body


def _span(trace_id: bytes, span_id: bytes, name: str, start: int, end: int, **kw: object) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        **kw,  # type: ignore[arg-type]
    )


def test_a_hand_built_export_is_served_as_a_jaeger_trace(receiver: TraceReceiver) -> None:
    trace_id = bytes(range(16))
    parent, child = b"\x01" * 8, b"\x02" * 8
    body = _request(
        trace_id,
        [
            _span(
                trace_id,
                parent,
                "process orders",
                1_000_000_000,
                1_004_000_000,
                kind=Span.SPAN_KIND_CONSUMER,
                attributes=[_kv("messaging.operation.type", "process")],
            ),
            _span(
                trace_id,
                child,
                "DynamoDB.PutItem",
                1_001_000_000,
                1_003_500_000,
                parent_span_id=parent,
                kind=Span.SPAN_KIND_CLIENT,
                status=Status(code=Status.STATUS_CODE_ERROR),
            ),
        ],
    )

    status, _, answer = http("POST", f"{receiver.url}/v1/traces", body, PROTOBUF)
    assert status == 200
    assert answer == b""

    status, _, raw = http("GET", f"{receiver.url}/api/traces/{trace_id.hex()}")
    assert status == 200
    (trace,) = json.loads(raw)["data"]
    assert trace["traceID"] == trace_id.hex()
    by_name = {span["operationName"]: span for span in trace["spans"]}
    put = by_name["DynamoDB.PutItem"]
    assert (put["startTime"], put["duration"]) == (1_001_000, 2_500)  # microseconds
    assert put["references"] == [
        {"refType": "CHILD_OF", "traceID": trace_id.hex(), "spanID": parent.hex()}
    ]
    tags = {tag["key"]: tag["value"] for tag in put["tags"]}
    assert tags["span.kind"] == "client"
    assert tags["error"] is True
    process_tags = {t["key"]: t["value"] for t in by_name["process orders"]["tags"]}
    assert process_tags["messaging.operation.type"] == "process"
    assert trace["processes"][put["processID"]]["serviceName"] == "consumer"


def test_the_sdk_exporter_gzip_export_arrives_and_has_a_waterfall(receiver: TraceReceiver) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "producer"}))
    exporter = OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces", compression=Compression.Gzip)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("unit")
    with (
        tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as root,
        tracer.start_as_current_span("send orders", kind=SpanKind.PRODUCER),
    ):
        pass
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")

    spans = receiver.store.get(trace_id)
    assert spans is not None
    assert [(s.name, s.kind, s.service) for s in spans] == [
        ("POST /orders", "server", "producer"),
        ("send orders", "producer", "producer"),
    ]
    status, headers, page = http("GET", f"{receiver.url}/trace/{trace_id}")
    assert status == 200
    assert "script-src" not in headers["Content-Security-Policy"]
    assert b"send orders" in page
    assert b"<svg" in page
    status, _, listing = http("GET", f"{receiver.url}/api/traces")
    assert json.loads(listing)["data"][0]["trace_id"] == trace_id


def test_unknown_traces_and_bad_requests_get_clear_answers(receiver: TraceReceiver) -> None:
    missing = "ab" * 16
    assert http("GET", f"{receiver.url}/api/traces/{missing}")[0] == 404
    assert http("GET", f"{receiver.url}/trace/{missing}")[0] == 404
    assert http("GET", f"{receiver.url}/api/traces/not-an-id")[0] == 404
    assert http("POST", f"{receiver.url}/v1/traces", b"\xff\x00junk", PROTOBUF)[0] == 400
    json_body: dict[str, object] = {"resourceSpans": []}
    assert http("POST", f"{receiver.url}/v1/traces", json_body)[0] == 415
    gzipped = gzip.compress(_request(b"\x07" * 16, []))
    encoded = {**PROTOBUF, "Content-Encoding": "gzip"}
    assert http("POST", f"{receiver.url}/v1/traces", gzipped, encoded)[0] == 200


def _record(trace: int, span: int) -> SpanRecord:
    return SpanRecord(
        trace_id=f"{trace:032x}",
        span_id=f"{span:016x}",
        parent_span_id=None,
        name="s",
        kind="internal",
        service="x",
        start_ns=span,
        end_ns=span + 1,
    )


def test_the_store_keeps_the_most_recent_traces_within_its_limits() -> None:
    store = TraceStore(max_traces=3, max_spans=5, max_spans_per_trace=2)

    store.add([_record(1, 1), _record(2, 2), _record(3, 3), _record(4, 4)])
    assert store.get(f"{1:032x}") is None  # the oldest of four went
    assert len(store) == 3

    store.add([_record(2, 5), _record(2, 6)])  # a third span of trace 2 is over its limit
    assert [s.span_id for s in store.get(f"{2:032x}") or []] == [f"{2:016x}", f"{5:016x}"]
    assert store.dropped_spans == 1

    store.add([_record(5, 7), _record(5, 8)])  # six spans > 5: the least recently touched goes
    assert store.span_count <= 5
    assert store.get(f"{3:032x}") is None
    assert store.get(f"{2:032x}") is not None


def test_the_stack_sends_traces_to_its_receiver_unless_the_user_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "TRACE_UI_URL"):
        monkeypatch.delenv(name, raising=False)
    stack = Stack(StackConfig(traces_port=46318))

    env = stack.base_env()
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:46318"
    assert env["TRACE_API_URL"] == "http://127.0.0.1:46318/api/traces/{trace_id}"
    assert env["TRACE_UI_URL"] == "http://127.0.0.1:46318/trace/{trace_id}"

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.invalid:4318")
    assert stack.receiver_url() is None
    env = stack.base_env()
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector.invalid:4318"
    assert "TRACE_API_URL" not in env or env["TRACE_API_URL"] == os.environ.get("TRACE_API_URL")

    assert Stack(StackConfig()).base_env()["OTEL_TRACES_EXPORTER"] == "none"  # no receiver


def test_make_run_starts_the_receiver_on_4318_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from devstack.__main__ import config_from_env

    monkeypatch.delenv("TRACES_PORT", raising=False)
    assert config_from_env().traces_port == 4318
    monkeypatch.setenv("TRACES_PORT", "0")
    assert config_from_env().traces_port is None


class _Exited:
    returncode = -9

    def poll(self) -> int:
        return self.returncode


class _StackWithDeadTraces:
    """A stack whose trace receiver has died; its restart gives a running one."""

    def __init__(self) -> None:
        self.endpoint = None
        self.services: dict[str, object] = {}
        self.traces: object = type("Dead", (), {"proc": _Exited()})()
        self.restarts = 0

    def start_traces(self) -> object:
        self.restarts += 1
        self.traces = type("Running", (), {"proc": type("P", (), {"poll": lambda s: None})()})()
        return self.traces


def test_a_dead_trace_receiver_is_started_again_and_never_stops_the_shop() -> None:
    from devstack.supervise import Supervisor

    stack = _StackWithDeadTraces()
    lines: list[str] = []
    supervisor = Supervisor(stack, log=lines.append, sleep=lambda s: None)  # type: ignore[arg-type]

    assert supervisor.check() is None
    assert supervisor.check() is None

    assert stack.restarts == 1
    assert lines == ["the trace viewer exited with -9; starting it again"]
