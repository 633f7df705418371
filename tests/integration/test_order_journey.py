"""A placed order's page shows its journey timed by its own trace, read server-side from make
run's trace receiver (devstack.traces) that every service exported its spans to."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest

from devstack.traces import TraceReceiver, service_env
from frontend.templating import seconds
from tests.conftest import ShopFactory
from tests.support.net import http, wait_for


@pytest.fixture
def receiver() -> Iterator[TraceReceiver]:
    with TraceReceiver() as running:
        yield running


def hop_times(page: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(
        r'data-hop="(\w+)" data-source="(\w+)">\s*<span class="journey-name">[^<]*</span>\s*'
        r'<span class="journey-time">([^<]*)</span>',
        page,
    )
    return {key: (source, shown) for key, source, shown in rows}


def test_an_order_page_shows_per_hop_timings_from_its_trace(
    shop_factory: ShopFactory, receiver: TraceReceiver
) -> None:
    shop = shop_factory(
        services=("producer", "consumer", "frontend"),
        env={**service_env(receiver.url), "OTEL_BSP_SCHEDULE_DELAY": "100"},
        per_service_env={"frontend": {"SECRET_KEY": secrets.token_urlsafe(32)}},
    )
    order_id = shop.place()
    record = shop.wait_fulfilled(order_id)
    page_url = f"{shop.stack.config.url('frontend')}/orders/{order_id}"

    def traced_page() -> str | None:
        status, _, body = http("GET", page_url)
        assert status == 200
        page = body.decode()
        hops = hop_times(page)
        traced = {key for key, (source, _) in hops.items() if source == "trace"}
        return page if {"accepted", "stored"} <= traced else None

    page = wait_for(traced_page, 20, interval=0.3, what="the journey timed by the trace")

    spans = receiver.store.get(record["trace_id"])
    assert spans is not None
    by_name = {span.name: span for span in spans}
    hops = hop_times(page)
    accepted = by_name["POST /orders"]
    assert hops["accepted"] == ("trace", seconds(accepted.duration_ns / 1e9))
    put = by_name["DynamoDB.PutItem"]
    assert hops["stored"] == ("trace", seconds(put.duration_ns / 1e9))
    assert hops["queued"][0] == "trace"
    assert hops["processed"][0] == "trace"
    assert f"{receiver.url}/trace/{record['trace_id']}" in page  # the link to the waterfall
    assert record["delivery"]["receive_count"] == 1
    assert record["delivery"]["first_received_at"] >= record["delivery"]["sent_at"]
    status, _, waterfall = http("GET", f"{receiver.url}/trace/{record['trace_id']}")
    assert status == 200
    assert b"process orders" in waterfall
    shop.stack.stop()  # while the receiver answers: after it, exporters retry for seconds
