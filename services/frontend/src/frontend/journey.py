"""An order's journey through the shop: each hop it took, with how long it took.

Built from two sources, both optional: the consumer's record of the order (its
:class:`~lantern.orders.Delivery`: when SQS took the message and first handed it out, how often,
when the work started and ended, when the record was written) and the order's trace (the spans of
the storefront, the producer, the consumer and the DynamoDB write). A hop timed by a span says so
(``source="trace"``); the record fills in what the trace lacks, so the journey is there as soon
as the record is, and gains per-span timings when the trace arrives. Pure functions only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lantern.orders import OrderRecord

__all__ = ["Hop", "Journey", "TraceSpan", "build_journey", "spans_from_jaeger"]


@dataclass(frozen=True)
class TraceSpan:
    """One span of an order's trace, as the journey needs it (times in epoch seconds)."""

    span_id: str
    parent_id: str | None
    name: str
    service: str
    kind: str  # server | client | producer | consumer | internal
    start: float
    duration: float
    attributes: Mapping[str, Any] = field(default_factory=dict)
    error: bool = False

    @property
    def end(self) -> float:
        return self.start + self.duration


def spans_from_jaeger(payload: object, trace_id: str) -> list[TraceSpan]:
    """The spans of ``trace_id`` in an answer of Jaeger's ``GET /api/traces/<id>`` (which make
    run's receiver speaks too); [] for anything else."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    traces = [t for t in data if isinstance(t, Mapping)] if isinstance(data, list) else []
    found = next((t for t in traces if str(t.get("traceID", "")).lower() == trace_id), None)
    if found is None:
        return []
    processes = found.get("processes") or {}
    spans = []
    for raw in found.get("spans") or []:
        try:
            spans.append(_span(raw, processes))
        except (KeyError, TypeError, ValueError):
            continue  # one odd span does not spoil the journey
    return sorted(spans, key=lambda s: s.start)


def _span(raw: Mapping[str, Any], processes: Mapping[str, Any]) -> TraceSpan:
    tags = {str(tag["key"]): tag.get("value") for tag in raw.get("tags") or []}
    parent = next(
        (
            str(ref["spanID"])
            for ref in raw.get("references") or []
            if ref.get("refType") == "CHILD_OF"
        ),
        None,
    )
    process = processes.get(str(raw.get("processID"))) or {}
    return TraceSpan(
        span_id=str(raw["spanID"]),
        parent_id=parent,
        name=str(raw["operationName"]),
        service=str(process.get("serviceName", "")),
        kind=str(tags.get("span.kind", "internal")),
        start=int(raw["startTime"]) / 1e6,
        duration=int(raw["duration"]) / 1e6,
        attributes=tags,
        error=tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR",
    )


@dataclass(frozen=True)
class Hop:
    key: (
        str  # checkout | accepted | queued | retried | picked_up | processed | stored | dead_letter
    )
    title: str
    note: str
    start: float | None  # epoch seconds
    seconds: float | None  # how long the hop took; None when nothing timed it
    source: str  # trace | record
    failed: bool = False


@dataclass(frozen=True)
class Journey:
    hops: tuple[Hop, ...]
    attempts: int
    timed_by_trace: bool  # at least one hop is timed by a span
    total_seconds: float | None  # from the first hop's start to the last one's end

    def bars(self) -> list[dict[str, Any]]:
        """Each hop with its place on a 0-100 scale of the whole journey, for the timeline."""
        timed = [h for h in self.hops if h.start is not None]
        if not timed:
            return [{"hop": hop, "x": None, "width": None} for hop in self.hops]
        first = min(h.start for h in timed if h.start is not None)
        last = max((h.start or first) + (h.seconds or 0.0) for h in timed)
        scale = max(last - first, 1e-6)
        rows: list[dict[str, Any]] = []
        for hop in self.hops:
            if hop.start is None:
                rows.append({"hop": hop, "x": None, "width": None})
                continue
            x = min(99.0, max(0.0, 100 * (hop.start - first) / scale))
            width = min(100.0 - x, max(1.0, 100 * (hop.seconds or 0.0) / scale))
            rows.append({"hop": hop, "x": round(x, 2), "width": round(width, 2)})
        return rows


def _between(start: float | None, end: float | None) -> float | None:
    """``end - start``, never negative (SQS's clock and ours may differ a little)."""
    if start is None or end is None:
        return None
    return max(0.0, end - start)


def _operation(span: TraceSpan) -> str:
    return str(span.attributes.get("messaging.operation.type", ""))


def _descends_from(span: TraceSpan, ancestor: TraceSpan, index: Mapping[str, TraceSpan]) -> bool:
    seen: set[str] = set()
    current: TraceSpan | None = span
    while current is not None and current.parent_id and current.span_id not in seen:
        if current.parent_id == ancestor.span_id:
            return True
        seen.add(current.span_id)
        current = index.get(current.parent_id)
    return False


@dataclass(frozen=True)
class _Marks:
    """The spans that time the hops, picked out of a trace."""

    checkout: TraceSpan | None
    accepted: TraceSpan | None
    send: TraceSpan | None
    attempts: tuple[TraceSpan, ...]
    put: TraceSpan | None

    @classmethod
    def of(cls, spans: Sequence[TraceSpan]) -> _Marks:
        index = {span.span_id: span for span in spans}
        servers = [s for s in spans if s.kind == "server"]
        attempts = tuple(s for s in spans if _operation(s) == "process")
        last = attempts[-1] if attempts else None
        puts = [s for s in spans if s.name.endswith("PutItem")]
        put = next((p for p in puts if last and _descends_from(p, last, index)), None)
        return cls(
            checkout=next((s for s in servers if s.service == "frontend"), None),
            accepted=next((s for s in servers if s.service == "producer"), None),
            send=next((s for s in spans if _operation(s) in ("send", "publish")), None),
            attempts=attempts,
            put=put,
        )


def build_journey(record: OrderRecord | None, spans: Sequence[TraceSpan] = ()) -> Journey | None:
    """The hops of an order from its record and its trace's spans; None when neither says
    anything (a queued order without a trace)."""
    marks = _Marks.of(spans)
    if record is None and marks.accepted is None:
        return None
    hops = [hop for hop in _hops(record, marks) if hop is not None]
    if not hops:
        return None
    timed = [h for h in hops if h.start is not None]
    starts = [h.start for h in timed if h.start is not None]
    ends = [(h.start or 0.0) + (h.seconds or 0.0) for h in timed]
    total = _between(min(starts), max(ends)) if timed else None
    if record is not None:
        total = record.pipeline_seconds if total is None else total
    delivery = record.delivery if record else None
    attempts = max(len(marks.attempts), delivery.receive_count if delivery else 1)
    return Journey(
        hops=tuple(hops),
        attempts=attempts,
        timed_by_trace=any(h.source == "trace" for h in hops),
        total_seconds=total,
    )


def _hops(record: OrderRecord | None, marks: _Marks) -> list[Hop | None]:
    delivery = record.delivery if record else None
    sent_at = delivery.sent_at if delivery else None
    return [
        _checkout(marks),
        _accepted(record, marks, sent_at),
        _queued(record, marks, sent_at),
        _retried(record, marks),
        # A trace times the wait up to the consumer's span, the pick-up included.
        None if marks.attempts else _picked_up(record),
        _processed(record, marks),
        _stored(record, marks),
        _dead_letter(record),
    ]


def _checkout(marks: _Marks) -> Hop | None:
    span = marks.checkout
    if span is None:
        return None
    return Hop(
        "checkout",
        "Checked out at the storefront",
        "the checkout request, the call to the producer included",
        span.start,
        span.duration,
        "trace",
        span.error,
    )


def _accepted(record: OrderRecord | None, marks: _Marks, sent_at: float | None) -> Hop:
    span = marks.accepted
    if span is not None:
        send = f"; SQS took it in {_ms(marks.send.duration)}" if marks.send else ""
        note = f"validated, priced and sent to SQS{send}"
        return Hop("accepted", "Accepted by the producer", note, span.start, span.duration, "trace")
    accepted_at = record.accepted_at if record else None
    return Hop(
        "accepted",
        "Accepted by the producer",
        "validated, priced and sent to SQS",
        accepted_at,
        _between(accepted_at, sent_at),
        "record",
    )


def _queued(record: OrderRecord | None, marks: _Marks, sent_at: float | None) -> Hop | None:
    note = "a message on the orders queue until a consumer received it"
    if marks.send is not None and marks.attempts:
        note = "a message on the orders queue until a consumer received it and took it in hand"
        start = marks.send.end
        return Hop(
            "queued",
            "Waited in SQS",
            note,
            start,
            _between(start, marks.attempts[0].start),
            "trace",
        )
    delivery = record.delivery if record else None
    if delivery is None or sent_at is None:
        return None
    return Hop(
        "queued",
        "Waited in SQS",
        note,
        sent_at,
        _between(sent_at, delivery.first_received_at),
        "record",
    )


def _retried(record: OrderRecord | None, marks: _Marks) -> Hop | None:
    delivery = record.delivery if record else None
    count = max(len(marks.attempts), delivery.receive_count if delivery else 1)
    if count < 2:
        return None
    note = (
        f"{count - 1} failed {'attempt' if count == 2 else 'attempts'}; each came back"
        " to the queue after a backoff"
    )
    if len(marks.attempts) >= 2:
        first, last = marks.attempts[0], marks.attempts[-1]
        return Hop(
            "retried",
            "Retried",
            note,
            first.start,
            _between(first.start, last.start),
            "trace",
            failed=True,
        )
    assert delivery is not None
    return Hop(
        "retried",
        "Retried",
        note,
        delivery.first_received_at,
        _between(delivery.first_received_at, delivery.started_at),
        "record",
        failed=True,
    )


def _picked_up(record: OrderRecord | None) -> Hop | None:
    delivery = record.delivery if record else None
    if delivery is None or delivery.started_at is None:
        return None
    received = delivery.first_received_at if delivery.receive_count == 1 else None
    return Hop(
        "picked_up",
        "Picked up by the consumer",
        f"received in a batch (delivery {delivery.receive_count}) and taken in hand",
        received if received is not None else delivery.started_at,
        _between(received, delivery.started_at) if received is not None else None,
        "record",
    )


def _processed(record: OrderRecord | None, marks: _Marks) -> Hop | None:
    failed = record is not None and record.status == "failed"
    note = "the work failed" if failed else "the order's work (picking, packing: simulated)"
    if marks.attempts:
        last = marks.attempts[-1]
        end = marks.put.start if marks.put else last.end
        return Hop(
            "processed",
            "Processed",
            note,
            last.start,
            _between(last.start, end),
            "trace",
            failed or last.error,
        )
    delivery = record.delivery if record else None
    if delivery is None or delivery.started_at is None:
        return None
    return Hop(
        "processed",
        "Processed",
        note,
        delivery.started_at,
        _between(delivery.started_at, delivery.worked_at),
        "record",
        failed,
    )


def _stored(record: OrderRecord | None, marks: _Marks) -> Hop | None:
    if record is None and marks.put is None:
        return None
    status = record.status if record else "fulfilled"
    title = "Recorded as failed" if status == "failed" else "Stored"
    note = "the conditional write to DynamoDB (exactly once, even when redelivered)"
    if marks.put is not None:
        return Hop(
            "stored", title, note, marks.put.start, marks.put.duration, "trace", marks.put.error
        )
    assert record is not None
    return Hop("stored", title, note, record.recorded_at, None, "record", status == "failed")


def _dead_letter(record: OrderRecord | None) -> Hop | None:
    if record is None or record.status != "failed":
        return None
    return Hop(
        "dead_letter",
        "Set aside on the dead-letter queue",
        "after its last attempt SQS moves the message to the DLQ, for a person to look at",
        record.recorded_at,
        None,
        "record",
        failed=True,
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
