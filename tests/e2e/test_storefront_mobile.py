"""The storefront on a phone (390x844): what matters is in the first screen; and "Your orders".

Positions are read from the page's own layout (bounding boxes), never from timings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.e2e.browser import Console, screenshot
from tests.support.shop import Shop

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PHONE: ViewportSize = {"width": 390, "height": 844}
ORDER_URL = re.compile(r"/orders/(ord_[0-9a-f]{32})$")


@pytest.fixture
def phone(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-GB"
    )
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    opened.on("console", console.message)
    opened.on("response", console.response)
    opened.on("pageerror", lambda error: console.errors.append(str(error)))
    yield opened
    context.close()


def assert_in_first_screen(page: Page, target: Locator) -> None:
    """The whole of ``target`` is visible without scrolling."""
    expect(target).to_be_visible()
    box = target.bounding_box()
    assert box is not None
    scrolled = page.evaluate("window.scrollY")
    assert scrolled == 0, f"the page scrolled by itself to {scrolled}"
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= PHONE["height"], f"below the fold: {box}"
    assert box["x"] >= 0, f"off the side: {box}"
    assert box["x"] + box["width"] <= PHONE["width"], f"off the side: {box}"


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide"


def test_first_product_and_primary_buttons_are_in_the_first_screen(
    storefront: Shop, phone: Page, console: Console
) -> None:
    base = storefront.stack.config.url("frontend")

    phone.goto(base + "/")
    assert_in_first_screen(phone, phone.locator(".grid .card").first)
    assert_in_first_screen(phone, phone.get_by_role("link", name="Your orders"))
    assert_in_first_screen(phone, phone.get_by_role("link", name=re.compile("^Cart")))
    assert_no_sideways_scroll(phone)
    screenshot(phone, "mobile-01-home")

    phone.goto(base + "/products/LNT-001")
    add = phone.get_by_role("button", name="Add to cart", exact=True)
    assert_in_first_screen(phone, add)
    assert_in_first_screen(phone, phone.get_by_label("Quantity"))
    assert_no_sideways_scroll(phone)
    screenshot(phone, "mobile-02-product")
    add.click()
    expect(phone).to_have_url(re.compile(r"/cart$"))

    phone.goto(base + "/products/LNT-014")
    phone.get_by_label("Quantity").fill("3")
    phone.get_by_role("button", name="Add to cart", exact=True).click()
    expect(phone.locator(".cart-table tbody tr")).to_have_count(2)
    assert_in_first_screen(phone, phone.get_by_role("link", name="Check out"))
    assert_no_sideways_scroll(phone)
    screenshot(phone, "mobile-03-cart")
    assert console.errors == []


def test_the_quantity_limit_is_said_before_and_after_it_is_reached(
    storefront: Shop, phone: Page, console: Console
) -> None:
    base = storefront.stack.config.url("frontend")
    phone.goto(base + "/products/LNT-002")
    quantity = phone.get_by_label("Quantity")
    expect(quantity).to_have_attribute("max", "99")
    quantity.fill("98")
    phone.get_by_role("button", name="Add to cart", exact=True).click()
    expect(phone.get_by_label("Quantity of Paper Moon Lantern")).to_have_attribute("max", "99")

    phone.goto(base + "/products/LNT-002")
    expect(phone.get_by_label("Quantity")).to_have_attribute("max", "1")
    expect(phone.locator("#quantity-hint")).to_contain_text("you can add up to 1 more")
    # A grid card adds one more: that fills the line, and the next one is refused with the reason.
    phone.goto(base + "/")
    for expected in ("Added 1", "one order takes at most 99"):
        phone.get_by_role("button", name="Add Paper Moon Lantern to cart").click()
        expect(phone.get_by_role("status")).to_contain_text(expected)
        phone.goto(base + "/")
    phone.goto(base + "/products/LNT-002")
    expect(phone.get_by_text("the most one order takes")).to_be_visible()
    assert console.errors == []


def test_your_orders_lists_a_placed_order_and_leads_back_to_it(
    storefront: Shop, phone: Page, console: Console
) -> None:
    base = storefront.stack.config.url("frontend")
    phone.goto(base + "/orders")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your orders")
    expect(phone.get_by_text("You have not placed an order from this browser yet")).to_be_visible()

    phone.goto(base + "/products/LNT-007")
    phone.get_by_role("button", name="Add to cart", exact=True).click()
    phone.get_by_role("link", name="Check out").click()
    phone.get_by_label("Name").fill("Ada Lovelace")
    phone.get_by_label("Email").fill("ada@example.com")
    phone.get_by_role("button", name=re.compile("Place order")).click()
    expect(phone).to_have_url(ORDER_URL)
    match = ORDER_URL.search(phone.url)
    assert match is not None
    order_id = match.group(1)
    storefront.wait_fulfilled(order_id)

    phone.get_by_role("link", name="Your orders").click()
    expect(phone).to_have_url(re.compile(r"/orders$"))
    entry = phone.locator(".placed-order").first
    expect(entry).to_contain_text(order_id)
    expect(entry.locator(".placed-status")).to_have_text("Fulfilled")
    assert_in_first_screen(phone, entry)
    assert_no_sideways_scroll(phone)
    screenshot(phone, "mobile-04-your-orders")

    entry.get_by_role("link").click()
    expect(phone).to_have_url(re.compile(re.escape(order_id) + "$"))
    assert console.errors == []
