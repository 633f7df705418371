"""AWS X-Ray SDK mode (``TRACING_MODE=xray``).

Note: AWS put the X-Ray SDKs and daemon in maintenance mode on 2026-02-25 (end of support
2027-02-25) and recommends OpenTelemetry, which is this demo's default. This mode exists for the
classic X-Ray workshop and for comparison. Segments go over UDP to ``AWS_XRAY_DAEMON_ADDRESS``;
sampling uses local rules only, so it works with no AWS credentials.

Patched: botocore (``sqs`` / ``dynamodb`` subsegments) and, where it is installed, requests (the
storefront's calls): each outgoing call is a ``remote`` subsegment and carries
``X-Amzn-Trace-Id: Root=...;Parent=<that subsegment>;Sampled=...``, which the called service's
Flask middleware continues, so a checkout is one trace from the storefront to the consumer.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from aws_xray_sdk.core import patch, xray_recorder
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler

from lantern.envelope import MessageAttributes
from lantern.telemetry import PROBE_PATHS
from lantern.telemetry.messaging import MessageSpan, parse_xray_header

log = logging.getLogger(__name__)


def sampling_rules(rate: float, untraced: tuple[str, ...] = ()) -> dict[str, Any]:
    """Local sampling rules: ``rate`` of requests (at least one a second); probes never, nor the
    ``untraced`` paths (X-Ray wildcards: ``*`` and ``?``)."""
    never = [
        {"host": "*", "http_method": "*", "url_path": path, "fixed_target": 0, "rate": 0.0}
        for path in (*PROBE_PATHS, *untraced)
    ]
    return {"version": 2, "rules": never, "default": {"fixed_target": 1, "rate": rate}}


def never_sample(untraced: tuple[str, ...], rate: float) -> None:
    """Also leave ``untraced`` paths unsampled (an app's often-polled routes).

    An unsampled segment sends ``Sampled=0`` downstream, so the calls such a request makes (the
    storefront's pipeline page scraping ``/metrics``) are not sampled by the callee either.
    """
    xray_recorder.configure(sampler=LocalSampler(sampling_rules(rate, untraced)))


def setup_xray(service_name: str, daemon_address: str, sampling_rate: float) -> None:
    rules = sampling_rules(sampling_rate)
    # Work outside any request (SQS polls, queue-depth samples) is untraced by design; the SDK
    # would warn "No segment found" on every such AWS call.
    logging.getLogger("aws_xray_sdk.core.recorder").setLevel(logging.ERROR)
    xray_recorder.configure(
        service=service_name,
        daemon_address=daemon_address,
        context_missing="IGNORE_ERROR",  # background work outside a segment is simply untraced
        sampler=LocalSampler(rules),
        sampling=True,
        plugins=(),
    )
    # requests only where installed (the storefront): patch() refuses a module it cannot import.
    patch(["botocore", *(["requests"] if importlib.util.find_spec("requests") else [])])


def _entity() -> Any:
    return xray_recorder.context.get_trace_entity() if xray_recorder.context else None


def current_trace_ids() -> tuple[str | None, str | None, str | None]:
    entity = _entity()
    if entity is None or not getattr(entity, "trace_id", None):
        return None, None, None
    xray_id: str = entity.trace_id
    return xray_id[2:].replace("-", ""), entity.id, xray_id


class _XraySpan:
    def __init__(self, entity: Any) -> None:
        self._entity = entity

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        if self._entity is not None:
            # Annotations are indexed and searchable; X-Ray allows only [A-Za-z0-9_] in keys.
            self._entity.put_annotation(key.replace(".", "_"), value)

    def record_failure(self, exc: BaseException) -> None:
        if self._entity is not None:
            self._entity.add_exception(exc, [])


class XrayMessagingTracer:
    def __init__(self, service_name: str) -> None:
        self._service = service_name

    def for_endpoint(self, endpoint_url: str | None) -> XrayMessagingTracer:
        return self  # patched botocore's subsegments already name the endpoint

    @contextmanager
    def send(
        self, queue: str, attributes: MessageAttributes, system_attributes: MessageAttributes
    ) -> Iterator[MessageSpan]:
        own_segment = _entity() is None  # e.g. synthetic traffic, outside any request
        if own_segment:
            xray_recorder.begin_segment(self._service)
        try:
            with xray_recorder.in_subsegment(f"send {queue}", namespace="aws") as sub:
                if sub is not None and getattr(sub, "sampled", True):
                    header = f"Root={sub.trace_id};Parent={sub.id};Sampled=1"
                    system_attributes["AWSTraceHeader"] = {
                        "DataType": "String",
                        "StringValue": header,
                    }
                yield _XraySpan(sub)
        finally:
            if own_segment:
                xray_recorder.end_segment()

    @contextmanager
    def receive(self, queue: str) -> Iterator[MessageSpan]:
        yield _XraySpan(None)

    @contextmanager
    def settle(self, queue: str, messages: Sequence[Mapping[str, Any]]) -> Iterator[MessageSpan]:
        yield _XraySpan(None)  # outside any segment: the batch delete is untraced in X-Ray mode

    @contextmanager
    def process(self, queue: str, message: Mapping[str, Any]) -> Iterator[MessageSpan]:
        header = (message.get("Attributes") or {}).get("AWSTraceHeader", "")
        parsed = parse_xray_header(header) if header else None
        if parsed:
            root, parent, sampled = parsed
            segment = xray_recorder.begin_segment(
                self._service, traceid=root, parent_id=parent, sampling=int(sampled)
            )
        else:
            segment = xray_recorder.begin_segment(self._service)
        try:
            span = _XraySpan(segment)
            span.set_attribute("messaging.message.id", str(message.get("MessageId", "")))
            try:
                yield span
            except Exception as exc:
                span.record_failure(exc)
                raise
        finally:
            xray_recorder.end_segment()
