"""The storefront in a real browser: browse, fill a cart, check out, watch the order get fulfilled.

Every page visited is saved as a screenshot under test-artifacts/e2e/ for a person to look at.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import TRACE_UI, Console, screenshot
from tests.support.shop import Shop, order_payload

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ORDER_URL = re.compile(r"/orders/(ord_[0-9a-f]{32})$")


def add_from_product_page(page: Page, name: str, quantity: int, shot: str | None = None) -> None:
    page.get_by_role("link", name="Shop", exact=True).click()
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.get_by_label("Quantity").fill(str(quantity))
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.get_by_role("status")).to_contain_text(
        f"Added {quantity} \N{MULTIPLICATION SIGN} {name}"
    )


def checkout_log_line(shop: Shop, order_id: str) -> dict[str, object]:
    for line in reversed(shop.stack.services["frontend"].lines):
        if order_id in line and '"checkout"' in line:
            record: dict[str, object] = json.loads(line)
            return record
    raise AssertionError(f"no checkout log line for {order_id}")


def keep_ordering_until_rates_show(shop: Shop, page: Page, timeout: float = 30.0) -> None:
    """Place orders through the API until the page's live rates are no longer zero."""
    deadline = time.monotonic() + timeout
    rates = page.locator('[data-field="accepted_rate"], [data-field="done_rate"]')
    while not all(text not in ("—", "0.0") for text in rates.all_inner_texts()):
        assert time.monotonic() < deadline, f"rates still {rates.all_inner_texts()}"
        shop.place(order_payload(("LNT-002", 1)))
        page.wait_for_timeout(250)


def test_checkout_in_a_browser_reaches_fulfilled(
    storefront: Shop, page: Page, console: Console
) -> None:
    base = storefront.stack.config.url("frontend")
    started = time.monotonic()

    page.goto(base + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Light for long evenings")
    expect(page.locator(".grid .card")).to_have_count(14)
    screenshot(page, "01-home")

    add_from_product_page(page, "Harbour Storm Lantern", 2, shot="02-product")
    add_from_product_page(page, "Firefly Jar", 1)
    rows = page.locator(".cart-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("[data-cart-total]")).to_have_text("$119.00")  # 2 x 49.00 + 21.00

    page.get_by_label("Quantity of Firefly Jar").fill("3")
    page.get_by_role("button", name="Update Firefly Jar").click()
    expect(page.locator("[data-cart-total]")).to_have_text("$161.00")  # 2 x 49.00 + 3 x 21.00
    expect(page.locator("[data-cart-count]")).to_contain_text("5")
    screenshot(page, "03-cart")

    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.locator("#email-error")).to_contain_text("does not look like an email")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "04-checkout-invalid")

    page.get_by_label("Email").fill("ada@example.com")
    screenshot(page, "05-checkout")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(ORDER_URL)
    match = ORDER_URL.search(page.url)
    assert match is not None
    order_id = match.group(1)

    # The page turns from queued to fulfilled by itself (the script polls the frontend).
    expect(page.locator(".status-badge")).to_have_text("Fulfilled", timeout=20_000)
    expect(page.locator(".customer-name")).to_have_text("Ada Lovelace")
    expect(page.locator(".order-lines tfoot")).to_contain_text("$161.00")
    trace_link = page.locator(".trace-id a")
    trace_id = trace_link.inner_text().split()[0]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id), trace_id
    expect(trace_link).to_have_attribute("href", TRACE_UI.format(trace_id=trace_id))
    expect(page.locator("[data-cart-count]")).to_contain_text("0")
    screenshot(page, "06-order-fulfilled")
    checkout_seconds = time.monotonic() - started

    # One trace: the frontend's checkout span and the consumer's processing share the id.
    record = storefront.order(order_id)
    assert record is not None
    assert record["status"] == "fulfilled"
    assert record["total_cents"] == 16100
    assert record["trace_id"] == trace_id
    assert checkout_log_line(storefront, order_id)["trace_id"] == trace_id

    page.get_by_role("link", name="Pipeline", exact=True).click()
    pipeline = page.locator(".pipeline")
    expect(pipeline).to_have_attribute("data-updated", re.compile(r"\d"))
    expect(page.locator('[data-field="accepted_total"]')).not_to_have_text("0")
    expect(page.locator('[data-field="done_total"]')).not_to_have_text("0")
    expect(page.locator("#recent-body")).to_contain_text(order_id[:12] + "…")  # masked
    expect(page.locator("#rate-chart path.series-accepted")).to_have_count(1, timeout=10_000)
    keep_ordering_until_rates_show(storefront, page)
    screenshot(page, "07-pipeline")

    page.goto(base + "/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that page")
    screenshot(page, "08-not-found")

    assert console.errors == []
    print(f"\ne2e: browser checkout to fulfilled in {checkout_seconds:.1f}s")


def test_small_screens_get_the_same_shop(storefront: Shop, page: Page, console: Console) -> None:
    base = storefront.stack.config.url("frontend")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/")
    screenshot(page, "09-home-mobile")
    page.get_by_role("button", name="Add Paper Moon Lantern to cart").click()
    expect(page.locator("[data-cart-total]")).to_have_text("$18.00")
    screenshot(page, "10-cart-mobile")
    assert console.errors == []


def test_failures_are_friendly_and_keep_the_cart(
    storefront: Shop, page: Page, console: Console
) -> None:
    base = storefront.stack.config.url("frontend")
    storefront.stack.services["consumer"].stop()

    page.goto(base + "/products/LNT-007")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(ORDER_URL)
    expect(page.locator(".status-badge")).to_have_text("Queued")
    expect(page.locator(".status-message")).to_contain_text("not answering")
    screenshot(page, "11-order-consumer-down")

    storefront.stack.services["producer"].stop()
    page.goto(base + "/products/LNT-012")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    with page.expect_response(re.compile(r"/checkout$")) as answer:
        page.get_by_role("button", name=re.compile("Place order")).click()
    assert answer.value.status == 503
    expect(page.get_by_role("alert")).to_contain_text("Ordering is paused, your cart is kept")
    expect(page.get_by_label("Name")).to_have_value("Grace Hopper")
    screenshot(page, "12-checkout-paused")
    page.get_by_role("link", name=re.compile("Cart")).click()
    expect(page.locator(".cart-table tbody tr")).to_have_count(1)

    page.get_by_role("link", name="Pipeline", exact=True).click()
    expect(page.locator('[data-service="producer"]')).to_contain_text("not answering")
    screenshot(page, "13-pipeline-services-down")
    assert console.errors == []
