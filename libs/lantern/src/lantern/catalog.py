"""The product catalog, shipped as a data file. Prices come from here, never from a client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    description: str
    category: str
    price_cents: int
    image: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Catalog:
    """An immutable, SKU-indexed list of products."""

    def __init__(self, products: list[Product]) -> None:
        self._products = tuple(products)
        self._by_sku = {product.sku: product for product in products}
        if len(self._by_sku) != len(self._products):
            raise ValueError("catalog has duplicate SKUs")

    def __iter__(self) -> Iterator[Product]:
        return iter(self._products)

    def __len__(self) -> int:
        return len(self._products)

    def get(self, sku: str) -> Product | None:
        return self._by_sku.get(sku)

    def to_json(self) -> list[dict[str, Any]]:
        return [product.to_json() for product in self._products]


@cache
def load_catalog() -> Catalog:
    """Load the catalog that ships with this package (read once per process)."""
    raw = resources.files("lantern").joinpath("catalog.json").read_text(encoding="utf-8")
    return Catalog([Product(**item) for item in json.loads(raw)])
