"""Jinja setup: autoescaping everywhere, the filters the templates use, cache-busted assets."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import Flask, request

from frontend import cart
from frontend.artwork import alt_text
from frontend.assets import init_assets
from frontend.fragments import init_fragments
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
    init_fragments(app)  # after init_security: its csrf_token() global is wrapped
    app.jinja_env.globals["url_for"] = memoized_url_for(app.url_for)
    app.jinja_env.globals["product_alt"] = alt_text
    app.jinja_env.globals["max_quantity"] = cart.MAX_PER_PRODUCT

    @app.context_processor
    def cart_badge() -> dict[str, Any]:
        return {"cart_count": cart.price(load_cart(catalog), catalog).item_count}


URLS_KEPT = 1024  # the shop's links: a few per page, products and recent order ids


def memoized_url_for(build: Callable[..., str]) -> Callable[..., str]:
    """``url_for`` for templates, remembering what it built: a page links the same dozen routes
    on every view, and building a URL costs more than rendering its tag. Only a plain internal
    URL (no ``_external``, ``_anchor`` and the like, an absolute endpoint name) is remembered,
    per mount point; anything else is built as usual."""

    @lru_cache(maxsize=URLS_KEPT)
    def remembered(script_root: str, endpoint: str, values: tuple[tuple[str, Any], ...]) -> str:
        return build(endpoint, **dict(values))

    def url_for(endpoint: str, **values: Any) -> str:
        plain = not endpoint.startswith(".") and not any(key[:1] == "_" for key in values)
        if plain and all(isinstance(v, str | int) for v in values.values()):
            return remembered(request.script_root, endpoint, tuple(sorted(values.items())))
        return build(endpoint, **values)

    return url_for
