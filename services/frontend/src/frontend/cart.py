"""The cart: SKU -> quantity, priced from the catalog on every read. Pure, no I/O.

The session cookie holds only SKUs and quantities; prices, names and totals always come from the
catalog, so a tampered or stale cookie can never change what something costs.

How many of one product a cart may hold is the producer's own rule (:data:`MAX_PER_PRODUCT`,
``lantern.orders.MAX_QUANTITY``): the product page, the cart page and these functions all use it,
so a cart can never hold what checkout would refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lantern.catalog import Catalog, Product
from lantern.orders import MAX_LINES, MAX_QUANTITY, MIN_QUANTITY, LineTotals

Change = Callable[[dict[str, int]], dict[str, int]]
MAX_PER_PRODUCT = MAX_QUANTITY  # units of one product in one order, over all its lines


class CartError(ValueError):
    """A cart change that cannot be applied (unknown product, malformed quantity)."""


class CartLimit(CartError):
    """A change that would take a line past :data:`MAX_PER_PRODUCT`; the message is a sentence
    for the shopper."""


def room_for(cart: Mapping[str, int], sku: str) -> int:
    """How many more of ``sku`` the cart can take."""
    return max(0, MAX_PER_PRODUCT - cart.get(sku, 0))


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
        if MIN_QUANTITY <= quantity <= MAX_PER_PRODUCT:
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
    """Add ``quantity`` of ``sku``; refused (nothing added) past the most one order may hold."""
    product = _product(sku, catalog)
    if quantity < MIN_QUANTITY:
        raise CartError(f"quantity must be at least {MIN_QUANTITY}")
    have = cart.get(product.sku, 0)
    if quantity > room_for(cart, product.sku):
        raise CartLimit(_add_limit_message(product, have))
    if product.sku not in cart and len(cart) >= MAX_LINES:
        raise CartError(f"a cart holds at most {MAX_LINES} different products")
    updated = dict(cart)
    updated[product.sku] = have + quantity
    return updated


def _add_limit_message(product: Product, have: int) -> str:
    most = f"one order takes at most {MAX_PER_PRODUCT} of a product"
    if have >= MAX_PER_PRODUCT:
        return f"Your cart already holds {have} \N{MULTIPLICATION SIGN} {product.name}: {most}."
    if have:
        return (
            f"Your cart already holds {have} \N{MULTIPLICATION SIGN} {product.name} and {most}: "
            f"you can add up to {MAX_PER_PRODUCT - have} more."
        )
    return (
        f"One order takes at most {MAX_PER_PRODUCT} of a product: "
        f"choose 1 to {MAX_PER_PRODUCT} of {product.name}."
    )


def set_quantity(
    cart: Mapping[str, int], sku: str, quantity: int, catalog: Catalog
) -> dict[str, int]:
    """Set a line's quantity; 0 removes it."""
    product = _product(sku, catalog)
    if quantity == 0:
        return remove(cart, sku)
    if quantity < 0:
        raise CartError("quantity must be a whole number, 0 removes the line")
    if sku not in cart:
        raise CartError("that product is not in your cart")
    if quantity > MAX_PER_PRODUCT:
        raise CartLimit(
            f"One order takes at most {MAX_PER_PRODUCT} of a product: {product.name} stays at "
            f"{cart[sku]}."
        )
    updated = dict(cart)
    updated[sku] = quantity
    return updated


def remove(cart: Mapping[str, int], sku: str) -> dict[str, int]:
    return {key: value for key, value in cart.items() if key != sku}
