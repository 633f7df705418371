"""The trace starts in the browser: the storefront's web bundle records the checkout page's load
and the click on "Place order", and the server spans of that checkout are their descendants,
down to the consumer's DynamoDB.PutItem. Also: the committed bundle is what its recipe builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import Console
from tests.support.receivers import OtlpReceiver, Span
from tests.support.shop import Shop

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "services" / "frontend" / "web"
BUNDLE = ROOT / "services" / "frontend" / "src" / "frontend" / "static" / "js" / "otel-web.js"
AXE = ROOT / "tests" / "e2e" / "vendor" / "axe-core"
# The files build.mjs digests into the bundle's header, in its order.
INPUTS = ("package.json", "package-lock.json", "build.mjs", "src/otel-web.js")
ORDER_URL = re.compile(r"/orders/(ord_[0-9a-f]{32})$")
BROWSER = "frontend-browser"

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _checkout(page: Page, base: str) -> str:
    page.goto(f"{base}/products/LNT-005")
    page.get_by_role("button", name="Add to cart").click()
    page.goto(f"{base}/checkout")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(ORDER_URL)
    match = ORDER_URL.search(page.url)
    assert match is not None
    return match.group(1)


def _ancestors(span: Span, index: dict[str, Span]) -> list[Span]:
    chain = []
    while span.parent_span_id and span.parent_span_id in index:
        span = index[span.parent_span_id]
        chain.append(span)
    return chain


def _browser_rooted_write(order_id: str) -> Callable[[list[Span]], bool]:
    def ready(spans: list[Span]) -> bool:
        process = [s for s in spans if s.attributes.get("lantern.order.id") == order_id]
        trace_ids = {s.trace_id for s in process}
        return any(s.name == "DynamoDB.PutItem" and s.trace_id in trace_ids for s in spans) and any(
            s.service == BROWSER and s.trace_id in trace_ids for s in spans
        )

    return ready


def test_the_checkout_trace_starts_with_the_browsers_click(
    traced_shop: Shop, receiver: OtlpReceiver, page: Page, console: Console
) -> None:
    order_id = _checkout(page, traced_shop.stack.config.url("frontend"))

    spans = receiver.wait_for(_browser_rooted_write(order_id), timeout=20, what="the trace")
    server = next(
        s
        for s in spans
        if (s.service, s.kind, s.name) == ("frontend", "SERVER", "POST /checkout")
        and s.attributes.get("lantern.order.id") == order_id
    )
    trace = [s for s in spans if s.trace_id == server.trace_id]
    index = {s.span_id: s for s in trace}
    write = next(s for s in trace if s.name == "DynamoDB.PutItem" and s.service == "consumer")
    chain = [(s.service, s.kind, s.name) for s in reversed([write, *_ancestors(write, index)])]

    assert chain[:3] == [
        (BROWSER, "INTERNAL", "document load"),
        (BROWSER, "CLIENT", "submit /checkout"),
        ("frontend", "SERVER", "POST /checkout"),
    ], chain
    assert ("producer", "SERVER", "POST /orders") in chain
    assert chain[-3:] == [
        ("producer", "PRODUCER", f"send {traced_shop.queue_name}"),
        ("consumer", "CONSUMER", f"process {traced_shop.queue_name}"),
        ("consumer", "CLIENT", "DynamoDB.PutItem"),
    ], chain
    page_load = next(s for s in trace if s.name == "document load")
    assert page_load.parent_span_id is None
    assert page_load.attributes["url.path"] == "/checkout"
    assert "domInteractive" in page_load.events
    # The browser never spoke to anything but the storefront, and the CSP was never violated.
    assert console.errors == []


def test_every_page_view_is_a_browser_span_of_its_own_trace(
    traced_shop: Shop, receiver: OtlpReceiver, page: Page, console: Console
) -> None:
    base = traced_shop.stack.config.url("frontend")
    page.goto(f"{base}/")
    page.goto(f"{base}/pipeline")
    page.goto(f"{base}/")  # leaving /pipeline sends its span

    def both(spans: list[Span]) -> bool:
        paths = {s.attributes.get("url.path") for s in spans if s.name == "document load"}
        return {"/", "/pipeline"} <= paths

    spans = receiver.wait_for(both, timeout=10, what="the page views")
    loads = [s for s in spans if s.service == BROWSER and s.name == "document load"]
    assert len({s.trace_id for s in loads}) == len(loads)
    assert console.errors == []


# ------------------------------------------------------------------------ the bundle's recipe


def _header() -> dict[str, str]:
    text = BUNDLE.read_bytes().split(b"\n */\n", 1)[0].decode()
    fields = {}
    for line in text.splitlines()[1:]:
        name, _, value = line.removeprefix(" * ").partition(": ")
        fields[name] = value
    return fields


def test_the_committed_bundle_matches_its_recorded_inputs_and_versions() -> None:
    header = _header()
    head, body = BUNDLE.read_bytes().split(b"\n */\n", 1)
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(f"{name}\n".encode() + (WEB / name).read_bytes() + b"\n")
    lock = json.loads((WEB / "package-lock.json").read_text())["packages"]
    bundled = {}
    for item in header["bundled"].split(", "):
        match = re.fullmatch(r"(.+)@([^@ ]+) \(.+\)", item)
        assert match is not None, item
        bundled[match.group(1)] = match.group(2)

    assert header["body-sha256"] == hashlib.sha256(body).hexdigest(), "bundle edited by hand"
    assert header["inputs-sha256"] == digest.hexdigest(), "recipe changed: run npm run build"
    assert all(lock[f"node_modules/{name}"]["version"] == v for name, v in bundled.items())
    assert f"esbuild@{lock['node_modules/esbuild']['version']}" in head.decode()
    assert len(BUNDLE.read_bytes()) < 80_000, "keep the browser bundle small"


def test_the_vendored_axe_core_is_the_pinned_package() -> None:
    version, sha = (AXE / "VERSION").read_text().splitlines()
    lock = json.loads((WEB / "package-lock.json").read_text())["packages"]

    assert version == f"axe-core@{lock['node_modules/axe-core']['version']} (MPL-2.0)"
    assert (
        sha == f"axe.min.js sha256 {hashlib.sha256((AXE / 'axe.min.js').read_bytes()).hexdigest()}"
    )
    assert "Mozilla Public License" in (AXE / "LICENSE").read_text()


@pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("node") is None,
    reason="node/npm not installed: the recorded header is checked instead",
)
def test_the_recipe_rebuilds_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    work = tmp_path / "web"
    work.mkdir()
    for name in (*INPUTS, ".npmrc"):
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(WEB / name, work / name)
    env = {**os.environ, "npm_config_update_notifier": "false"}
    for command in (["npm", "ci", "--ignore-scripts"], ["node", "build.mjs", "--out", "out"]):
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"

    assert (work / "out" / "otel-web.js").read_bytes() == BUNDLE.read_bytes()
    for name in ("axe.min.js", "LICENSE", "VERSION"):
        assert (work / "out" / "axe-core" / name).read_bytes() == (AXE / name).read_bytes()
