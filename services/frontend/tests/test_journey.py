"""The order's journey: built from the record and the trace, drawn on the order page, honest
about unknown and failed orders, and still there when no trace store answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from devstack.traces import SpanRecord, TraceReceiver, jaeger_trace
from frontend.journey import TraceSpan, build_journey, spans_from_jaeger
from lantern.orders import Delivery, OrderRecord

ORDER_ID = "ord_" + "d" * 32
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
T0 = 1_700_000_000.0


def record(status: str = "fulfilled", receive_count: int = 1) -> dict[str, Any]:
    delivery = Delivery(
        sent_at=T0 + 0.010,
        first_received_at=T0 + 0.030,
        receive_count=receive_count,
        started_at=T0 + 0.035 + (receive_count - 1),
        worked_at=T0 + 0.045 + (receive_count - 1),
    )
    return {
        "order_id": ORDER_ID,
        "status": status,
        "customer_name": "Ada Lovelace",
        "lines": [{"sku": "LNT-001", "name": "Lantern", "quantity": 1, "unit_price_cents": 4900}],
        "total_cents": 4900,
        "accepted_at": T0,
        "recorded_at": T0 + 0.050 + (receive_count - 1),
        "message_id": "msg-1",
        "trace_id": TRACE_ID,
        "delivery": delivery.to_json(),
    }


def ms(milliseconds: float) -> int:
    return int((T0 + milliseconds / 1000) * 1e9)


def span(
    span_id: int,
    name: str,
    service: str,
    kind: str,
    start_ms: float,
    end_ms: float,
    parent: int | None = None,
    **attributes: Any,
) -> SpanRecord:
    return SpanRecord(
        trace_id=TRACE_ID,
        span_id=f"{span_id:016x}",
        parent_span_id=None if parent is None else f"{parent:016x}",
        name=name,
        kind=kind,
        service=service,
        start_ns=ms(start_ms),
        end_ns=ms(end_ms),
        attributes={k.replace("__", "."): v for k, v in attributes.items()},
    )


def a_trace(attempts: int = 1) -> list[SpanRecord]:
    """A checkout's spans: storefront, producer, send, each consumer attempt, the write."""
    spans = [
        span(1, "POST /checkout", "frontend", "server", -5, 20),
        span(2, "POST /orders", "producer", "server", 0, 12, parent=1),
        span(
            3,
            "send orders",
            "producer",
            "producer",
            2,
            11,
            parent=2,
            messaging__operation__type="send",
        ),
    ]
    for attempt in range(attempts):
        start = 31 + 1000 * attempt
        spans.append(
            span(
                10 + attempt,
                "process orders",
                "consumer",
                "consumer",
                start,
                start + 18,
                parent=3,
                messaging__operation__type="process",
            )
        )
    last = 31 + 1000 * (attempts - 1)
    spans.append(
        span(
            99,
            "DynamoDB.PutItem",
            "consumer",
            "client",
            last + 11,
            last + 17,
            parent=10 + attempts - 1,
        )
    )
    return spans


def trace_spans(spans: list[SpanRecord]) -> list[TraceSpan]:
    return spans_from_jaeger({"data": [jaeger_trace(TRACE_ID, spans)]}, TRACE_ID)


def test_the_record_alone_times_every_hop() -> None:
    journey = build_journey(OrderRecord.from_json(record()))

    assert journey is not None
    hops = {hop.key: hop for hop in journey.hops}
    assert list(hops) == ["accepted", "queued", "picked_up", "processed", "stored"]
    assert {hop.source for hop in journey.hops} == {"record"}
    assert hops["accepted"].seconds == pytest.approx(0.010, abs=1e-5)
    assert hops["queued"].seconds == pytest.approx(0.020, abs=1e-5)
    assert hops["picked_up"].seconds == pytest.approx(0.005, abs=1e-5)
    assert hops["processed"].seconds == pytest.approx(0.010, abs=1e-5)
    assert journey.total_seconds == pytest.approx(0.050, abs=1e-5)
    assert not journey.timed_by_trace


