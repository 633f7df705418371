"""Markup rendered once and reused (frontend.fragments) and remembered URLs: every visitor still
gets their own CSRF token, and the pages are what a fresh render would give."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from frontend.fragments import Fragments
from frontend.templating import memoized_url_for

_TOKENS = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_each_visitor_gets_their_own_token_in_the_cached_forms(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    pages = [first.get("/products/LNT-003"), second.get("/products/LNT-003")]
    tokens = [set(_TOKENS.findall(page.get_data(as_text=True))) for page in pages]
    # The add form and the three related products' forms: one token per visitor, theirs.
    assert all(len(found) == 1 for found in tokens), tokens
    assert tokens[0] != tokens[1]
    for client, found in zip((first, second), tokens, strict=True):
        answer = client.post("/cart/add", data={"sku": "LNT-001", "csrf_token": found.pop()})
        assert answer.status_code == 303, answer.get_data(as_text=True)


def test_the_fragments_render_once_per_product(app: Flask) -> None:
    client = app.test_client()
    fragments = app.extensions["frontend.fragments"]
    assert isinstance(fragments, Fragments)
    client.get("/products/LNT-003")
    kept = len(fragments)
    assert kept >= 5  # the page's two parts and three related cards
    for _ in range(3):
        client.get("/products/LNT-003")
    assert len(fragments) == kept
    client.get("/")
    assert len(fragments) > kept  # the other products' cards


def test_a_reused_fragment_is_the_same_markup_as_a_fresh_one(app: Flask) -> None:
    client = app.test_client()
    pages = [client.get(f"/products/LNT-00{n}").get_data(as_text=True) for n in (3, 4, 3)]
    assert pages[0] == pages[2]  # same visitor, same token: the cached page is byte for byte
    assert "LNT-004" in pages[1]
    assert pages[1] != pages[0]


def test_the_cart_badge_and_room_stay_per_visitor(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/products/LNT-003").get_data(as_text=True)
    token = _TOKENS.search(page)
    assert token is not None
    client.post("/cart/add", data={"sku": "LNT-003", "quantity": "2", "csrf_token": token[1]})
    page = client.get("/products/LNT-003").get_data(as_text=True)
    assert "Your cart holds 2" in page
    assert re.search(r"data-cart-count>2<", page)
    fresh = app.test_client().get("/products/LNT-003").get_data(as_text=True)
    assert "Your cart holds" not in fresh
    assert re.search(r"data-cart-count>0<", fresh)


def test_remembered_urls_match_flask_and_follow_the_mount_point(app: Flask) -> None:
    url_for = memoized_url_for(app.url_for)
    for root in ("", "/shop"):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
            examples: list[tuple[str, dict[str, Any]]] = [
                ("shop.home", {}),
                ("shop.home", {"category": "candles"}),
                ("shop.product", {"sku": "LNT-001"}),
                ("pipeline.show", {}),
            ]
            for endpoint, values in examples:
                assert url_for(endpoint, **values) == app.url_for(endpoint, **values)
            assert url_for("shop.home", _external=True) == app.url_for("shop.home", _external=True)
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/shop"}):
        assert url_for("shop.view_cart") == "/shop/cart"
