"""Span shapes: the real SQS adapter (on a moto server) inside the Flask server span, recorded by
OpenTelemetry's in-memory exporter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from lantern.aws import sqs_client
from lantern.catalog import load_catalog
from lantern.settings import AwsSettings, TelemetrySettings
from lantern.telemetry import Telemetry
from lantern.telemetry.messaging import OtelMessagingTracer
from lantern.telemetry.statsd import SafeStatsd
from producer.app import create_app
from producer.bootstrap import Dependencies
from producer.fakes import FakeIdempotencyStore
from producer.settings import SERVICE, ProducerSettings
from producer.signals import ProducerSignals
from producer.sqs import OrderQueue
from tests.support.units import in_memory_spans, moto_endpoint


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return in_memory_spans()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_endpoint() as url:
        yield url


def test_an_order_is_one_trace_with_a_producer_span_whose_context_travels(
    exporter: InMemorySpanExporter, endpoint: str, monkeypatch: pytest.MonkeyPatch, body: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    env = {"AWS_ENDPOINT_URL": endpoint, "ORDERS_QUEUE_NAME": f"orders-{uuid.uuid4().hex[:8]}"}
    env |= {"TRACING_MODE": "otel", "STATSD_HOST": "none"}
    aws = AwsSettings.from_env(env)
    sqs = sqs_client(aws)
    url = sqs.create_queue(QueueName=aws.queue_name)["QueueUrl"]
    statsd = SafeStatsd(None, 8125, SERVICE)
    tracer = OtelMessagingTracer().for_endpoint(sqs.meta.endpoint_url)
    telemetry = Telemetry(TelemetrySettings.from_env(SERVICE, env), statsd, tracer)
    signals = ProducerSignals(CollectorRegistry(), statsd)
    queue = OrderQueue(sqs, aws, telemetry.messaging, signals)
    deps = Dependencies(telemetry, signals, queue, FakeIdempotencyStore(), load_catalog())
    app = create_app(ProducerSettings.from_env(env), deps)
    exporter.clear()

    response = app.test_client().post("/orders", json=body())

    assert response.status_code == 202
    spans = {span.name: span for span in exporter.get_finished_spans()}
    send, server = spans[f"send {aws.queue_name}"], spans["POST /orders"]
    assert (send.kind, server.kind) == (SpanKind.PRODUCER, SpanKind.SERVER)
    assert send.parent is not None
    assert send.parent.span_id == server.context.span_id
    assert send.context.trace_id == server.context.trace_id
    message = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"][0]
    expected = {
        "messaging.system": "aws_sqs",
        "messaging.destination.name": aws.queue_name,
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.message.id": message["MessageId"],
        "lantern.order.id": response.get_json()["order_id"],
        "server.address": urlsplit(endpoint).hostname,
        "server.port": urlsplit(endpoint).port,
    }
    assert {key: (send.attributes or {}).get(key) for key in expected} == expected
    traceparent = message["MessageAttributes"]["traceparent"]["StringValue"]
    _, trace_id, span_id, _ = traceparent.split("-")
    assert (int(trace_id, 16), int(span_id, 16)) == (send.context.trace_id, send.context.span_id)
    assert f"Parent={send.context.span_id:016x}" in message["Attributes"]["AWSTraceHeader"]
