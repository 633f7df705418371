""" "Your orders": the orders this browser session placed (the session keeps the last five).

The list comes from the signed session cookie, newest first; each entry's status comes from the
consumer when it has recorded the order. The consumer is asked once per order (five at most);
when it does not answer, the rest are not asked and the page says that statuses are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template

from frontend.clients import OrderStatus, Unavailable
from frontend.sessions import placed_orders
from lantern.orders import OrderRecord

# What each state is called on the page; "queued" is also what a consumer 404 means.
STATUS_LABELS = {"queued": "Queued", "fulfilled": "Fulfilled", "failed": "Failed"}


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    status: str | None  # queued / fulfilled / failed; None when the consumer did not answer
    item_count: int
    total_cents: int
    placed_at: int | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status or "", "Status unknown")


def placed_order(entry: dict[str, Any], record: OrderRecord | None, known: bool) -> PlacedOrder:
    """One row: the consumer's record where it has one, else what the session remembered."""
    status = (record.status if record is not None else "queued") if known else None
    return PlacedOrder(
        order_id=entry["id"],
        status=status,
        item_count=record.item_count if record is not None else entry["items"],
        total_cents=record.total_cents if record is not None else entry["total"],
        placed_at=entry.get("at"),
    )


def your_orders(
    consumer: OrderStatus, entries: list[dict[str, Any]]
) -> tuple[list[PlacedOrder], bool]:
    """The rows, and whether the consumer answered for all of them."""
    rows: list[PlacedOrder] = []
    consumer_up = True
    for entry in entries:
        record = None
        if consumer_up:
            try:
                record = consumer.order(entry["id"])
            except Unavailable:
                consumer_up = False
        rows.append(placed_order(entry, record, consumer_up))
    return rows, consumer_up


def create_blueprint(consumer: OrderStatus) -> Blueprint:
    history = Blueprint("your_orders", __name__)

    @history.get("/orders")
    def show() -> str:
        rows, consumer_up = your_orders(consumer, placed_orders())
        return render_template("your_orders.html", orders=rows, consumer_up=consumer_up)

    return history
