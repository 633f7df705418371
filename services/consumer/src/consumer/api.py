"""HTTP routes of the consumer's read API."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from consumer.ports import Store
from consumer.processing import RecentOrders
from consumer.worker import QueueDepthPoller
from lantern.logs import bind
from lantern.orders import is_order_id
from lantern.web import json_error


def create_blueprint(store: Store, depth: QueueDepthPoller, recent: RecentOrders) -> Blueprint:
    api = Blueprint("orders", __name__)

    @api.get("/orders/recent")
    def recent_orders() -> Response:
        """Recently processed messages of this worker process (newest first).

        Only the pipeline page reads this: asking says somebody watches, so queue depth is read
        about every second for a while (one reader per process, whoever asks)."""
        depth.watch()
        return jsonify(recent.snapshot())

    @api.get("/orders/<order_id>")
    def get_order(order_id: str) -> Response | tuple[Response, int]:
        bind(order_id=order_id)
        record = store.get(order_id) if is_order_id(order_id) else None
        if record is None:
            return json_error(404, "not_found", "no fulfilled or failed order with this id (yet)")
        return jsonify(record.to_json())

    @api.get("/queues")
    def queues() -> Response:
        """The poller's last reading of each queue, with its time and age; the DLQ's entry also
        says how many orders set aside are not in it yet. Asking counts as watching."""
        depth.watch()
        return jsonify(depth.report())

    return api
