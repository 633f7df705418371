"""The order page: queued until the consumer has recorded the order, then fulfilled (or failed).

The page is complete without JavaScript (a meta refresh while queued); with it, a small script
polls ``/api/orders/<id>`` and swaps in the status fragment that the same template renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template

from frontend.clients import OrderStatus, Unavailable
from frontend.sessions import placed_order
from frontend.tracelinks import trace_url
from lantern.logs import bind
from lantern.orders import is_order_id

TERMINAL = ("fulfilled", "failed")


def _lines(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    lines = []
    for line in raw:
        if not isinstance(line, dict):
            continue
        quantity, unit = line.get("quantity"), line.get("unit_price_cents")
        if not isinstance(quantity, int) or not isinstance(unit, int):
            continue
        lines.append(
            {
                "name": str(line.get("name", line.get("sku", "?"))),
                "quantity": quantity,
                "unit_price_cents": unit,
                "total_cents": quantity * unit,
            }
        )
    return lines


def _number(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def order_view(
    order_id: str,
    record: dict[str, Any] | None,
    remembered: dict[str, Any] | None,
    *,
    consumer_up: bool,
    trace_template: str | None,
) -> dict[str, Any]:
    """Everything the order page shows, from the consumer's record or, until then, the session."""
    record = record or {}
    remembered = remembered or {}
    status = record.get("status") if record.get("status") in TERMINAL else "queued"
    trace_id = record.get("trace_id") or remembered.get("trace")
    accepted_at, recorded_at = _number(record, "accepted_at"), _number(record, "recorded_at")
    took = None if accepted_at is None or recorded_at is None else recorded_at - accepted_at
    lines = _lines(record.get("lines"))
    return {
        "order_id": order_id,
        "status": status,
        "consumer_up": consumer_up,
        "placed_here": bool(remembered),
        "trace_id": trace_id if isinstance(trace_id, str) else None,
        "trace_url": trace_url(trace_template, trace_id),
        "customer_name": str(record["customer_name"]) if "customer_name" in record else None,
        "lines": lines,
        "item_count": sum(line["quantity"] for line in lines) or remembered.get("items"),
        "total_cents": record.get("total_cents", remembered.get("total")),
        "accepted_at": accepted_at,
        "recorded_at": recorded_at,
        "pipeline_seconds": took,
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
