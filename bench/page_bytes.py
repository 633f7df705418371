"""Bytes a browser downloads for each storefront page on a first visit, with and without gzip.

The storefront is built in-process by its factory, with in-memory stand-ins for the producer and
the consumer (one fulfilled order), and driven by Flask's test client: a page's HTML plus every
local file it links (stylesheet, scripts, icon, images), each counted once per page, as sent.
Run it on two checkouts to compare them::

    uv run --frozen python -m bench.page_bytes
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

from frontend.app import create_app
from frontend.clients import Placed, Unavailable
from frontend.settings import FrontendSettings
from lantern.orders import OrderRecord

ORDER_ID = "ord_" + "7" * 32
PAGES = {
    "home": "/",
    "product": "/products/LNT-001",
    "cart": "/cart",
    "order": f"/orders/{ORDER_ID}",
    "pipeline": "/pipeline",
}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class _Producer:
    def place(self, payload: dict[str, Any], idempotency_key: str) -> Placed:
        return Placed(ORDER_ID, replayed=False)

    def metrics_text(self) -> str:
        raise Unavailable("not measured")


class _Consumer:
    def order(self, order_id: str) -> OrderRecord | None:
        now = time.time()
        lines = [
            {
                "sku": "LNT-001",
                "name": "Harbour Storm Lantern",
                "unit_price_cents": 4900,
                "quantity": 2,
            },
            {"sku": "LNT-014", "name": "Firefly Jar", "unit_price_cents": 2100, "quantity": 1},
        ]
        record = {
            "order_id": order_id,
            "status": "fulfilled",
            "customer_name": "Ada Lovelace",
            "lines": lines,
            "accepted_at": now - 1.2,
            "recorded_at": now,
            "message_id": "m-1",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        }
        return OrderRecord.from_json(record) if order_id == ORDER_ID else None

    def recent(self) -> list[dict[str, Any]]:
        return []

    def metrics_text(self) -> str:
        raise Unavailable("not measured")


class _Links(HTMLParser):
    """Local URLs a browser fetches while rendering: stylesheets, icons, scripts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag in ("script", "img") else None
        if tag == "link" and (found.get("rel") or "") in ("stylesheet", "icon"):
            url = found.get("href")
        if url and url.startswith("/") and url not in self.urls:
            self.urls.append(url)


def _shopper() -> FlaskClient:
    settings = FrontendSettings.from_env(
        {
            "SECRET_KEY": "page-bytes-secret-key-long-enough",
            "STATSD_HOST": "none",
            "TRACING_MODE": "off",
            "LOG_LEVEL": "WARNING",
        }
    )
    app = create_app(settings, producer=_Producer(), consumer=_Consumer())
    client = app.test_client()
    match = _TOKEN.search(client.get("/").get_data(as_text=True))
    assert match, "no CSRF token on the home page"
    token = match.group(1)
    # A cart of two lines, checked out once (so the session remembers the order), then refilled.
    for sku, quantity in (("LNT-001", 2), ("LNT-014", 1)):
        client.post("/cart/add", data={"csrf_token": token, "sku": sku, "quantity": quantity})
    form = {"csrf_token": token, "name": "Ada Lovelace", "email": "ada@example.com"}
    client.post("/checkout", data={**form, "checkout_id": "a" * 32})
    client.post("/cart/add", data={"csrf_token": token, "sku": "LNT-001", "quantity": 2})
    client.get("/cart")  # shows (and so drops) the "Added" message
    return client


def page_bytes(client: FlaskClient, path: str, encoding: str | None) -> tuple[int, int, int]:
    """(bytes of the HTML, bytes of the HTML and everything it links, files linked) as sent."""
    headers = {"Accept-Encoding": encoding} if encoding else {}
    page = client.get(path, headers=headers)
    parser = _Links()
    raw = page.get_data()
    html = raw if page.headers.get("Content-Encoding") != "gzip" else _gunzip(raw)
    parser.feed(html.decode())
    total = len(raw)
    for url in parser.urls:
        total += len(client.get(url, headers=headers).get_data())
    return len(raw), total, len(parser.urls)


def _gunzip(data: bytes) -> bytes:
    import gzip

    return gzip.decompress(data)


def main() -> None:
    client = _shopper()
    print("| Page | Files linked | HTML | HTML, gzip | Page with assets | Page with assets, gzip |")
    print("|---|---:|---:|---:|---:|---:|")
    sums = [0, 0, 0, 0, 0]
    for name, path in PAGES.items():
        plain_html, plain_all, files = page_bytes(client, path, None)
        gzip_html, gzip_all, _ = page_bytes(client, path, "gzip, deflate, br")
        row = [files, plain_html, gzip_html, plain_all, gzip_all]
        sums = [a + b for a, b in zip(sums, row, strict=True)]
        print(f"| {name} | " + " | ".join(f"{n:,}" for n in row) + " |")
    print("| all five | " + " | ".join(f"{n:,}" for n in sums) + " |")


if __name__ == "__main__":
    main()
