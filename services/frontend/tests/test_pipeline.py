"""The pipeline page: numbers read from the services' own metrics and recent-orders list."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from frontend import pipeline

PRODUCER_METRICS = """\
# HELP orders_accepted_total Orders validated and enqueued to SQS.
# TYPE orders_accepted_total counter
orders_accepted_total 42.0
# HELP orders_rejected_total Orders refused.
# TYPE orders_rejected_total counter
orders_rejected_total{reason="invalid_email"} 2.0
orders_rejected_total{reason="queue_unavailable"} 1.0
"""
CONSUMER_METRICS = """\
# HELP orders_processed_total Order messages handled, by outcome.
# TYPE orders_processed_total counter
orders_processed_total{outcome="fulfilled"} 40.0
orders_processed_total{outcome="failed"} 1.0
orders_processed_total{outcome="redelivered"} 2.0
# HELP orders_in_flight Order messages being processed right now.
# TYPE orders_in_flight gauge
orders_in_flight 3.0
# HELP sqs_queue_messages Approximate number of messages in a queue.
# TYPE sqs_queue_messages gauge
sqs_queue_messages{queue="orders",state="visible"} 7.0
sqs_queue_messages{queue="orders",state="in_flight"} 3.0
sqs_queue_messages{queue="orders-dlq",state="visible"} 1.0
sqs_queue_messages{queue="orders-dlq",state="in_flight"} 0.0
# HELP order_message_age_seconds Age of an order message when processing starts.
# TYPE order_message_age_seconds histogram
order_message_age_seconds_bucket{le="0.1"} 30.0
order_message_age_seconds_bucket{le="1.0"} 42.0
order_message_age_seconds_bucket{le="+Inf"} 43.0
order_message_age_seconds_count 43.0
order_message_age_seconds_sum 12.5
"""
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
RECENT = [
    {
        "order_id": "ord_" + "d" * 32,
        "outcome": "fulfilled",
        "trace_id": TRACE_ID,
        "processed_at": 1_700_000_000.0,
        "duration_ms": 12.5,
    },
    {"order_id": None, "outcome": "failed", "trace_id": None, "processed_at": 1_700_000_001.0},
]


def feed(producer: Any, consumer: Any) -> None:
    producer.metrics = PRODUCER_METRICS
    consumer.metrics = CONSUMER_METRICS
    consumer.recent_items = RECENT


def test_a_snapshot_reads_counters_queues_age_and_recent_orders(
    producer: Any, consumer: Any
) -> None:
    feed(producer, consumer)

    snap = pipeline.snapshot(
        producer,
        consumer,
        queue="orders",
        dlq="orders-dlq",
        trace_template="http://jaeger/trace/{trace_id}",
    )

    assert snap["producer"] == {"up": True, "accepted": 42.0, "rejected": 3.0}
    assert snap["consumer"]["processed"] == 43.0
    assert snap["consumer"]["failed"] == 1.0
    assert snap["consumer"]["in_flight"] == 3.0
    assert snap["queue"] == {"visible": 7.0, "in_flight": 3.0}
    assert snap["dlq"] == {"visible": 1.0, "in_flight": 0.0}
    assert snap["age"] == {
        "count": 43.0,
        "sum": 12.5,
        "buckets": [[0.1, 30.0], [1.0, 42.0], [None, 43.0]],
    }
    assert snap["recent"][0]["trace_url"] == f"http://jaeger/trace/{TRACE_ID}"
    assert snap["recent"][1]["order_ref"] is None
    assert snap["recent"][1]["trace_url"] is None


def test_services_that_are_down_read_as_down(make_app: Any) -> None:
    client = make_app().test_client()  # both URLs point at a closed port

    snap = client.get("/api/pipeline").json
    assert snap["producer"]["up"] is False
    assert snap["consumer"]["up"] is False
    assert snap["queue"] is None
    assert snap["recent"] == []
    page = client.get("/pipeline")
    assert page.status_code == 200
    assert "not answering" in page.get_data(as_text=True)


def test_the_page_renders_the_current_numbers_without_javascript(
    client: FlaskClient, producer: Any, consumer: Any
) -> None:
    feed(producer, consumer)

    page = client.get("/pipeline").get_data(as_text=True)

    assert '<span data-field="accepted_total">42</span>' in page
    assert '<span data-field="processed_total">43</span>' in page
    assert '<span data-field="queue_visible">7</span>' in page
    assert '<span data-field="dlq_visible">1</span>' in page
    assert "tile-dlq is-alert" in page
    assert "291 ms" in page  # mean pickup age since start: 12.5 s / 43
    assert "ord_dddddddd…" in page
    assert "/static/js/pipeline.js" in page
    assert "ApproximateAgeOfOldestMessage" in page  # says what it shows instead, honestly


def test_the_public_pipeline_names_orders_by_a_masked_id_and_links_to_none(
    client: Any, producer: Any, consumer: Any
) -> None:
    feed(producer, consumer)
    full_id = "ord_" + "d" * 32  # RECENT[0]'s

    snap = client.get("/api/pipeline").get_data(as_text=True)
    page = client.get("/pipeline").get_data(as_text=True)

    assert full_id not in snap
    assert full_id not in page
    assert "ord_dddddddd…" in page
    assert "/orders/" not in page
