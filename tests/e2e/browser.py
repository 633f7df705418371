"""Helpers for the browser tests: where Chromium is, console capture, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Response

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
TRACE_UI = "http://trace-ui.invalid/trace/{trace_id}"


class Console:
    """What went wrong in the page: script errors, CSP violations, failed assets or API calls.

    Pages themselves may answer 4xx/5xx on purpose (a 404 page, a 422 form); Chromium logs
    those as "Failed to load resource", so documents are judged by the tests, not here.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []

    def message(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} {response.url}")


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page once its images have loaded."""
    page.wait_for_function("Array.from(document.images).every((image) => image.complete)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
