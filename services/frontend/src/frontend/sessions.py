"""What the signed session cookie holds: the cart and the last few orders placed from it.

The cookie is signed, not encrypted; it holds nothing a visitor should not see (SKUs,
quantities, their own order ids and trace ids), and stays far below the 4 KB cookie limit.
"""

from __future__ import annotations

import time
from typing import Any

from flask import session

from frontend import cart
from lantern.catalog import Catalog
from lantern.orders import is_order_id
from lantern.traceids import is_trace_id

_CART = "cart"
_ORDERS = "orders"
REMEMBERED_ORDERS = 5
CART_DAYS = 7


def load_cart(catalog: Catalog) -> dict[str, int]:
    return cart.clean(session.get(_CART), catalog)


def save_cart(items: dict[str, int]) -> None:
    session.permanent = True  # survives a browser restart, for PERMANENT_SESSION_LIFETIME
    if items:
        session[_CART] = items
    else:
        session.pop(_CART, None)


def remember_order(
    order_id: str,
    trace_id: str | None,
    total_cents: int,
    items: int,
    placed_at: float | None = None,
) -> None:
    """Keep what the order page and "Your orders" show while the order is still queued."""
    trace = trace_id if is_trace_id(trace_id) else None
    at = int(time.time() if placed_at is None else placed_at)
    entry = {"id": order_id, "trace": trace, "total": total_cents, "items": items, "at": at}
    kept = [o for o in placed_orders() if o["id"] != order_id]
    session[_ORDERS] = [entry, *kept][:REMEMBERED_ORDERS]


def placed_orders() -> list[dict[str, Any]]:
    """This session's orders, newest first (``at``, the epoch second it was placed, is missing
    from entries written before it was kept)."""
    raw = session.get(_ORDERS)
    if not isinstance(raw, list):
        return []
    return [
        entry
        for entry in raw
        if isinstance(entry, dict)
        and isinstance(entry.get("id"), str)
        and is_order_id(entry["id"])
        and (entry.get("trace") is None or is_trace_id(entry.get("trace")))
        and isinstance(entry.get("total"), int)
        and isinstance(entry.get("items"), int)
        and (entry.get("at") is None or _is_int(entry.get("at")))
    ]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def placed_order(order_id: str) -> dict[str, Any] | None:
    return next((entry for entry in placed_orders() if entry["id"] == order_id), None)
