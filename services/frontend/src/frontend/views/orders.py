"""The order page: queued until the consumer has recorded the order, then fulfilled (or failed),
with the order's journey (:mod:`frontend.journey`) drawn server-side from its record and trace.

The page is complete without JavaScript (a meta refresh while queued); with it, a small script
polls ``/api/orders/<id>`` and swaps in the status fragment that the same template renders, and
keeps polling a little after the order is done while its trace is still on its way.

Which ids exist: an order the consumer has recorded exists for everyone who has its link. An
order not recorded (yet) exists only for the session that placed it (the cookie remembers its
last orders): for anyone else the id is answered 404, since nothing the shop can ask tells "still
queued" from "never accepted" (SQS cannot be searched by order id, and the producer keeps no
record of orders without an ``Idempotency-Key``). Someone opening a link to an order placed
moments ago elsewhere sees "not found" for the second or so it is queued; a reload then finds it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template

from frontend.clients import OrderStatus, TraceLookup, Unavailable, trace_lookup_from_env
from frontend.journey import Journey, TraceSpan, build_journey
from frontend.sessions import placed_order
from frontend.tracelinks import trace_url
from lantern.logs import bind
from lantern.orders import OrderRecord, is_order_id

NOT_FOUND = (
    "There is no order with that number. Check the link, or find your orders from the page "
    "you placed them on."
)
HEADINGS = {
    "failed": "We could not fulfil this order",
    "unknown": "We cannot look this order up right now",
}


def order_view(
    order_id: str,
    record: OrderRecord | None,
    remembered: dict[str, Any] | None,
    *,
    consumer_up: bool,
    trace_template: str | None,
    spans: list[TraceSpan] | None = None,
    traces_collected: bool = False,
) -> dict[str, Any]:
    """Everything the order page shows, from the consumer's record or, until then, the session.

    ``traces_collected``: a trace store is configured, so a journey not yet timed by the trace
    is worth asking for again (the spans reach it a moment after the order is done).
    """
    remembered = remembered or {}
    journey = build_journey(record, spans or ())
    if record is None:
        trace_id = remembered.get("trace")
        # Not recorded: queued if this session placed it; otherwise the consumer was not
        # there to ask (the view answers 404 when it was), so nobody can tell.
        status = "queued" if remembered else "unknown"
        return {
            **_common(order_id, status, consumer_up, remembered, trace_id, trace_template),
            "customer_name": None,
            "lines": [],
            "item_count": remembered.get("items"),
            "total_cents": remembered.get("total"),
            "accepted_at": None,
            "recorded_at": None,
            "pipeline_seconds": None,
            "attempts": None,
            "journey": _journey_view(journey, pending=False),
        }
    trace_id = record.trace_id or remembered.get("trace")
    pending = traces_collected and isinstance(trace_id, str) and not _fully_traced(journey)
    return {
        **_common(order_id, record.status, consumer_up, remembered, trace_id, trace_template),
        # Only the session that placed the order sees whose it is.
        "customer_name": record.customer_name if remembered else None,
        "lines": [{**asdict(line), "total_cents": line.total_cents} for line in record.lines],
        "item_count": record.item_count,
        "total_cents": record.total_cents,
        "accepted_at": record.accepted_at,
        "recorded_at": record.recorded_at,
        "pipeline_seconds": record.pipeline_seconds,
        "attempts": record.delivery.receive_count if record.delivery else None,
        "journey": _journey_view(journey, pending=pending),
    }


def _fully_traced(journey: Journey | None) -> bool:
    """Whether the trace store has both ends of the journey: the producer's and the consumer's
    spans (each service exports on its own schedule, so one may be there before the other)."""
    traced = {hop.key for hop in journey.hops if hop.source == "trace"} if journey else set()
    return {"accepted", "stored"} <= traced


def _journey_view(journey: Journey | None, *, pending: bool) -> dict[str, Any] | None:
    if journey is None:
        return None
    return {
        "hops": [
            {**asdict(row["hop"]), "x": row["x"], "width": row["width"]} for row in journey.bars()
        ],
        "attempts": journey.attempts,
        "timed_by_trace": journey.timed_by_trace,
        "total_seconds": journey.total_seconds,
        "trace_pending": pending,
    }


def _common(
    order_id: str,
    status: str,
    consumer_up: bool,
    remembered: dict[str, Any],
    trace_id: object,
    trace_template: str | None,
) -> dict[str, Any]:
    trace_id = trace_id if isinstance(trace_id, str) else None
    placed_here = bool(remembered)
    heading = HEADINGS.get(status)
    if heading is None:
        heading = "Thank you, your order is in" if placed_here else "Order status"
    return {
        "order_id": order_id,
        "status": status,
        "heading": heading,
        "consumer_up": consumer_up,
        "placed_here": placed_here,
        "trace_id": trace_id,
        "trace_url": trace_url(trace_template, trace_id),
    }


def create_blueprint(
    consumer: OrderStatus,
    trace_template: str | None,
    traces: TraceLookup | None = None,
) -> Blueprint:
    """``traces``: where the journey reads an order's trace; by default the store that
    ``TRACE_API_URL`` names (none when it is unset: the journey comes from the record alone)."""
    orders = Blueprint("orders", __name__)
    lookup = traces if traces is not None else trace_lookup_from_env()

    def spans_of(trace_id: object) -> list[TraceSpan] | None:
        if lookup is None or not isinstance(trace_id, str):
            return None
        return lookup.spans(trace_id)

    def load(order_id: str) -> tuple[dict[str, Any], int]:
        if not is_order_id(order_id):
            abort(404, description=NOT_FOUND)
        bind(order_id=order_id)
        remembered = placed_order(order_id)
        try:
            record, consumer_up = consumer.order(order_id), True
        except Unavailable:
            record, consumer_up = None, False
        if record is None and remembered is None and consumer_up:
            abort(404, description=NOT_FOUND)
        trace_id = (
            record.trace_id if record and record.trace_id else (remembered or {}).get("trace")
        )
        order = order_view(
            order_id,
            record,
            remembered,
            consumer_up=consumer_up,
            trace_template=trace_template,
            spans=spans_of(trace_id),
            traces_collected=lookup is not None,
        )
        return order, 503 if order["status"] == "unknown" else 200

    @orders.get("/orders/<order_id>")
    def show(order_id: str) -> tuple[str, int]:
        order, status = load(order_id)
        return render_template("order.html", order=order), status

    @orders.get("/api/orders/<order_id>")
    def status(order_id: str) -> tuple[Response, int]:
        order, code = load(order_id)
        fragment = render_template("_order_status.html", order=order)
        return jsonify({**order, "html": fragment}), code

    return orders
