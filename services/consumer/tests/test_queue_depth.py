"""Queue depth read on demand, and orders counted apart from attempts (fake clock, no threads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from consumer.fakes import FakeMessages, FakeOrderStore
from consumer.signals import ConsumerSignals
from consumer.tally import SetAsideCounter
from consumer.worker import MAX_RETRY_DELAY_SECONDS, QueueDepthPoller, Worker
from lantern.orders import Order
from lantern.web import state
from tests.support.units import FakeClock

IDLE, FAST, WATCH = 30.0, 1.0, 10.0


class Depths(FakeMessages):
    """The fake queues, with the DLQ's depth set by hand and every depth call counted."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock, max_receive=5)
        self.calls = 0
        self.dlq_depth: tuple[int, int] | None = None

    def depth(self, name: str) -> tuple[int, int]:
        self.calls += 1
        if name == self.dlq and self.dlq_depth is not None:
            return self.dlq_depth
        return super().depth(name)


@pytest.fixture
def depths(clock: FakeClock) -> Depths:
    return Depths(clock)


@pytest.fixture
def poller(depths: Depths, signals: ConsumerSignals, clock: FakeClock) -> QueueDepthPoller:
    return QueueDepthPoller(
        depths,
        signals,
        ["orders", "orders-dlq"],
        IDLE,
        fast_interval=FAST,
        watch_seconds=WATCH,
        clock=clock,
        wall=clock,
    )


def sample(signals: ConsumerSignals, name: str, **labels: str) -> float | None:
    return signals.registry.get_sample_value(name, labels)


def test_unwatched_it_reads_at_the_idle_pace(poller: QueueDepthPoller, clock: FakeClock) -> None:
    assert poller.due_in() == 0  # never read: at once
    poller.sample()
    assert poller.due_in() == IDLE
    clock.advance(4)
    assert poller.due_in() == IDLE - 4


def test_a_watcher_brings_the_next_reading_forward_to_the_fast_pace(
    poller: QueueDepthPoller, clock: FakeClock
) -> None:
    poller.sample()
    clock.advance(3)

    poller.watch()

    assert poller.due_in() == 0  # the last reading is 3 s old: read now
    poller.sample()
    assert poller.due_in() == FAST


def test_many_viewers_still_mean_one_reading_per_fast_interval(
    poller: QueueDepthPoller, depths: Depths, clock: FakeClock
) -> None:
    poller.sample()
    calls = depths.calls
    for _ in range(50):
        poller.watch()
        clock.advance(0.01)

    assert poller.due_in() == pytest.approx(FAST - 0.5)
    assert depths.calls == calls  # watching alone never calls SQS


def test_watching_lapses_back_to_the_idle_pace(poller: QueueDepthPoller, clock: FakeClock) -> None:
    poller.watch()
    poller.sample()
    clock.advance(WATCH + 0.5)

    assert poller.due_in() == pytest.approx(IDLE - WATCH - 0.5)


def test_a_reading_sets_the_gauges_and_says_when_it_was_taken(
    poller: QueueDepthPoller,
    depths: Depths,
    signals: ConsumerSignals,
    clock: FakeClock,
    make_order: Callable[..., Order],
) -> None:
    depths.send_order(make_order())
    depths.send_order(make_order())
    depths.receive(1, 0, 30)

    poller.sample()
    clock.advance(1.5)

    assert sample(signals, "sqs_queue_messages", queue="orders", state="visible") == 1
    assert sample(signals, "sqs_queue_messages", queue="orders", state="in_flight") == 1
    read_at = sample(signals, "sqs_queue_read_timestamp_seconds", queue="orders")
    assert read_at == clock.now - 1.5
    report = poller.report()
    assert report["orders"]["age_seconds"] == 1.5
    assert report["orders"]["read_at"] == read_at
    assert report["orders-dlq"]["awaiting"] == 0


def test_an_order_set_aside_awaits_the_dlq_until_its_depth_rises(
    poller: QueueDepthPoller, depths: Depths, signals: ConsumerSignals
) -> None:
    poller.sample()  # DLQ empty
    poller.set_aside()
    poller.set_aside()

    assert poller.awaiting_dlq == 2
    assert sample(signals, "orders_set_aside_total") == 2
    assert sample(signals, "orders_awaiting_dlq") == 2

    depths.dlq_depth = (1, 0)  # SQS moved one
    poller.sample()
    assert poller.awaiting_dlq == 1
    depths.dlq_depth = (3, 0)  # more rise than awaited (a poison message too): never below 0
    poller.sample()
    assert poller.awaiting_dlq == 0
    assert sample(signals, "orders_awaiting_dlq") == 0
    assert sample(signals, "orders_set_aside_total") == 2  # a count of orders, kept


class _Store:
    def __init__(self, answer: bool | Exception) -> None:
        self.answer = answer

    def record(self, order: Any, status: str, **details: Any) -> bool:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def get(self, order_id: str) -> None:
        return None

    def check(self) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "answer", "counted"),
    [
        ("failed", True, 1),
        ("fulfilled", True, 0),
        ("failed", False, 0),  # the order was fulfilled meanwhile: not set aside
        ("failed", RuntimeError("store down"), 0),
    ],
)
def test_only_a_written_failed_record_counts_as_set_aside(
    status: str, answer: bool | Exception, counted: int, make_order: Callable[..., Order]
) -> None:
    seen: list[None] = []
    store = SetAsideCounter(_Store(answer), lambda: seen.append(None))

    try:
        store.record(make_order(), status, message_id="m", trace_id=None)
    except RuntimeError:
        pass

    assert len(seen) == counted


def test_one_order_failing_every_attempt_is_one_order_set_aside_and_five_failed_attempts(
    app: Flask,
    messages: FakeMessages,
    store: FakeOrderStore,
    work: Any,
    clock: FakeClock,
    signals: ConsumerSignals,
    make_order: Callable[..., Order],
) -> None:
    order = make_order("Grace")
    messages.send_order(order)
    work.during = lambda o: work.failures.append(RuntimeError("out of stock"))
    (worker,) = [task for task in state(app).background if isinstance(task, Worker)]
    (poller,) = [task for task in state(app).background if isinstance(task, QueueDepthPoller)]
    poller.sample()

    for _ in range(5):
        worker.process_batch(messages.receive(10, 0, 30))
        clock.advance(MAX_RETRY_DELAY_SECONDS)

    assert store.records[order.order_id].status == "failed"  # the order page: set aside
    assert sample(signals, "orders_processed_total", outcome="failed") == 5  # attempts
    assert sample(signals, "orders_set_aside_total") == 1  # orders
    assert sample(signals, "orders_processed_total", outcome="fulfilled") == 0
    assert app.test_client().get("/queues").get_json()["orders-dlq"]["awaiting"] == 1

    messages.receive(10, 0, 30)  # the receive at which SQS moves it
    poller.sample()
    dlq = app.test_client().get("/queues").get_json()["orders-dlq"]
    assert (dlq["visible"], dlq["awaiting"]) == (1, 0)
