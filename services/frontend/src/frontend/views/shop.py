"""Browsing and the cart: home, category filter, product pages, cart changes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from frontend import cart
from frontend.sessions import load_cart, save_cart
from frontend.views import forms
from lantern.catalog import Catalog, Product

RELATED_COUNT = 3


def related(product: Product, catalog: Catalog) -> list[Product]:
    """A few other products: same category first, then the rest in catalog order."""
    others = [p for p in catalog if p.sku != product.sku]
    others.sort(key=lambda p: p.category != product.category)
    return others[:RELATED_COUNT]


def create_blueprint(catalog: Catalog) -> Blueprint:
    shop = Blueprint("shop", __name__)
    categories = sorted({product.category for product in catalog})

    @shop.get("/")
    def home() -> str:
        category = request.args.get("category", "")
        if category not in categories:
            category = ""
        products = [p for p in catalog if not category or p.category == category]
        return render_template(
            "home.html", products=products, categories=categories, category=category
        )

    @shop.get("/products/<sku>")
    def product(sku: str) -> str:
        found = catalog.get(sku)
        if found is None:
            abort(404, description="We could not find that product. It may have sold out.")
        items = load_cart(catalog)
        return render_template(
            "product.html",
            product=found,
            related=related(found, catalog),
            in_cart=items.get(found.sku, 0),
            room=cart.room_for(items, found.sku),
        )

    @shop.get("/cart")
    def view_cart() -> str:
        return render_template("cart.html", cart=cart.price(load_cart(catalog), catalog))

    def change(apply: cart.Change, message: str, back: str | None = None) -> Response:
        """Apply a change and go to the cart. Past the quantity limit: nothing changes, and the
        shopper goes back to the page of the form (``back``) with the reason."""
        try:
            updated = apply(load_cart(catalog))
        except cart.CartLimit as exc:
            flash(str(exc), "error")
            return redirect(back or url_for("shop.view_cart"), 303)
        except cart.CartError as exc:
            abort(400, description=str(exc).capitalize() + ".")
        save_cart(updated)
        flash(message, "success")
        return redirect(url_for("shop.view_cart"), 303)

    def product_from_form() -> Product:
        found = catalog.get(forms.text("sku", required=True))
        if found is None:
            abort(400, description="There is no such product.")
        return found

    @shop.post("/cart/add")
    def add() -> Response:
        item, quantity = product_from_form(), forms.integer("quantity", default=1)
        return change(
            lambda items: cart.add(items, item.sku, quantity, catalog),
            f"Added {quantity} \N{MULTIPLICATION SIGN} {item.name} to your cart.",
            back=url_for("shop.product", sku=item.sku),
        )

    @shop.post("/cart/update")
    def update() -> Response:
        item, quantity = product_from_form(), forms.integer("quantity")
        return change(
            lambda items: cart.set_quantity(items, item.sku, quantity, catalog),
            f"Removed {item.name}." if quantity == 0 else f"Updated {item.name}.",
        )

    @shop.post("/cart/remove")
    def remove() -> Response:
        item = product_from_form()
        return change(lambda items: cart.remove(items, item.sku), f"Removed {item.name}.")

    return shop
