"""Spans around SQS: one trace from the HTTP request that sends an order to the write that
fulfils it.

Producer side, :meth:`send` opens a PRODUCER span ``send <queue>`` and writes its context into the
message: W3C ``traceparent`` (+ ``tracestate``/``baggage``) as message attributes and the X-Ray
form as the ``AWSTraceHeader`` system attribute. Consumer side, :meth:`process` opens a CONSUMER
span ``process <queue>`` whose parent is that PRODUCER span and which also links to it, so the
order reads as one trace and still follows the messaging conventions' link model.

The X-Ray SDK flavour does the same with segments; the off flavour does nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from lantern.envelope import ATTRIBUTE_GETTER, ATTRIBUTE_SETTER, MessageAttributes
from lantern.telemetry.tracing import xray_header

SYSTEM = "aws_sqs"
_XRAY_HEADER = re.compile(
    r"Root=(?P<root>[^;]+)(;Parent=(?P<parent>[0-9a-f]{16}))?(;Sampled=(?P<s>[01]))?"
)


class MessageSpan(Protocol):
    """What a service may say about the message being sent or processed."""

    def set_attribute(self, key: str, value: str | int | float | bool) -> None: ...

    def record_failure(self, exc: BaseException) -> None: ...


class MessagingTracer(Protocol):
    def send(
        self, queue: str, attributes: MessageAttributes, system_attributes: MessageAttributes
    ) -> Any: ...

    def receive(self, queue: str) -> Any: ...

    def process(self, queue: str, message: Mapping[str, Any]) -> Any: ...


class _NoSpan:
    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        pass

    def record_failure(self, exc: BaseException) -> None:
        pass


class _OtelSpan:
    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        self._span.set_attribute(key, value)

    def record_failure(self, exc: BaseException) -> None:
        self._span.record_exception(exc)
        self._span.set_status(Status(StatusCode.ERROR, str(exc)))
        self._span.set_attribute("error.type", type(exc).__name__)


@contextmanager
def _failures_recorded(span: trace.Span) -> Iterator[_OtelSpan]:
    """The span as a MessageSpan; an exception escaping the block marks it failed, then goes on."""
    wrapped = _OtelSpan(span)
    try:
        yield wrapped
    except Exception as exc:
        wrapped.record_failure(exc)
        raise


def _base_attributes(queue: str, operation: str, operation_type: str) -> dict[str, str]:
    return {
        "messaging.system": SYSTEM,
        "messaging.destination.name": queue,
        "messaging.operation.name": operation,
        "messaging.operation.type": operation_type,
    }


class OtelMessagingTracer:
    def __init__(self) -> None:
        self._tracer = trace.get_tracer("lantern.messaging")
        self._xray = AwsXRayPropagator()

    @contextmanager
    def send(
        self, queue: str, attributes: MessageAttributes, system_attributes: MessageAttributes
    ) -> Iterator[MessageSpan]:
        with self._tracer.start_as_current_span(
            f"send {queue}",
            kind=SpanKind.PRODUCER,
            attributes=_base_attributes(queue, "send", "send"),
            record_exception=False,
        ) as span:
            propagate.inject(attributes, setter=ATTRIBUTE_SETTER)
            context = span.get_span_context()
            if context.is_valid:
                header = xray_header(context.trace_id, context.span_id, context.trace_flags.sampled)
                system_attributes["AWSTraceHeader"] = {"DataType": "String", "StringValue": header}
            with _failures_recorded(span) as wrapped:
                yield wrapped

    @contextmanager
    def receive(self, queue: str) -> Iterator[MessageSpan]:
        with self._tracer.start_as_current_span(
            f"receive {queue}",
            kind=SpanKind.CLIENT,
            attributes=_base_attributes(queue, "receive", "receive"),
        ) as span:
            yield _OtelSpan(span)

    def _parent(self, message: Mapping[str, Any]) -> Context:
        context = propagate.extract(message.get("MessageAttributes") or {}, getter=ATTRIBUTE_GETTER)
        if trace.get_current_span(context).get_span_context().is_valid:
            return context
        # Sent by something that only speaks X-Ray (or across an AWS integration).
        header = (message.get("Attributes") or {}).get("AWSTraceHeader")
        return self._xray.extract({"X-Amzn-Trace-Id": header}) if header else Context()

    @contextmanager
    def process(self, queue: str, message: Mapping[str, Any]) -> Iterator[MessageSpan]:
        parent = self._parent(message)
        producer = trace.get_current_span(parent).get_span_context()
        attributes = _base_attributes(queue, "process", "process")
        attributes["messaging.message.id"] = str(message.get("MessageId", ""))
        with (
            self._tracer.start_as_current_span(
                f"process {queue}",
                context=parent,
                kind=SpanKind.CONSUMER,
                links=[Link(producer)] if producer.is_valid else None,
                attributes=attributes,
                record_exception=False,
            ) as span,
            _failures_recorded(span) as wrapped,
        ):
            yield wrapped


class NoopMessagingTracer:
    @contextmanager
    def send(
        self, queue: str, attributes: MessageAttributes, system_attributes: MessageAttributes
    ) -> Iterator[MessageSpan]:
        yield _NoSpan()

    @contextmanager
    def receive(self, queue: str) -> Iterator[MessageSpan]:
        yield _NoSpan()

    @contextmanager
    def process(self, queue: str, message: Mapping[str, Any]) -> Iterator[MessageSpan]:
        yield _NoSpan()


def parse_xray_header(header: str) -> tuple[str, str | None, bool] | None:
    """(root trace id, parent id, sampled) from an ``AWSTraceHeader`` value."""
    match = _XRAY_HEADER.search(header)
    if not match:
        return None
    return match["root"], match["parent"], match["s"] != "0"
