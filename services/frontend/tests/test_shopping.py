"""Browsing and the cart through the app: pages, the cookie cart, and its limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from frontend.artwork import ALT_TEXT
from lantern.catalog import load_catalog

CATALOG = load_catalog()
STATIC = Path(__file__).resolve().parents[1] / "src" / "frontend" / "static"


def test_home_lists_every_product_with_image_name_and_price(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)

    for product in CATALOG:
        assert product.name in page
        assert f"/static/img/products/{product.image}?v=" in page
        assert f'alt="{escape(ALT_TEXT[product.image])}"' in page
    assert "$49.00" in page
    assert page.count('class="card"') == len(CATALOG)


def test_every_catalog_image_ships_as_a_well_formed_svg() -> None:
    for product in CATALOG:
        root = ElementTree.parse(STATIC / "img" / "products" / product.image).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox") == "0 0 320 320"


def test_a_category_filter_shows_only_that_category(client: FlaskClient) -> None:
    page = client.get("/?category=candles").get_data(as_text=True)

    assert page.count('class="card"') == 2
    assert "Beeswax Pillar Candle" in page
    assert "Harbour Storm Lantern" not in page
    assert client.get("/?category=nonsense").get_data(as_text=True).count('class="card"') == 14


def test_every_product_has_a_page(client: FlaskClient) -> None:
    for product in CATALOG:
        response = client.get(f"/products/{product.sku}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert f"<h1>{product.name}</h1>" in page
        assert "You might also like" in page


def test_an_unknown_product_is_a_friendly_html_404(client: FlaskClient) -> None:
    response = client.get("/products/LNT-999")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "We could not find that page" in page
    assert "may have sold out" in page
    assert "site-header" in page


def test_cart_add_update_and_remove_keep_server_side_totals(shopper: Any) -> None:
    shopper.add("LNT-001", 2)
    shopper.add("LNT-014")

    page = shopper.get("/cart").get_data(as_text=True)
    assert "Harbour Storm Lantern" in page
    assert "Firefly Jar" in page
    assert "$119.00" in page  # 2 x 49.00 + 21.00

    response = shopper.post("/cart/update", {"sku": "LNT-014", "quantity": "3"})
    assert response.status_code == 303
    assert "$161.00" in shopper.get("/cart").get_data(as_text=True)

    shopper.post("/cart/remove", {"sku": "LNT-001"})
    page = shopper.get("/cart").get_data(as_text=True)
    assert "Removed Harbour Storm Lantern." in page
    assert 'data-sku="LNT-001"' not in page
    assert 'data-sku="LNT-014"' in page
    assert "$63.00" in page

    shopper.post("/cart/update", {"sku": "LNT-014", "quantity": "0"})
    assert "Your cart is empty" in shopper.get("/cart").get_data(as_text=True)


def test_the_header_counts_items_in_the_cart(shopper: Any) -> None:
    shopper.add("LNT-007", 4)

    page = shopper.get("/").get_data(as_text=True)
    assert re.search(r"data-cart-count>4<", page)


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"sku": "LNT-001", "quantity": "abc"}, 400),
        ({"sku": "LNT-001", "quantity": "-1"}, 400),
        ({"sku": "LNT-001", "quantity": "0"}, 400),
        ({"sku": "LNT-001", "quantity": "1" * 40}, 400),
        ({"sku": "LNT-999", "quantity": "1"}, 400),
        ({"quantity": "1"}, 400),
        ({"sku": "x" * 1000, "quantity": "1"}, 400),
    ],
)
def test_invalid_cart_input_is_refused_and_changes_nothing(
    shopper: Any, form: dict[str, str], status: int
) -> None:
    response = shopper.post("/cart/add", form)

    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "Your cart is empty" in shopper.get("/cart").get_data(as_text=True)


def test_an_oversized_form_is_refused_with_413(shopper: Any) -> None:
    response = shopper.post("/cart/add", {"sku": "LNT-001", "padding": "x" * 40_000})

    assert response.status_code == 413
    assert "more than we can take" in response.get_data(as_text=True)


def test_a_cart_cookie_signed_with_another_key_is_ignored(make_app: Any) -> None:
    other = make_app(SECRET_KEY="another-key-of-enough-length").test_client()
    token = _token(other)
    other.post("/cart/add", data={"sku": "LNT-001", "quantity": "5", "csrf_token": token})
    forged = other.get_cookie("lantern_session")
    assert forged is not None

    ours = make_app().test_client()
    ours.set_cookie("lantern_session", forged.value)
    assert "Your cart is empty" in ours.get("/cart").get_data(as_text=True)


def test_service_endpoints_are_there(app: Flask, client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    # No upstream checks: browsing and the cart never depend on the producer or consumer.
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'checkouts_total{outcome="placed"} 0.0' in metrics
    assert "http_server_request_duration_seconds" in metrics


def test_static_assets_are_local_and_fingerprinted(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)

    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert any(a.startswith("/static/css/site.css?v=") for a in assets)
    assert any(a.startswith("/static/js/site.js?v=") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert [link for link in links if link.startswith(("http:", "https:", "//"))] == []


def _token(client: FlaskClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True))
    assert match
    return match.group(1)
