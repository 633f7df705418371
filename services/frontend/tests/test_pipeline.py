"""The pipeline page: numbers read from the services' own metrics and recent-orders list."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from frontend import pipeline
from frontend.history import PipelineHistory
from frontend.security import CONTENT_SECURITY_POLICY
from tests.support.units import FakeClock

NOW = 1_800_000_000.0

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
# HELP sqs_queue_read_timestamp_seconds When the sqs_queue_messages reading was taken.
# TYPE sqs_queue_read_timestamp_seconds gauge
sqs_queue_read_timestamp_seconds{queue="orders"} 1799999999.25
sqs_queue_read_timestamp_seconds{queue="orders-dlq"} 1799999999.5
# HELP orders_set_aside_total Orders failed for good.
# TYPE orders_set_aside_total counter
orders_set_aside_total 1.0
# HELP orders_awaiting_dlq Orders set aside that the DLQ does not show yet.
# TYPE orders_awaiting_dlq gauge
orders_awaiting_dlq 1.0
# HELP order_message_age_seconds Age of an order message when processing starts.
# TYPE order_message_age_seconds histogram
order_message_age_seconds_bucket{le="0.1"} 30.0
order_message_age_seconds_bucket{le="1.0"} 42.0
order_message_age_seconds_bucket{le="+Inf"} 43.0
order_message_age_seconds_count 43.0
order_message_age_seconds_sum 12.5
"""
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
RECENT: list[dict[str, Any]] = [
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
        clock=FakeClock(NOW),
    )

    assert snap["producer"] == {"up": True, "accepted": 42.0, "rejected": 3.0, "read_at": NOW}
    assert snap["consumer"]["done"] == 41.0  # 40 fulfilled + 1 set aside: orders
    assert snap["consumer"]["attempts_failed"] == 1.0
    assert snap["consumer"]["in_flight"] == 3.0
    assert snap["consumer"]["read_at"] == NOW
    assert snap["queue"] == {"visible": 7.0, "in_flight": 3.0, "read_at": NOW - 0.75}
    assert snap["dlq"] == {
        "visible": 1.0,
        "in_flight": 0.0,
        "read_at": NOW - 0.5,
        "awaiting": 1.0,
        "total": 2.0,
    }
    assert snap["recent_at"] == NOW
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
    assert '<span data-field="done_total">41</span>' in page
    assert '<span data-field="queue_visible">7</span>' in page
    assert '<span data-field="dlq_total">2</span>' in page
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


def consumer_metrics(*, fulfilled: int, failed: int, set_aside: int, awaiting: int) -> str:
    return f"""\
# TYPE orders_processed_total counter
orders_processed_total{{outcome="fulfilled"}} {fulfilled}.0
orders_processed_total{{outcome="failed"}} {failed}.0
orders_processed_total{{outcome="redelivered"}} 0.0
# TYPE orders_set_aside_total counter
orders_set_aside_total {set_aside}.0
# TYPE orders_awaiting_dlq gauge
orders_awaiting_dlq {awaiting}.0
# TYPE sqs_queue_messages gauge
sqs_queue_messages{{queue="orders",state="visible"}} 0.0
sqs_queue_messages{{queue="orders",state="in_flight"}} 1.0
sqs_queue_messages{{queue="orders-dlq",state="visible"}} 0.0
sqs_queue_messages{{queue="orders-dlq",state="in_flight"}} 0.0
"""


def test_one_order_failing_five_times_is_one_order_failed_for_good_and_five_failed_attempts(
    producer: Any, consumer: Any
) -> None:
    producer.metrics = "# TYPE orders_accepted_total counter\norders_accepted_total 1.0\n"
    consumer.metrics = consumer_metrics(fulfilled=0, failed=5, set_aside=1, awaiting=1)

    snap = pipeline.snapshot(
        producer, consumer, queue="orders", dlq="orders-dlq", trace_template=None
    )

    assert snap["consumer"]["done"] == 1.0
    assert snap["consumer"]["done"] <= snap["producer"]["accepted"]
    assert snap["consumer"]["set_aside"] == 1.0
    assert snap["consumer"]["attempts_failed"] == 5.0
    assert snap["consumer"]["retried"] == 4.0
    # Its page says "set aside"; SQS has not moved the message yet: the tile counts it anyway.
    assert snap["dlq"]["visible"] == 0.0
    assert snap["dlq"]["total"] == 1.0