def test_the_trace_times_the_hops_with_its_spans() -> None:
    journey = build_journey(OrderRecord.from_json(record()), trace_spans(a_trace()))

    assert journey is not None
    hops = {hop.key: hop for hop in journey.hops}
    assert list(hops) == ["checkout", "accepted", "queued", "processed", "stored"]
    assert all(hop.source == "trace" for hop in journey.hops)
    assert hops["checkout"].seconds == pytest.approx(0.025, abs=1e-5)
    assert hops["accepted"].seconds == pytest.approx(0.012, abs=1e-5)
    assert "9.0 ms" in hops["accepted"].note  # the send span
    assert hops["queued"].seconds == pytest.approx(0.020, abs=1e-5)  # send end (11) to process (31)
    assert hops["processed"].seconds == pytest.approx(0.011, abs=1e-5)  # process start to the write
    assert hops["stored"].seconds == pytest.approx(0.006, abs=1e-5)
    assert journey.timed_by_trace


def test_retries_and_the_dead_letter_queue_are_hops_of_a_failed_order() -> None:
    failed = OrderRecord.from_json(record("failed", receive_count=5))

    from_record = build_journey(failed)
    from_trace = build_journey(failed, trace_spans(a_trace(attempts=5)))

    for journey in (from_record, from_trace):
        assert journey is not None
        hops = {hop.key: hop for hop in journey.hops}
        assert journey.attempts == 5
        assert "4 failed attempts" in hops["retried"].note
        assert hops["dead_letter"].failed
        assert hops["stored"].title == "Recorded as failed"
    assert from_trace is not None
    retried = next(hop for hop in from_trace.hops if hop.key == "retried")
    assert retried.seconds == pytest.approx(4.0, abs=1e-5)  # first attempt to the last


def test_the_bars_place_every_hop_on_one_scale() -> None:
    journey = build_journey(OrderRecord.from_json(record()), trace_spans(a_trace()))
    assert journey is not None

    bars = journey.bars()

    assert bars[0]["x"] == 0.0
    assert all(0 <= bar["x"] <= 100 for bar in bars)
    assert all(bar["width"] > 0 and bar["x"] + bar["width"] <= 100.01 for bar in bars)
    assert [bar["x"] for bar in bars] == sorted(bar["x"] for bar in bars)


def test_an_answer_for_another_trace_or_junk_gives_no_spans() -> None:
    answer = {"data": [jaeger_trace(TRACE_ID, a_trace())]}
    assert spans_from_jaeger(answer, "ab" * 16) == []
    assert spans_from_jaeger({"data": None}, TRACE_ID) == []
    assert spans_from_jaeger(["nope"], TRACE_ID) == []


# The order page, with a trace store at TRACE_API_URL (make run's receiver, on loopback).


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[TraceReceiver]:
    with TraceReceiver() as running:
        monkeypatch.setenv("TRACE_API_URL", f"{running.url}/api/traces/{{trace_id}}")
        yield running


def hop_times(page: str) -> dict[str, tuple[str, str]]:
    """hop key -> (source, time shown), from the rendered journey."""
    rows = re.findall(
        r'data-hop="(\w+)" data-source="(\w+)">\s*<span class="journey-name">[^<]*</span>\s*'
        r'<span class="journey-time">([^<]*)</span>',
        page,
    )
    return {key: (source, shown) for key, source, shown in rows}


def test_the_page_draws_the_journey_from_the_trace_when_it_is_there(
    receiver: TraceReceiver, make_app: Any, consumer: Any
) -> None:
    receiver.store.add(a_trace())
    consumer.records[ORDER_ID] = record()
    client = make_app(consumer=consumer).test_client()

    page = client.get(f"/orders/{ORDER_ID}").get_data(as_text=True)

    hops = hop_times(page)
    assert hops["accepted"] == ("trace", "12 ms")
    assert hops["queued"] == ("trace", "20 ms")
    assert hops["stored"] == ("trace", "6 ms")
    assert 'data-journey-source="trace"' in page
    assert "order.js" not in page  # nothing left to wait for


