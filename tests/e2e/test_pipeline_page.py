"""The pipeline page in Chromium at a laptop's, a phone's and a projector's size."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import Console, screenshot
from tests.support.shop import Shop

FRESH = re.compile(r"^read (\d+ ms|\d+(\.\d)? s|\d+(\.\d)? min) ago$")


def open_pipeline(page: Page, shop: Shop, size: tuple[int, int], query: str = "") -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(shop.stack.config.url("frontend") + "/pipeline" + query)
    expect(page.locator(".pipeline")).to_have_attribute("data-updated", re.compile(r"\d"))
    expect(page.locator("#queue-chart path.series-queue")).to_have_count(1, timeout=10_000)


def chart_width(page: Page) -> float:
    box = page.locator("#rate-chart").bounding_box()
    assert box is not None
    return float(box["width"])


def axis_font_px(page: Page) -> float:
    size = page.locator("#rate-chart text.axis").first.evaluate(
        "(el) => getComputedStyle(el).fontSize"
    )
    return float(str(size).removesuffix("px"))


def assert_every_figure_has_its_age(page: Page) -> None:
    labels = page.locator("[data-fresh]")
    expect(labels).to_have_count(8)
    for text in labels.all_inner_texts():
        assert FRESH.match(text), text


def test_the_pipeline_page_at_laptop_phone_and_projector_sizes(
    storefront: Shop, page: Page, console: Console
) -> None:
    storefront.wait_fulfilled(storefront.place())

    open_pipeline(page, storefront, (1280, 800))
    expect(page.locator('[data-field="done_total"]')).to_have_text("1")
    expect(page.locator('[data-field="accepted_total"]')).to_have_text("1")
    assert_every_figure_has_its_age(page)
    laptop_width, laptop_font = chart_width(page), axis_font_px(page)
    assert laptop_font >= 14
    screenshot(page, "pipeline-1280")

    open_pipeline(page, storefront, (390, 844))
    assert_every_figure_has_its_age(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of horizontal scroll on a phone"
    screenshot(page, "pipeline-390")

    open_pipeline(page, storefront, (1920, 1080), "?present=1")
    expect(page.locator(".pipeline")).to_have_class(re.compile(r"\bis-present\b"))
    assert_every_figure_has_its_age(page)
    assert chart_width(page) > laptop_width
    assert axis_font_px(page) >= 16
    # The chart is drawn at its own pixel size, so its text is the size CSS says.
    view_box = page.locator("#rate-chart").get_attribute("viewBox") or ""
    assert abs(float(view_box.split()[2]) - chart_width(page)) <= 1
    screenshot(page, "pipeline-1920-present")

    page.get_by_role("link", name="Normal view").click()
    expect(page.locator(".pipeline")).not_to_have_class(re.compile(r"\bis-present\b"))
    assert console.errors == []  # no script error, no CSP violation, no failed asset
