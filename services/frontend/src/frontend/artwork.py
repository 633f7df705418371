"""Descriptions of the product illustrations (drawn for this shop), used as their alt text."""

from __future__ import annotations

from lantern.catalog import Product

ALT_TEXT = {
    "storm-lantern.svg": "A galvanised hurricane lantern with a glass globe around a steady flame",
    "paper-moon.svg": "A round white paper lantern glowing like a full moon",
    "ship-lantern.svg": "A polished brass ship's lantern with a ribbed lens and a carrying ring",
    "solar-lantern.svg": "A small garden lantern with a solar panel roof, glowing on a stake",
    "camp-lantern.svg": "A folding camping lantern with a handle and a bright band of light",
    "pillar-candle.svg": "A thick golden beeswax pillar candle with a lit wick",
    "tea-lights.svg": "Three lit tea lights in silver cups",
    "lighthouse.svg": "A red and white ceramic lighthouse casting a beam of light",
    "bulb-string.svg": "A string of warm filament bulbs hanging in a gentle curve",
    "glass-globe.svg": "A clear glass lantern globe with a bulge in the middle",
    "lamp-oil.svg": "A bottle of lamp oil with a label showing a flame",
    "wick-pack.svg": "Flat cotton wicks fanned out of a paper packet",
    "lantern-hook.svg": "A tall black iron shepherd's hook holding a small lantern",
    "firefly-jar.svg": "A glass jar with a lid, full of tiny glowing points of light",
}


def alt_text(product: Product) -> str:
    return ALT_TEXT.get(product.image, f"Illustration of the {product.name}")
