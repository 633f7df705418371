"""A customer without a browser: the storefront's own forms, posted with its cookie and CSRF token.

(The Chromium suite in tests/e2e clicks through the same pages; here the storefront runs in a
container and only the HTTP exchange matters.)
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from typing import Any

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_CHECKOUT_ID = re.compile(r'name="checkout_id" value="([0-9a-f]{32})"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # keep the 303 and its Location: it carries the order id


class Customer:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def _send(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data)
        try:
            with self._opener.open(request, timeout=20) as response:
                return (
                    response.status,
                    response.headers.get("Location", ""),
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def _page(self, path: str) -> str:
        status, _, body = self._send(path)
        assert status == 200, f"GET {path}: {status}"
        return body

    def add_to_cart(self, sku: str, quantity: int) -> None:
        token = _TOKEN.search(self._page(f"/products/{sku}"))
        assert token, "no CSRF token on the product page"
        status, _, body = self._send(
            "/cart/add", {"csrf_token": token[1], "sku": sku, "quantity": str(quantity)}
        )
        assert status in (302, 303), f"add to cart: {status} {body[:200]}"

    def check_out(self, name: str, email: str) -> str:
        """Place the order; return the order id the storefront redirected to."""
        page = self._page("/checkout")
        token, checkout_id = _TOKEN.search(page), _CHECKOUT_ID.search(page)
        assert token, "no CSRF token on the checkout page"
        assert checkout_id, "no checkout id on the checkout page"
        form = {"csrf_token": token[1], "checkout_id": checkout_id[1], "name": name, "email": email}
        status, location, body = self._send("/checkout", form)
        found = re.search(r"/orders/(ord_[0-9a-z]+)", location)
        assert status in (302, 303), f"checkout: {status} {body[:300]}"
        assert found, f"checkout redirected to {location!r}, not an order page"
        return found[1]
