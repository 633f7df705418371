"""A checkout started in the browser is ONE trace, frontend -> producer -> SQS -> consumer ->
DynamoDB, proven with the spans every service exports over OTLP to a receiver the test owns."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.receivers import OtlpReceiver, Span
from tests.support.shop import Shop

ORDER_URL = re.compile(r"/orders/(ord_[0-9a-f]{32})$")


def _checkout_in_browser(page: Page, base: str) -> str:
    page.goto(f"{base}/products/LNT-005")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Name").fill("Katherine Johnson")
    page.get_by_label("Email").fill("katherine@example.com")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page).to_have_url(ORDER_URL)
    expect(page.locator(".status-badge")).to_have_text("Fulfilled", timeout=20_000)
    match = ORDER_URL.search(page.url)
    assert match is not None
    return match.group(1)


def _by_id(spans: list[Span]) -> dict[str, Span]:
    return {span.span_id: span for span in spans}


def _ancestors(span: Span, index: dict[str, Span]) -> list[Span]:
    chain = []
    while span.parent_span_id and span.parent_span_id in index:
        span = index[span.parent_span_id]
        chain.append(span)
    return chain


def test_a_browser_checkout_is_one_trace_across_every_service(
    traced_shop: Shop, receiver: OtlpReceiver, page: Page
) -> None:
    order_id = _checkout_in_browser(page, traced_shop.stack.config.url("frontend"))

    def has_the_write(spans: list[Span]) -> bool:
        process = [
            s
            for s in spans
            if s.name.startswith("process ") and s.attributes.get("lantern.order.id") == order_id
        ]
        return bool(process) and any(
            s.name == "DynamoDB.PutItem" and s.parent_span_id == process[0].span_id for s in spans
        )

    spans = receiver.wait_for(has_the_write, timeout=15, what="the order's spans")
    process = next(
        s
        for s in spans
        if s.name.startswith("process ") and s.attributes.get("lantern.order.id") == order_id
    )
    trace = [s for s in spans if s.trace_id == process.trace_id]
    index = _by_id(trace)
    chain = [process, *_ancestors(process, index)]

    # The browser's own spans (frontend-browser) start the trace: test_browser_trace.py follows
    # them; here the chain is read from the storefront's server span down.
    assert {s.service for s in trace} == {"frontend-browser", "frontend", "producer", "consumer"}
    everything = [(s.service, s.kind, s.name) for s in reversed(chain)]
    names = [n for n in everything if n[0] != "frontend-browser"]
    assert everything[: len(everything) - len(names)] == [
        n for n in everything if n[0] == "frontend-browser"
    ], "browser spans above the server's, never below"
    assert names[0] == ("frontend", "SERVER", "POST /checkout"), names
    assert ("producer", "SERVER", "POST /orders") in names
    assert names[-2:] == [
        ("producer", "PRODUCER", f"send {traced_shop.queue_name}"),
        ("consumer", "CONSUMER", f"process {traced_shop.queue_name}"),
    ]
    frontend_client = index[next(s for s in chain if s.name == "POST /orders").parent_span_id or ""]
    assert (frontend_client.service, frontend_client.kind) == ("frontend", "CLIENT")
    writes = [s for s in trace if s.name == "DynamoDB.PutItem" and s.service == "consumer"]
    assert [w.parent_span_id for w in writes] == [process.span_id]