def test_without_its_trace_yet_the_record_journey_shows_and_the_page_asks_again(
    receiver: TraceReceiver, make_app: Any, consumer: Any
) -> None:
    consumer.records[ORDER_ID] = record()
    client = make_app(consumer=consumer).test_client()

    page = client.get(f"/orders/{ORDER_ID}").get_data(as_text=True)

    assert hop_times(page)["queued"] == ("record", "20 ms")
    assert 'data-trace-pending="true"' in page
    assert "order.js" in page
    receiver.store.add(a_trace())
    status = client.get(f"/api/orders/{ORDER_ID}").json or {}
    assert status["journey"]["trace_pending"] is False
    assert hop_times(status["html"])["queued"] == ("trace", "20 ms")


def test_a_trace_store_that_does_not_answer_leaves_the_record_journey(
    monkeypatch: pytest.MonkeyPatch, make_app: Any, consumer: Any
) -> None:
    monkeypatch.setenv("TRACE_API_URL", "http://127.0.0.1:9/api/traces/{trace_id}")
    consumer.records[ORDER_ID] = record()
    client = make_app(consumer=consumer).test_client()

    response = client.get(f"/orders/{ORDER_ID}")

    assert response.status_code == 200
    assert hop_times(response.get_data(as_text=True))["processed"] == ("record", "10 ms")


def test_a_made_up_order_id_is_not_found(client: FlaskClient) -> None:
    response = client.get(f"/orders/{ORDER_ID}")

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "There is no order with that number" in page
    assert "Queued" not in page
    assert client.get(f"/api/orders/{ORDER_ID}").status_code == 404


def test_an_order_this_session_placed_is_queued_until_recorded(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["orders"] = [{"id": ORDER_ID, "trace": TRACE_ID, "total": 4900, "items": 1}]

    response = client.get(f"/orders/{ORDER_ID}")

    assert response.status_code == 200
    assert '<span class="status-badge">Queued</span>' in response.get_data(as_text=True)


def test_with_the_consumer_down_an_unknown_id_is_not_called_queued(make_app: Any) -> None:
    client = make_app().test_client()  # the consumer is down

    response = client.get(f"/orders/{ORDER_ID}")

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "cannot tell where this order is" in page
    assert "Queued" not in page


def test_a_failed_order_says_what_happened_and_what_happens_next(
    client: FlaskClient, consumer: Any
) -> None:
    consumer.records[ORDER_ID] = record("failed", receive_count=5)
    with client.session_transaction() as session:
        session["orders"] = [{"id": ORDER_ID, "trace": TRACE_ID, "total": 4900, "items": 1}]

    page = client.get(f"/orders/{ORDER_ID}").get_data(as_text=True)
    status = client.get(f"/api/orders/{ORDER_ID}").json or {}

    assert "Thank you" not in page
    assert "We could not fulfil this order" in page
    assert "tried 5 times" in page
    assert "What happens next" in page
    assert "redrive" in page
    assert "dead_letter" in hop_times(page)
    assert status["heading"] == "We could not fulfil this order"
    assert json.dumps(status)  # the whole answer is JSON


def test_a_trace_with_only_the_consumer_spans_yet_is_still_awaited(
    receiver: TraceReceiver, make_app: Any, consumer: Any
) -> None:
    receiver.store.add([s for s in a_trace() if s.service == "consumer"])
    consumer.records[ORDER_ID] = record()
    client = make_app(consumer=consumer).test_client()

    status = client.get(f"/api/orders/{ORDER_ID}").json or {}

    assert status["journey"]["trace_pending"] is True
    assert hop_times(status["html"])["stored"] == ("trace", "6 ms")
