"""The test receivers decode what real clients send: the OTel SDK's OTLP/HTTP exporter (plain and
gzip), the ``statsd`` client (single lines and pipelines), the X-Ray SDK's UDP emitter (whole
segments and streamed subsegments). Loopback only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import statsd
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.models.segment import Segment
from aws_xray_sdk.core.models.subsegment import Subsegment
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind

from lantern.telemetry import statsd as lantern_statsd
from lantern.telemetry.statsd import SafeStatsd
from tests.support.net import http
from tests.support.receivers import OtlpReceiver, StatsdListener, XrayListener, parse_statsd


def _export_one(endpoint: str, compression: Compression) -> None:
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("unit")
    with tracer.start_as_current_span("parent") as parent:
        link = Link(parent.get_span_context())
        with tracer.start_as_current_span(
            "send orders",
            kind=SpanKind.PRODUCER,
            links=[link],
            attributes={"messaging.system": "aws_sqs", "n": 3, "ok": True, "tags": ["a", "b"]},
        ):
            pass
    provider.shutdown()


@pytest.mark.parametrize(
    ("compression", "encoding"), [(Compression.NoCompression, ""), (Compression.Gzip, "gzip")]
)
def test_otlp_receiver_decodes_the_sdk_exporter(compression: Compression, encoding: str) -> None:
    with OtlpReceiver() as otlp:
        _export_one(otlp.endpoint, compression)
        spans = otlp.wait_for(lambda spans: len(spans) == 2, 5)
    assert {request[1] for request in otlp.requests} == {encoding}
    child, parent = sorted(spans, key=lambda s: s.name, reverse=True)
    assert (child.name, child.kind, parent.kind) == ("send orders", "PRODUCER", "INTERNAL")
    assert child.parent_span_id == parent.span_id
    assert parent.parent_span_id is None
    assert child.trace_id == parent.trace_id
    assert len(child.trace_id) == 32
    assert [(link.trace_id, link.span_id) for link in child.links] == [
        (parent.trace_id, parent.span_id)
    ]
    assert child.attributes == {
        "messaging.system": "aws_sqs",
        "n": 3,
        "ok": True,
        "tags": ["a", "b"],
    }
    assert child.scope == "unit"
    assert child.service.startswith("unknown_service")


def test_otlp_receiver_accepts_both_protobuf_types_and_refuses_others() -> None:
    with OtlpReceiver() as otlp:
        url = f"{otlp.endpoint}/v1/traces"
        assert http("POST", url, b"", {"Content-Type": "application/protobuf"})[0] == 200
        assert http("POST", url, b"", {"Content-Type": "application/x-protobuf"})[0] == 200
        assert http("POST", url, b"{}", {"Content-Type": "application/json"})[0] == 415
        assert (
            http("POST", url, b"\xff\x00junk", {"Content-Type": "application/x-protobuf"})[0] == 400
        )
    assert len(otlp.errors) == 2


def test_parse_statsd_lines_types_rates_and_tags() -> None:
    metrics = parse_statsd("a.b:1|c|@0.5\nt:12.5|ms\n\ng:-3|g|#env:test")
    assert [(m.name, m.value, m.type, m.rate, m.tags) for m in metrics] == [
        ("a.b", 1.0, "c", 0.5, ()),
        ("t", 12.5, "ms", 1.0, ()),
        ("g", -3.0, "g", 1.0, ("env:test",)),
    ]
    with pytest.raises(ValueError, match="not a StatsD line"):
        parse_statsd("garbage")


def test_statsd_listener_counts_what_the_statsd_client_sends() -> None:
    with StatsdListener() as listener:
        client = statsd.StatsClient("127.0.0.1", listener.port, prefix="producer")
        client.incr("orders.accepted")
        client.incr("orders.accepted", 2)
        with client.pipeline() as pipe:  # one datagram, several lines
            pipe.incr("orders.rejected.unknown_sku")
            pipe.timing("sqs.send", 12)
            pipe.gauge("queue.orders.visible", 4)
        deadline = time.monotonic() + 5
        while len(listener.snapshot()) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert listener.count("producer.orders.accepted") == 3
    assert listener.count("producer.orders.rejected.unknown_sku") == 1
    assert listener.values("producer.sqs.send", "ms") == [12.0]
    assert listener.types()["producer.queue.orders.visible"] == {"g"}
    assert listener.datagrams == 3
    assert not listener.errors


def test_xray_listener_reads_segments_and_streamed_subsegments() -> None:
    with XrayListener() as listener:
        emitter = UDPEmitter(listener.address)
        segment = Segment("producer")
        nested = Subsegment("send orders", "aws", segment)
        segment.add_subsegment(nested)
        nested.close()
        streamed = Subsegment("sqs", "aws", segment)
        segment.add_subsegment(streamed)
        streamed.close()
        segment.remove_subsegment(streamed)  # what the SDK's streaming does before sending it
        segment.close()
        emitter.send_entity(streamed)
        emitter.send_entity(segment)
        deadline = time.monotonic() + 5
        while len(listener.snapshot()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    entities = listener.by_id()
    assert set(entities) == {segment.id, nested.id, streamed.id}
    assert [s.id for s in listener.segments("producer")] == [segment.id]
    assert entities[nested.id].parent_id == segment.id
    assert entities[streamed.id].parent_id == segment.id
    assert not entities[streamed.id].is_segment
    assert {e.trace_id for e in entities.values()} == {segment.trace_id}
    assert not listener.errors


def test_console_exporter_prints_one_json_object_per_line() -> None:
    script = (
        "from opentelemetry import trace\n"
        "from lantern.telemetry.tracing import setup_tracer_provider\n"
        "provider = setup_tracer_provider('unit')\n"
        "with trace.get_tracer('t').start_as_current_span('outer'):\n"
        "    with trace.get_tracer('t').start_as_current_span('inner'):\n"
        "        pass\n"
        "provider.shutdown()\n"
    )
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["name"] for r in records] == ["inner", "outer"]
    assert records[0]["parent_id"] == records[1]["context"]["span_id"]


def test_safe_statsd_drops_metrics_while_the_agent_is_unreachable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])
    for client in (
        SafeStatsd("statsd-agent.invalid", 8125, "producer"),  # never resolves
        SafeStatsd("127.0.0.1", closed, "producer"),  # nobody listens
    ):
        for _ in range(3):
            client.incr("orders.accepted")
            client.timing("sqs.send", 0.01)
            client.gauge("queue.orders.visible", 1)
            with client.timer("block"):
                pass


class _FlakyResolver:
    """Stands in for ``statsd.StatsClient``: the name resolves on the third attempt."""

    def __init__(self) -> None:
        self.attempts: list[str] = []  # the thread each resolution ran in
        self.sent: list[tuple[str, object]] = []

    def __call__(self, host: str, port: int, prefix: str) -> _FlakyResolver:
        self.attempts.append(threading.current_thread().name)
        if len(self.attempts) < 3:
            raise OSError("Name or service not known")
        return self

    def incr(self, name: str, count: int = 1) -> None:
        self.sent.append((name, count))


def test_safe_statsd_never_resolves_a_name_on_the_request_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _FlakyResolver()
    monkeypatch.setattr(statsd, "StatsClient", fake)
    monkeypatch.setattr(lantern_statsd, "RESOLVE_RETRY_SECONDS", 0.05)
    client = SafeStatsd("statsd-agent.local", 8125, "producer")
    for _ in range(100):
        client.incr("orders.accepted")  # dropped until the name resolves, never waits for it
    deadline = time.monotonic() + 5
    while not fake.sent and time.monotonic() < deadline:
        client.incr("orders.accepted")
        time.sleep(0.01)
    main = threading.current_thread().name
    assert fake.attempts == [main, "statsd-resolve", "statsd-resolve"]
    assert fake.sent
