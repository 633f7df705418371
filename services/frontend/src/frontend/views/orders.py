"""The order page: queued until the consumer has recorded the order, then fulfilled (or failed).

The page is complete without JavaScript (a meta refresh while queued); with it, a small script
polls ``/api/orders/<id>`` and swaps in the status fragment that the same template renders.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template

from frontend.clients import OrderStatus, Unavailable
from frontend.sessions import placed_order
from frontend.tracelinks import trace_url
from lantern.logs import bind
from lantern.orders import OrderRecord, is_order_id


def order_view(
    order_id: str,
    record: OrderRecord | None,
    remembered: dict[str, Any] | None,
    *,
    consumer_up: bool,
    trace_template: str | None,
) -> dict[str, Any]:
    """Everything the order page shows, from the consumer's record or, until then, the session."""
    remembered = remembered or {}
    if record is None:
        trace_id = remembered.get("trace")
        return {
            **_common(order_id, "queued", consumer_up, remembered, trace_id, trace_template),
            "customer_name": None,
            "lines": [],
            "item_count": remembered.get("items"),
            "total_cents": remembered.get("total"),
            "accepted_at": None,
            "recorded_at": None,
            "pipeline_seconds": None,
        }
    trace_id = record.trace_id or remembered.get("trace")
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
    return {
        "order_id": order_id,
        "status": status,
        "consumer_up": consumer_up,
        "placed_here": bool(remembered),
        "trace_id": trace_id,
        "trace_url": trace_url(trace_template, trace_id),
    }


def create_blueprint(consumer: OrderStatus, trace_template: str | None) -> Blueprint:
    orders = Blueprint("orders", __name__)

    def load(order_id: str) -> dict[str, Any]:
        if not is_order_id(order_id):
            abort(404, description="There is no order with that number.")
        bind(order_id=order_id)
        try:
            record, consumer_up = consumer.order(order_id), True
        except Unavailable:
            record, consumer_up = None, False
        return order_view(
            order_id,
            record,
            placed_order(order_id),
            consumer_up=consumer_up,
            trace_template=trace_template,
        )

    @orders.get("/orders/<order_id>")
    def show(order_id: str) -> str:
        return render_template("order.html", order=load(order_id))

    @orders.get("/api/orders/<order_id>")
    def status(order_id: str) -> Response:
        order = load(order_id)
        fragment = render_template("_order_status.html", order=order)
        return jsonify({**order, "html": fragment})

    return orders
