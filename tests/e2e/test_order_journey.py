"""The order page shows the order's journey in a real Chromium, on a desktop and a phone: drawn
on the first paint, then timed by the order's trace from make run's receiver (devstack.traces),
with the trace link leading to that receiver's waterfall."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from devstack.traces import TraceReceiver, service_env
from tests.e2e.browser import Console, screenshot
from tests.support.shop import Shop

ORDER_URL = re.compile(r"/orders/(ord_[0-9a-f]{32})$")
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def receiver() -> Iterator[TraceReceiver]:
    with TraceReceiver() as running:
        yield running


@pytest.fixture
def traced_storefront(shop_factory: Callable[..., Shop], receiver: TraceReceiver) -> Iterator[Shop]:
    shop = shop_factory(
        services=("producer", "consumer", "frontend"),
        env={**service_env(receiver.url), "OTEL_BSP_SCHEDULE_DELAY": "100"},
        per_service_env={"frontend": {"SECRET_KEY": secrets.token_urlsafe(32)}},
    )
    yield shop
    shop.stack.stop()  # before the receiver closes: exporters would retry against its port


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_order_page_shows_the_journey_timed_by_its_trace(
    traced_storefront: Shop,
    receiver: TraceReceiver,
    page: Page,
    console: Console,
    viewport: str,
) -> None:
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})
    base = traced_storefront.stack.config.url("frontend")
    page.goto(f"{base}/products/LNT-005")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(ORDER_URL)

    expect(page.locator(".status-badge")).to_have_text("Fulfilled", timeout=20_000)
    journey = page.locator(".journey")
    expect(journey).to_be_visible()
    # The page script asks again until the trace has reached the receiver.
    expect(journey).to_have_attribute("data-journey-source", "trace", timeout=20_000)
    for hop in ("accepted", "queued", "processed", "stored"):
        row = journey.locator(f'[data-hop="{hop}"]')
        expect(row).to_have_attribute("data-source", "trace")
        expect(row.locator(".journey-time")).to_have_text(re.compile(r"^\d+(\.\d)? (ms|s)$"))
        expect(row.locator(".journey-bar")).to_be_visible()
    box = journey.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width  # no sideways scrolling on a phone
    screenshot(page, f"20-order-journey-{viewport}")

    link = journey.get_by_role("link", name="open the full trace")
    href = link.get_attribute("href") or ""
    assert href.startswith(f"{receiver.url}/trace/")
    page.goto(href)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Trace")
    expect(page.locator("body")).to_contain_text("DynamoDB.PutItem")
    assert console.errors == []
