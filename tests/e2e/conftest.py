"""A real headless Chromium (the Debian package) driven by Playwright, and a shop with a frontend.

Chromium is not optional: without it these tests fail with a message saying how to install it
(CI installs it), rather than skipping and letting a broken storefront pass.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, TRACE_UI, Console
from tests.support.receivers import OtlpReceiver
from tests.support.shop import Shop


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"headless Chromium not found at {CHROMIUM}: install the Debian package "
            "(apt-get install chromium) or set CHROMIUM_PATH",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    opened.on("console", console.message)
    opened.on("response", console.response)
    opened.on("pageerror", lambda error: console.errors.append(str(error)))
    yield opened
    context.close()


@pytest.fixture
def storefront(shop_factory: Callable[..., Shop]) -> Shop:
    """Producer, consumer and frontend on free ports, with a trace UI link template."""
    return shop_factory(
        services=("producer", "consumer", "frontend"),
        per_service_env={
            "frontend": {"SECRET_KEY": secrets.token_urlsafe(32), "TRACE_UI_URL": TRACE_UI}
        },
    )


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP receiver for the test's spans."""
    with OtlpReceiver() as otlp:
        yield otlp


@pytest.fixture
def traced_shop(shop_factory: Callable[..., Shop], receiver: OtlpReceiver) -> Iterator[Shop]:
    """Producer, consumer and frontend sending their spans to ``receiver``. Stopped here, while
    the receiver still answers: stopped after it, each service's exporter would retry its last
    spans against a closed port for seconds before giving up."""
    shop = shop_factory(
        services=("producer", "consumer", "frontend"),
        env=receiver.env(),
        per_service_env={"frontend": {"SECRET_KEY": secrets.token_urlsafe(32)}},
    )
    yield shop
    shop.stack.stop()
