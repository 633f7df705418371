"""axe-core over every storefront page, on a desktop and a phone, failing on any violation.

Pages come from the app's own routes: every GET route outside ``/api/`` and the probes is a
page, so a new page is audited without touching this file; a route with parameters needs an
example URL in ``EXAMPLES`` (a test fails until it has one). axe is the npm package's
``axe.min.js``, vendored under tests/e2e/vendor/axe-core (version, hash and MPL-2.0 licence
beside it, refreshed by services/frontend/web/build.mjs). It is evaluated through the DevTools
protocol, which a page's CSP does not govern: the storefront's CSP is not loosened for it.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import make_shop
from tests.support.shop import Shop

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
# Example URLs for page routes with parameters, by endpoint.
EXAMPLES = {
    "shop.product": "/products/LNT-005",
    "orders.show": "/orders/{order_id}",
}
# Pages that are not routes of their own.
EXTRA_PAGES = {"error (404)": "/no-such-page"}
NOT_PAGES = frozenset({"/healthz", "/readyz", "/metrics"})
# Known violations on pages this suite does not own: (page, viewport) -> reason. Strict, so the
# test turns red the day they are fixed and the entry must go.
KNOWN: dict[tuple[str, str], str] = {}

# The pipeline page has drawn its first snapshot; an order page that polls (one still queued, or
# waiting for its trace) has shown the status it asked for, or had nothing left to ask. Other
# pages are complete when they load.
LIVE_PAGES_SETTLED = """() => {
  const pipeline = document.querySelector(".pipeline[data-src]");
  const polls = document.querySelector('script[src*="/js/order.js"]');
  const order = document.getElementById("order-live");
  return (!pipeline || !!pipeline.dataset.updated) && (!polls || order.dataset.shown === "true");
}"""

_ROUTES = """
import json
from frontend.app import create_app
from frontend.settings import FrontendSettings
env = {"SECRET_KEY": "route-listing-only-0123456789", "TRACING_MODE": "off", "STATSD_HOST": "none"}
app = create_app(FrontendSettings.from_env(env))
print(json.dumps([
    {"rule": r.rule, "endpoint": r.endpoint, "arguments": sorted(r.arguments)}
    for r in app.url_map.iter_rules() if "GET" in (r.methods or ())
]))
"""


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    arguments: list[str]


@cache
def page_routes() -> list[Route]:
    """The storefront's GET routes that render pages, read from the app in a child process."""
    done = subprocess.run(
        [sys.executable, "-c", _ROUTES], capture_output=True, text=True, timeout=60, check=True
    )
    routes = [Route(**item) for item in json.loads(done.stdout.strip().splitlines()[-1])]
    return [
        r
        for r in routes
        if r.endpoint != "static" and not r.rule.startswith("/api/") and r.rule not in NOT_PAGES
    ]


def pages() -> dict[str, str]:
    """Page name (the endpoint) -> URL template."""
    found = {r.endpoint: EXAMPLES.get(r.endpoint, r.rule) for r in page_routes()}
    return {**found, **EXTRA_PAGES}


def _cases() -> Iterator[Any]:
    for name, url in pages().items():
        for viewport in VIEWPORTS:
            marks = []
            if (name, viewport) in KNOWN:
                marks.append(pytest.mark.xfail(reason=KNOWN[name, viewport], strict=True))
            yield pytest.param(name, url, viewport, id=f"{name}-{viewport}", marks=marks)


@dataclass
class Visitor:
    """A stack, and a browser session that has placed an order and has a cart again."""

    shop: Shop
    base: str
    storage: Any
    order_id: str


@pytest.fixture(scope="module")
def visitor(moto_port: int, browser: Browser) -> Iterator[Visitor]:
    shop = make_shop(
        moto_port,
        services=("producer", "consumer", "frontend"),
        per_service_env={"frontend": {"SECRET_KEY": secrets.token_urlsafe(32)}},
    )
    try:
        base = shop.stack.config.url("frontend")
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        order_id = _checkout(page, base)
        expect(page.locator(".status-badge")).to_have_text("Fulfilled", timeout=20_000)
        _add_to_cart(page, base)
        yield Visitor(shop, base, context.storage_state(), order_id)
        context.close()
    finally:
        shop.stack.stop()


def _add_to_cart(page: Page, base: str) -> None:
    page.goto(f"{base}/products/LNT-005")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{base}/cart")


def _checkout(page: Page, base: str) -> str:
    _add_to_cart(page, base)
    page.goto(f"{base}/checkout")
    page.get_by_label("Name").fill("Alan Turing")
    page.get_by_label("Email").fill("alan@example.com")
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/ord_[0-9a-f]{32}$"))
    return page.url.rsplit("/", 1)[-1]


def _audit(page: Page) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    {target}" for target in targets[:10]]
    return "\n".join(lines)


def test_every_page_route_has_an_example_url() -> None:
    missing = [r.rule for r in page_routes() if r.arguments and r.endpoint not in EXAMPLES]
    assert missing == [], f"add an example URL to EXAMPLES for {missing}"
    assert {"shop.home", "shop.view_cart", "checkout.show", "pipeline.show"} <= set(pages())


@pytest.mark.parametrize(("name", "url", "viewport"), list(_cases()))
def test_axe_finds_no_violations(
    visitor: Visitor, browser: Browser, name: str, url: str, viewport: str
) -> None:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        storage_state=visitor.storage,
        locale="en-GB",
    )
    try:
        page = context.new_page()
        response = page.goto(visitor.base + url.format(order_id=visitor.order_id))
        assert response is not None
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self';" in csp, csp
        assert "unsafe" not in csp, csp
        # Live pages fill in after their first poll: audit what the visitor then sees. Their
        # own markers say when, whatever the machine's speed (a network-idle wait is a timing
        # window: a page that polls every second on a busy machine may never look idle).
        page.wait_for_function(LIVE_PAGES_SETTLED, timeout=60_000)
        violations = _audit(page)
    finally:
        context.close()
    assert violations == [], f"{name} at {width}x{height}:\n{_describe(violations)}"