def test_an_unwatched_reading_leaves_the_consumers_recent_list_and_sqs_alone(
    producer: Any, consumer: Any
) -> None:
    feed(producer, consumer)
    asked: list[str] = []

    def recent() -> list[dict[str, Any]]:
        asked.append("recent")
        return RECENT

    consumer.recent = recent

    snap = pipeline.snapshot(
        producer, consumer, queue="orders", dlq="orders-dlq", trace_template=None, watched=False
    )

    assert asked == []
    assert snap["recent"] == []
    assert snap["recent_at"] is None
    assert snap["queue"]["visible"] == 7.0  # the consumer's last reading, with its age


class Readings:
    """A read function for the history: counts calls and says whether each was watched."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.accepted = clock, 0.0
        self.calls: list[bool] = []

    def __call__(self, watched: bool) -> dict[str, Any]:
        self.calls.append(watched)
        self.accepted += 1
        return {
            "at": self.clock(),
            "producer": {"accepted": self.accepted},
            "consumer": {"done": self.accepted - 1},
            "queue": {"visible": 3.0},
            "dlq": {"total": 1.0},
        }


def history(clock: FakeClock) -> tuple[PipelineHistory, Readings]:
    readings = Readings(clock)
    return PipelineHistory(readings, clock=clock), readings


def test_viewers_share_one_reading_each_half_second() -> None:
    clock = FakeClock(NOW)
    ring, readings = history(clock)

    for _ in range(20):
        ring.current()
        clock.advance(0.02)
    clock.advance(0.2)
    ring.current()

    assert readings.calls == [True, True]  # 20 viewers in 0.4 s, then one more at 0.6 s


def test_the_background_keeps_history_at_the_idle_pace_and_watches_only_after_a_viewer() -> None:
    clock = FakeClock(NOW)
    ring, readings = history(clock)

    assert ring.tick() == 2.0
    clock.advance(1.0)
    assert ring.tick() == 1.0  # not due yet: no reading
    clock.advance(1.0)
    ring.tick()
    ring.current()
    clock.advance(2.0)
    ring.tick()
    clock.advance(20.0)
    ring.tick()

    assert readings.calls == [False, False, True, False]  # watched for 10 s after a viewer
    assert [p[0] for p in ring.points()] == [NOW, NOW + 2, NOW + 4, NOW + 24]


def test_the_ring_keeps_ten_minutes_and_serves_what_came_after_since() -> None:
    clock = FakeClock(NOW)
    ring, _ = history(clock)

    for _ in range(400):  # 800 s at the idle pace
        ring.tick()
        clock.advance(2.0)

    times = [p[0] or 0.0 for p in ring.points()]
    assert times[-1] - times[0] <= 600.0
    assert len(times) == 301
    assert ring.points()[-1] == [times[-1], 400.0, 399.0, 3.0, 1.0]
    assert [p[0] for p in ring.points(since=times[-3])] == times[-2:]


def test_a_reload_gets_the_same_history_as_the_first_view(client: FlaskClient) -> None:
    first = client.get("/api/pipeline").get_json()
    again = client.get("/api/pipeline").get_json()

    assert again["history"][: len(first["history"])] == first["history"]
    assert again["now"] >= again["at"]


def test_presenter_mode_is_a_class_and_a_link_under_the_same_policy(
    client: FlaskClient, producer: Any, consumer: Any
) -> None:
    feed(producer, consumer)

    normal = client.get("/pipeline")
    present = client.get("/pipeline?present=1")

    assert 'class="pipeline is-present"' in present.get_data(as_text=True)
    assert 'href="/pipeline?present=1"' in normal.get_data(as_text=True)
    for response in (normal, present):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
        assert " style=" not in html
        assert "<style" not in html


def test_every_figure_says_how_old_it_is(client: FlaskClient, producer: Any, consumer: Any) -> None:
    feed(producer, consumer)

    page = client.get("/pipeline").get_data(as_text=True)

    sources = re.findall(r'data-fresh="([a-z]+)" data-read-at="([0-9.]+)"', page)
    assert {name for name, _ in sources} == {"producer", "consumer", "queue", "dlq", "recent"}
    queue_read_at = dict(sources)["queue"]
    assert float(queue_read_at) == 1799999999.25  # the consumer's own time of the SQS reading
    assert page.count('class="fresh"') == 8  # one per tile, one for the recent list
