"""Jinja setup: autoescaping everywhere, the filters the templates use, cache-busted assets."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from frontend import cart
from frontend.artwork import alt_text
from frontend.assets import init_assets
from frontend.sessions import load_cart
from lantern.catalog import Catalog

CURRENCY = "$"
CATEGORY_LABELS = {
    "lanterns": "Lanterns",
    "outdoor": "Outdoor",
    "candles": "Candles",
    "indoor": "Indoor",
    "parts": "Parts & oil",
}


def money(cents: object) -> str:
    if isinstance(cents, bool) or not isinstance(cents, int):
        return "—"
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{CURRENCY}{whole:,}.{fraction:02d}"


def clock(epoch: object) -> str:
    if isinstance(epoch, bool) or not isinstance(epoch, int | float):
        return "—"
    return time.strftime("%H:%M:%S UTC", time.gmtime(epoch))


def seconds(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s" if value < 60 else f"{value / 60:.1f} min"


def number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:,.0f}"


def init_templating(app: Flask, catalog: Catalog) -> None:
    app.jinja_env.autoescape = True  # every template, whatever its name
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(money=money, clock=clock, seconds=seconds, number=number)
    app.jinja_env.filters["category"] = lambda name: CATEGORY_LABELS.get(name, name.title())
    init_assets(app)
    app.jinja_env.globals["product_alt"] = alt_text
    app.jinja_env.globals["max_quantity"] = cart.MAX_PER_PRODUCT

    @app.context_processor
    def cart_badge() -> dict[str, Any]:
        return {"cart_count": cart.price(load_cart(catalog), catalog).item_count}
