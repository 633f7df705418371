"""The cart: SKU -> quantity, priced from the catalog on every read. Pure, no I/O.

The session cookie holds only SKUs and quantities; prices, names and totals always come from the
catalog, so a tampered or stale cookie can never change what something costs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lantern.catalog import Catalog, Product
from lantern.orders import MAX_LINES, MAX_QUANTITY, MIN_QUANTITY, LineTotals

Change = Callable[[dict[str, int]], dict[str, int]]


class CartError(ValueError):
    """A cart change that cannot be applied (unknown product, quantity out of range)."""


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.product.price_cents * self.quantity


@dataclass(frozen=True)
class PricedCart(LineTotals):
    lines: tuple[CartLine, ...]

    def __bool__(self) -> bool:
        return bool(self.lines)

    def order_items(self) -> list[dict[str, object]]:
        """The ``items`` of a producer order request."""
        return [{"sku": line.product.sku, "quantity": line.quantity} for line in self.lines]


def clean(raw: object, catalog: Catalog) -> dict[str, int]:
    """A well-formed cart from whatever the session holds; drops what is unknown or invalid."""
    if not isinstance(raw, Mapping):
        return {}
    cart: dict[str, int] = {}
    for sku, quantity in raw.items():
        if len(cart) >= MAX_LINES:
            break
        if not isinstance(sku, str) or catalog.get(sku) is None:
            continue
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            continue
        if MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            cart[sku] = quantity
    return cart


def price(cart: Mapping[str, int], catalog: Catalog) -> PricedCart:
    lines = []
    for sku, quantity in cart.items():
        product = catalog.get(sku)
        if product is not None:
            lines.append(CartLine(product, quantity))
    return PricedCart(tuple(lines))


def _product(sku: str, catalog: Catalog) -> Product:
    product = catalog.get(sku)
    if product is None:
        raise CartError(f"there is no product {sku!r}")
    return product


def add(cart: Mapping[str, int], sku: str, quantity: int, catalog: Catalog) -> dict[str, int]:
    """Add ``quantity`` of ``sku``; a line never exceeds the most one order may hold."""
    product = _product(sku, catalog)
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise CartError(f"quantity must be {MIN_QUANTITY}-{MAX_QUANTITY}")
    if product.sku not in cart and len(cart) >= MAX_LINES:
        raise CartError(f"a cart holds at most {MAX_LINES} different products")
    updated = dict(cart)
    updated[product.sku] = min(MAX_QUANTITY, updated.get(product.sku, 0) + quantity)
    return updated


def set_quantity(
    cart: Mapping[str, int], sku: str, quantity: int, catalog: Catalog
) -> dict[str, int]:
    """Set a line's quantity; 0 removes it."""
    _product(sku, catalog)
    if quantity == 0:
        return remove(cart, sku)
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise CartError(f"quantity must be 0-{MAX_QUANTITY}")
    if sku not in cart:
        raise CartError("that product is not in your cart")
    updated = dict(cart)
    updated[sku] = quantity
    return updated


def remove(cart: Mapping[str, int], sku: str) -> dict[str, int]:
    return {key: value for key, value in cart.items() if key != sku}
