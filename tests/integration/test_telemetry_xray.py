"""X-Ray SDK mode on the wire: segments over UDP to a listener this test owns.

The storefront's outgoing-call subsegment id travels to the producer in the ``X-Amzn-Trace-Id``
header; the producer's ``send`` subsegment id travels in the ``AWSTraceHeader`` message system
attribute; the consumer opens its segment with that trace id and that parent id.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from functools import partial

import pytest

from tests.conftest import ShopFactory
from tests.containers.storefront import Customer
from tests.support.net import http, wait_for
from tests.support.receivers import XrayEntity, XrayListener
from tests.support.shop import Shop

pytestmark = pytest.mark.integration

N_ORDERS = 5


@pytest.fixture
def xray() -> Iterator[XrayListener]:
    with XrayListener() as listener:
        yield listener


def _annotation(entity: XrayEntity, key: str) -> object:
    return entity.doc.get("annotations", {}).get(key)


def _consumer_segment(xray: XrayListener, order_id: str) -> XrayEntity | None:
    found = [s for s in xray.segments("consumer") if _annotation(s, "lantern_order_id") == order_id]
    return found[0] if len(found) == 1 else None


def _send_subsegment(xray: XrayListener, shop: Shop, order_id: str) -> XrayEntity:
    [send] = [
        e
        for e in xray.snapshot()
        if e.name == f"send {shop.queue_name}" and _annotation(e, "lantern_order_id") == order_id
    ]
    return send


def _children(xray: XrayListener, parent: XrayEntity) -> list[XrayEntity]:
    return [e for e in xray.snapshot() if e.parent_id == parent.id and not e.is_segment]


def test_producer_and_consumer_segments_share_the_trace_across_sqs(
    shop_factory: ShopFactory, xray: XrayListener
) -> None:
    shop = shop_factory(env=xray.env())
    orders = [shop.place() for _ in range(N_ORDERS)]
    for order_id in orders:
        shop.wait_fulfilled(order_id)
    consumers = {
        order_id: wait_for(partial(_consumer_segment, xray, order_id), 10, what=order_id)
        for order_id in orders
    }
    shop.stack.stop()
    entities = xray.by_id()
    processed = {
        r["order_id"]: r
        for r in map(json.loads, shop.stack.services["consumer"].lines)
        if r["event"] == "order processed"
    }

    for order_id, consumer in consumers.items():
        send = _send_subsegment(xray, shop, order_id)
        producer = entities[send.parent_id or ""]
        assert producer.is_segment
        assert producer.name == "producer"
        assert producer.doc["http"]["request"]["method"] == "POST"
        assert producer.doc["http"]["response"]["status"] == 202
        # The consumer continues the trace from AWSTraceHeader: same trace, parent = send.
        assert consumer.trace_id == send.trace_id == producer.trace_id
        assert consumer.parent_id == send.id
        assert _annotation(consumer, "lantern_outcome") == "fulfilled"
        sqs = [c.doc["aws"]["operation"] for c in _children(xray, send) if c.name == "sqs"]
        assert "SendMessage" in sqs
        writes = [c.doc["aws"]["operation"] for c in _children(xray, consumer)]
        assert writes == ["PutItem"]
        line = processed[order_id]
        assert line["xray_trace_id"] == consumer.trace_id
        assert line["trace_id"] == consumer.trace_id[2:].replace("-", "")
    assert not xray.errors, xray.errors


def _segment_for(xray: XrayListener, name: str, method: str, path: str) -> XrayEntity | None:
    for segment in xray.segments(name):
        request = segment.doc.get("http", {}).get("request", {})
        if request.get("method") == method and request.get("url", "").endswith(path):
            return segment
    return None


def test_a_storefront_checkout_is_one_xray_trace_down_to_the_consumer(
    shop_factory: ShopFactory, xray: XrayListener
) -> None:
    shop = shop_factory(
        services=("producer", "consumer", "frontend"),
        env=xray.env(),
        per_service_env={"frontend": {"SECRET_KEY": secrets.token_urlsafe(32)}},
    )
    customer = Customer(shop.stack.config.url("frontend"))
    customer.add_to_cart("LNT-005", 1)
    order_id = customer.check_out("Katherine Johnson", "katherine@example.com")
    shop.wait_fulfilled(order_id)
    consumer = wait_for(partial(_consumer_segment, xray, order_id), 10, what=order_id)
    storefront = wait_for(
        partial(_segment_for, xray, "frontend", "POST", "/checkout"), 10, what="the checkout"
    )
    # The pipeline page's poll (it scrapes the services' /metrics) stays untraced end to end.
    assert http("GET", f"{shop.stack.config.url('frontend')}/api/pipeline")[0] == 200
    shop.stack.stop()
    entities = xray.by_id()

    send = _send_subsegment(xray, shop, order_id)
    producer = entities[send.parent_id or ""]
    assert (producer.is_segment, producer.name) == (True, "producer")
    assert producer.trace_id == storefront.trace_id, "the producer started a trace of its own"
    # The producer's parent is the storefront's subsegment for the call: X-Amzn-Trace-Id
    # carried Root, Parent and Sampled.
    [call] = [
        e
        for e in xray.snapshot()
        if e.trace_id == storefront.trace_id
        and not e.is_segment
        and e.doc.get("http", {}).get("request", {}).get("url", "").endswith("/orders")
    ]
    assert call.parent_id == storefront.id
    assert call.doc["namespace"] == "remote"
    assert call.doc["http"]["request"]["method"] == "POST"
    assert call.doc["http"]["response"]["status"] == 202
    assert producer.parent_id == call.id
    # And on through SQS: the consumer's segment continues from the send subsegment.
    assert consumer.trace_id == storefront.trace_id
    assert consumer.parent_id == send.id
    writes = [c for c in _children(xray, consumer) if c.name == "dynamodb"]
    assert [w.doc["aws"]["operation"] for w in writes] == ["PutItem"]
    assert writes[0].trace_id == storefront.trace_id
    urls = [s.doc.get("http", {}).get("request", {}).get("url", "") for s in xray.segments()]
    assert [u for u in urls if u.endswith(("/api/pipeline", "/metrics", "/orders/recent"))] == []
    assert not xray.errors, xray.errors


def test_xray_mode_logs_stay_json_and_probes_are_not_traced(
    shop_factory: ShopFactory, xray: XrayListener
) -> None:
    shop = shop_factory(env=xray.env())
    shop.wait_fulfilled(shop.place())
    wait_for(lambda: xray.segments("consumer"), 10, what="a consumer segment")
    shop.stack.stop()

    urls = [s.doc.get("http", {}).get("request", {}).get("url", "") for s in xray.segments()]
    assert [u for u in urls if u.endswith(("/readyz", "/healthz", "/metrics"))] == []
    for name, process in shop.stack.services.items():
        records = [json.loads(line) for line in process.lines]
        assert all(r["service"] == name for r in records)
        # Background polls run outside any segment on purpose: no warning per AWS call.
        noisy = [r for r in records if r["level"] in ("warning", "error", "critical")]
        assert noisy == [], noisy
