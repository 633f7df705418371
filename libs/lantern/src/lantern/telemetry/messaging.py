"""Spans around SQS: one trace from the HTTP request that sends an order to the write that
fulfils it.

Producer side, :meth:`send` opens a PRODUCER span ``send <queue>`` and writes its context into the
message: W3C ``traceparent`` (+ ``tracestate``/``baggage``) as message attributes and the X-Ray
form as the ``AWSTraceHeader`` system attribute. Consumer side, :meth:`process` opens a CONSUMER
span ``process <queue>`` whose parent is that PRODUCER span and which also links to it, so the
order reads as one trace and still follows the messaging conventions' link model. :meth:`settle`
opens a CLIENT span ``delete <queue>`` (operation type ``settle``) around the batch delete, linked
to the creation context (the ``send`` span) of every message it settles.

Every span says which SQS endpoint it talks to (``server.address``/``server.port``) once the
tracer is bound to the client's endpoint with :meth:`for_endpoint`.

The X-Ray SDK flavour does the same with segments; the off flavour does nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

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
    def for_endpoint(self, endpoint_url: str | None) -> MessagingTracer:
        """This tracer for the SQS endpoint at ``endpoint_url`` (the client's)."""
        ...

    def send(
        self, queue: str, attributes: MessageAttributes, system_attributes: MessageAttributes
    ) -> Any: ...

    def receive(self, queue: str) -> Any: ...

    def process(self, queue: str, message: Mapping[str, Any]) -> Any: ...

    def settle(self, queue: str, messages: Sequence[Mapping[str, Any]]) -> Any:
        """Around deleting ``messages`` (one batch call)."""
        ...


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


Server = dict[str, str | int]  # server.address and server.port, or nothing


def server_attributes(endpoint_url: str | None) -> Server:
    """``server.address`` and ``server.port`` of an SQS endpoint or queue URL."""
    if not endpoint_url:
        return {}
    url = urlsplit(endpoint_url)
    if not url.hostname:
        return {}
    port = url.port or (80 if url.scheme == "http" else 443)
    return {"server.address": url.hostname, "server.port": port}


def _base_attributes(
    queue: str, operation: str, operation_type: str, server: Server
) -> dict[str, str | int]:
    return {
        "messaging.system": SYSTEM,
        "messaging.destination.name": queue,
        "messaging.operation.name": operation,
        "messaging.operation.type": operation_type,
        **server,
    }


def align_botocore_sqs_span(
    span: trace.Span, service_name: str, operation_name: str, api_params: Mapping[str, Any]
) -> None:
    """Request hook for the botocore instrumentation: its SQS spans say ``messaging.system``
    ``aws.sqs``; the conventions' value, and ours, is ``aws_sqs``. It sets the attribute only
    on calls with a ``QueueUrl``, and so does this."""
    if service_name == "sqs" and "QueueUrl" in api_params:
        span.set_attribute("messaging.system", SYSTEM)


class OtelMessagingTracer:
    def __init__(self, endpoint_url: str | None = None) -> None:
        self._tracer = trace.get_tracer("lantern.messaging")
        self._xray = AwsXRayPropagator()
        self._server = server_attributes(endpoint_url)

    def for_endpoint(self, endpoint_url: str | None) -> OtelMessagingTracer:
        return OtelMessagingTracer(endpoint_url)

    def _attributes(self, queue: str, operation: str, operation_type: str) -> dict[str, Any]:
        return _base_attributes(queue, operation, operation_type, self._server)

    @contextmanager
    def send(
        self, queue: str, attributes: MessageAttributes, system_attributes: MessageAttributes
    ) -> Iterator[MessageSpan]:
        with self._tracer.start_as_current_span(
            f"send {queue}",
            kind=SpanKind.PRODUCER,
            attributes=self._attributes(queue, "send", "send"),
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
            attributes=self._attributes(queue, "receive", "receive"),
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
        attributes = self._attributes(queue, "process", "process")
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

    @contextmanager
    def settle(self, queue: str, messages: Sequence[Mapping[str, Any]]) -> Iterator[MessageSpan]:
        # The conventions: a settle span MAY link to each message's creation context, which is
        # what the message carries (our send span). Not parented: the batch spans many traces.
        creations = (self._creation_context(message) for message in messages)
        attributes = self._attributes(queue, "delete", "settle")
        attributes["messaging.batch.message_count"] = len(messages)
        with (
            self._tracer.start_as_current_span(
                f"delete {queue}",
                context=Context(),
                kind=SpanKind.CLIENT,
                links=[Link(context) for context in creations if context.is_valid],
                attributes=attributes,
                record_exception=False,
            ) as span,
            _failures_recorded(span) as wrapped,
        ):
            yield wrapped

    def _creation_context(self, message: Mapping[str, Any]) -> SpanContext:
        return trace.get_current_span(self._parent(message)).get_span_context()


class NoopMessagingTracer:
    def for_endpoint(self, endpoint_url: str | None) -> NoopMessagingTracer:
        return self

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

    @contextmanager
    def settle(self, queue: str, messages: Sequence[Mapping[str, Any]]) -> Iterator[MessageSpan]:
        yield _NoSpan()


def parse_xray_header(header: str) -> tuple[str, str | None, bool] | None:
    """(root trace id, parent id, sampled) from an ``AWSTraceHeader`` value."""
    match = _XRAY_HEADER.search(header)
    if not match:
        return None
    return match["root"], match["parent"], match["s"] != "0"
