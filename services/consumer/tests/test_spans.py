"""Span shapes of processing, recorded by OpenTelemetry's in-memory exporter: the process span
continues the producer's trace through the message attributes, and says how it ended; the
batch delete is a settle span linked to the messages it settles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from consumer.fakes import FakeMessages, FakeOrderStore
from consumer.processing import OrderProcessor
from consumer.signals import ConsumerSignals
from consumer.worker import Worker
from lantern import logs
from lantern.envelope import MessageAttributes
from lantern.orders import Order
from lantern.telemetry import tracing
from lantern.telemetry.messaging import OtelMessagingTracer
from tests.support.units import in_memory_spans


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return in_memory_spans()


@pytest.fixture(autouse=True)
def trace_ids_from_otel(monkeypatch: pytest.MonkeyPatch) -> None:
    """What init_telemetry does in otel mode: log lines and records read the active span."""
    monkeypatch.setattr(logs, "_trace_ids", tracing.current_trace_ids)


@pytest.fixture
def traced(
    store: FakeOrderStore, signals: ConsumerSignals, messages: FakeMessages, work: Any
) -> OrderProcessor:
    tracer = OtelMessagingTracer()
    return OrderProcessor(store, tracer, signals, "orders", work, messages.max_receive_count)


def sent(messages: FakeMessages, order: Order, exporter: InMemorySpanExporter) -> Any:
    """Send as the producer does (its send span injects the context), return the send span."""
    attributes: MessageAttributes = {}
    with OtelMessagingTracer().send("orders", attributes, {}):
        pass
    messages.send_order(order, attributes)
    (send,) = [span for span in exporter.get_finished_spans() if span.name == "send orders"]
    return send


def test_the_process_span_continues_the_senders_trace(
    exporter: InMemorySpanExporter,
    messages: FakeMessages,
    traced: OrderProcessor,
    store: FakeOrderStore,
    make_order: Callable[..., Order],
) -> None:
    exporter.clear()
    order = make_order()
    send = sent(messages, order, exporter)
    (message,) = messages.receive(1, 0, 30)

    traced.handle(message)

    (process,) = [span for span in exporter.get_finished_spans() if span.name == "process orders"]
    assert process.kind == SpanKind.CONSUMER
    assert process.context.trace_id == send.context.trace_id
    assert process.parent is not None
    assert process.parent.span_id == send.context.span_id
    assert [link.context.span_id for link in process.links] == [send.context.span_id]
    expected = {
        "messaging.system": "aws_sqs",
        "messaging.destination.name": "orders",
        "messaging.operation.type": "process",
        "messaging.message.id": message["MessageId"],
        "lantern.order.id": order.order_id,
        "lantern.outcome": "fulfilled",
    }
    assert {key: (process.attributes or {}).get(key) for key in expected} == expected
    # The record keeps the trace id, so the order page can link to this very trace.
    assert store.records[order.order_id].trace_id == f"{send.context.trace_id:032x}"


def test_a_failed_attempt_is_an_error_span_with_the_exception(
    exporter: InMemorySpanExporter,
    messages: FakeMessages,
    traced: OrderProcessor,
    work: Any,
    make_order: Callable[..., Order],
) -> None:
    exporter.clear()
    sent(messages, make_order(), exporter)
    work.failures.append(RuntimeError("the courier did not come"))

    traced.handle(messages.receive(1, 0, 30)[0])

    (process,) = [span for span in exporter.get_finished_spans() if span.name == "process orders"]
    assert process.status.status_code == StatusCode.ERROR
    assert (process.attributes or {})["lantern.outcome"] == "failed"
    (event,) = [event for event in process.events if event.name == "exception"]
    assert (event.attributes or {})["exception.message"] == "the courier did not come"


def test_the_batch_delete_is_a_settle_span_linked_to_each_messages_send_span(
    exporter: InMemorySpanExporter,
    messages: FakeMessages,
    store: FakeOrderStore,
    signals: ConsumerSignals,
    work: Any,
    make_order: Callable[..., Order],
) -> None:
    exporter.clear()
    tracer = OtelMessagingTracer().for_endpoint("https://sqs.eu-west-1.amazonaws.com")
    processor = OrderProcessor(store, tracer, signals, "orders", work, messages.max_receive_count)
    worker = Worker(
        messages, processor, tracer, queue_name="orders", concurrency=1, batch_size=10,
        wait_seconds=0, visibility_seconds=30, retry_base_seconds=0,
    )  # fmt: skip
    sends = []
    for _ in range(2):
        exporter.clear()
        sends.append(sent(messages, make_order(), exporter))
    exporter.clear()
    messages.send_order(make_order(), {})  # no trace context: settled, but nothing to link to
    batch = messages.receive(10, 0, 30)

    worker.process_batch(batch)

    (delete,) = [span for span in exporter.get_finished_spans() if span.name == "delete orders"]
    assert (delete.kind, delete.parent) == (SpanKind.CLIENT, None)
    assert dict(delete.attributes or {}) == {
        "messaging.system": "aws_sqs",
        "messaging.destination.name": "orders",
        "messaging.operation.name": "delete",
        "messaging.operation.type": "settle",
        "messaging.batch.message_count": 3,
        "server.address": "sqs.eu-west-1.amazonaws.com",
        "server.port": 443,
    }
    assert [(link.context.trace_id, link.context.span_id) for link in delete.links] == [
        (send.context.trace_id, send.context.span_id) for send in sends
    ]
    process = [span for span in exporter.get_finished_spans() if span.name == "process orders"]
    assert {(span.attributes or {})["server.address"] for span in process} == {
        "sqs.eu-west-1.amazonaws.com"
    }
