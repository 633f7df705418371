"""The worker's batch: settle, back off, keep long work hidden, and end on the DLQ when it must.

The ``worker`` fixture hides messages for 30 s and backs off from 2 s; one fake clock drives the
queue, the keeper and the store, so nothing here waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from consumer.fakes import FakeMessages, FakeOrderStore
from consumer.worker import MAX_RETRY_DELAY_SECONDS, VisibilityKeeper, Worker
from lantern.aws import endpoint_down
from lantern.orders import Order
from lantern.telemetry.messaging import NoopMessagingTracer
from tests.support.units import FakeClock

VISIBILITY = 30


def failing_for(work: Any, name: str) -> None:
    """Make the scripted work fail every order placed by ``name``."""

    def during(order: Order) -> None:
        if order.customer.name == name:
            work.failures.append(RuntimeError("out of stock"))

    work.during = during


Attempts = Callable[[int], None]


@pytest.fixture
def attempts(worker: Worker, messages: FakeMessages, clock: FakeClock) -> Attempts:
    """``attempts(n)``: receive and work through the queue n times, each after any backoff."""

    def attempt(count: int) -> None:
        for _ in range(count):
            worker.process_batch(messages.receive(10, 0, VISIBILITY))
            clock.advance(MAX_RETRY_DELAY_SECONDS)

    return attempt


def test_a_batch_deletes_what_settled_and_hides_failures_for_a_backoff(
    messages: FakeMessages, worker: Worker, work: Any, make_order: Callable[..., Order]
) -> None:
    good, bad = make_order("Ada"), make_order("Grace")
    messages.send_order(good)
    bad_id = messages.send_order(bad)
    failing_for(work, "Grace")

    batch = messages.receive(10, 0, VISIBILITY)
    worker.process_batch(batch)

    assert work.done == [good.order_id]
    assert messages.depth("orders") == (0, 1)  # the good one deleted, the bad one hidden
    (bad_handle,) = [m["ReceiptHandle"] for m in batch if m["MessageId"] == bad_id]
    assert messages.visibility_changes[-1] == ((bad_handle,), 2)


@pytest.mark.parametrize(
    ("receives", "delay"), [(1, 2), (2, 4), (3, 8), (8, 256), (9, MAX_RETRY_DELAY_SECONDS)]
)
def test_the_backoff_doubles_per_receive_up_to_a_cap(
    messages: FakeMessages,
    work: Any,
    make_order: Callable[..., Order],
    attempts: Attempts,
    receives: int,
    delay: int,
) -> None:
    messages.max_receive = None  # no DLQ: watch the delay grow
    messages.send_order(make_order("Grace"))
    failing_for(work, "Grace")

    attempts(receives)

    assert messages.visibility_changes[-1][1] == delay


def test_an_order_that_always_fails_ends_on_the_dlq_recorded_as_failed(
    messages: FakeMessages,
    store: FakeOrderStore,
    work: Any,
    make_order: Callable[..., Order],
    attempts: Attempts,
) -> None:
    order = make_order("Grace")
    message_id = messages.send_order(order)
    failing_for(work, "Grace")

    attempts(6)  # five receives, then the redrive policy takes it

    assert messages.dead_letters == [message_id]
    assert messages.depth("orders") == (0, 0)
    assert messages.depth("orders-dlq") == (1, 0)
    assert store.records[order.order_id].status == "failed"


def test_a_lost_delete_means_one_redelivery_and_still_one_fulfilment(
    messages: FakeMessages,
    store: FakeOrderStore,
    worker: Worker,
    work: Any,
    clock: FakeClock,
    make_order: Callable[..., Order],
    processed: Callable[[str], float],
) -> None:
    order = make_order()
    messages.send_order(order)
    messages.failures["delete"] = [endpoint_down()]

    worker.process_batch(messages.receive(10, 0, VISIBILITY))  # fulfilled, not deleted
    clock.advance(VISIBILITY + 1)
    worker.process_batch(messages.receive(10, 0, VISIBILITY))

    assert work.done == [order.order_id] * 2  # the work ran twice...
    assert list(store.records) == [order.order_id]  # ...and the order was recorded once
    assert (processed("fulfilled"), processed("redelivered")) == (1, 1)
    assert messages.depth("orders") == (0, 0)


def test_the_keeper_covers_the_whole_batch_while_it_is_worked_through(
    messages: FakeMessages,
    worker: Worker,
    work: Any,
    clock: FakeClock,
    make_order: Callable[..., Order],
) -> None:
    orders = [make_order(f"Customer {n}") for n in range(3)]
    for order in orders:
        messages.send_order(order)
    depth_when_started: list[tuple[int, int]] = []

    def slow(order: Order) -> None:  # 20 s each: the last one starts 40 s after the receive
        depth_when_started.append(messages.depth("orders"))
        clock.advance(20)
        worker.keeper.sweep()  # what the keeper's thread does every few seconds

    work.during = slow
    worker.process_batch(messages.receive(10, 0, VISIBILITY))

    # None reappeared while waiting its turn (all three are deleted together at the end).
    assert depth_when_started == [(0, 3)] * 3
    assert work.done == [order.order_id for order in orders]
    assert messages.depth("orders") == (0, 0)
    first_extension = messages.visibility_changes[0]
    assert len(first_extension[0]) == 3  # all of the batch, not only the one being worked on
    assert first_extension[1] == VISIBILITY


class TestVisibilityKeeper:
    @pytest.fixture
    def keeper(self, messages: FakeMessages, clock: FakeClock) -> VisibilityKeeper:
        return VisibilityKeeper(messages, VISIBILITY, clock)

    def test_a_message_is_extended_at_a_third_of_its_timeout_and_again_after(
        self, keeper: VisibilityKeeper, messages: FakeMessages, clock: FakeClock
    ) -> None:
        keeper.hold(["h-1"])

        clock.advance(9.9)
        assert keeper.sweep() == []
        clock.advance(0.1)
        assert keeper.sweep() == ["h-1"]
        clock.advance(9.9)
        assert keeper.sweep() == []  # the clock restarted at the extension
        clock.advance(0.1)
        assert keeper.sweep() == ["h-1"]
        assert messages.visibility_changes == [(("h-1",), VISIBILITY)] * 2
        assert keeper.extended == 2

    def test_the_clock_starts_when_the_receive_was_sent_not_when_it_answered(
        self, keeper: VisibilityKeeper, clock: FakeClock
    ) -> None:
        sent_at = clock()
        clock.advance(8)  # a slow receive: SQS started the timeout somewhere in these 8 s
        keeper.hold(["h-1"], since=sent_at)

        clock.advance(2)
        assert keeper.sweep() == ["h-1"]

    def test_an_extension_sqs_refuses_is_logged(
        self, keeper: VisibilityKeeper, clock: FakeClock, log_lines: list[dict[str, Any]]
    ) -> None:
        keeper.hold(["h-gone"])  # no such message in flight: deleted, or received again
        clock.advance(VISIBILITY)

        keeper.sweep()
        (warning,) = [line for line in log_lines if line["event"] == "visibility extension refused"]
        assert warning["count"] == 1

    def test_a_released_message_is_never_extended(
        self, keeper: VisibilityKeeper, messages: FakeMessages, clock: FakeClock
    ) -> None:
        keeper.hold(["h-1", "h-2"])
        keeper.release(["h-1"])
        clock.advance(VISIBILITY)

        assert keeper.sweep() == ["h-2"]

    def test_a_failed_extension_is_logged_and_tried_again_next_sweep(
        self,
        keeper: VisibilityKeeper,
        messages: FakeMessages,
        clock: FakeClock,
        log_lines: list[dict[str, Any]],
    ) -> None:
        keeper.hold(["h-1"])
        clock.advance(VISIBILITY / 3)
        messages.failures["change_visibility"] = [endpoint_down()]

        assert keeper.sweep() == []
        assert keeper.sweep() == ["h-1"]
        (warning,) = [line for line in log_lines if line["event"] == "visibility not extended"]
        assert warning["count"] == 1


def polling_worker(
    messages: FakeMessages, processor: Any, clock: FakeClock, wait_seconds: int
) -> Worker:
    """A worker whose one poller runs on a thread (start()/stop()), as in the service."""
    return Worker(
        messages, processor, NoopMessagingTracer(), queue_name="orders", concurrency=1,
        batch_size=10, wait_seconds=wait_seconds, visibility_seconds=VISIBILITY,
        retry_base_seconds=2, clock=clock,
    )  # fmt: skip


class GatedReceives(FakeMessages):
    """The first receive answers at once; the second waits for ``gate``, as a receive that is
    still on the wire when the process is told to stop."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.entered, self.gate = threading.Event(), threading.Event()
        self._calls = 0

    def receive(self, batch: int, wait: int, visibility: int) -> list[Any]:
        self._calls += 1
        if self._calls == 2:
            self.entered.set()
            self.gate.wait(60)
        return super().receive(batch, wait, visibility)


def test_stop_waits_for_a_receive_on_a_busy_queue_and_hands_its_batch_back(
    processor: Any, clock: FakeClock, make_order: Callable[..., Order]
) -> None:
    """Had the process exited during the second receive, its batch would stay in flight for a
    whole visibility timeout; stop() waits for it and makes it visible again at once."""
    messages = GatedReceives(clock)
    for n in range(12):
        messages.send_order(make_order(f"Customer {n}"))
    worker = polling_worker(messages, processor, clock, wait_seconds=0)
    worker.start()
    assert messages.entered.wait(60), "the second receive never started"
    seen_when_stopped: list[int] = []

    def stop() -> None:
        worker.stop(timeout=60)
        seen_when_stopped.append(len(messages.visibility_changes))

    stopper = threading.Thread(target=stop)
    stopper.start()
    stopper.join(1.0)  # a stop that does not wait for the receive has returned by now
    messages.gate.set()
    stopper.join(60)

    handed_back = [(len(handles), seconds) for handles, seconds in messages.visibility_changes]
    assert handed_back[-1:] == [(2, 0)]
    assert seen_when_stopped == [len(messages.visibility_changes)]  # before stop() returned
    assert messages.depth("orders") == (2, 0)


class RecordedWaits(FakeMessages):
    """Records each receive's wait time; ``enough`` is set after ``count`` receives."""

    def __init__(self, clock: FakeClock, count: int) -> None:
        super().__init__(clock)
        self.waits: list[int] = []
        self.count, self.enough = count, threading.Event()

    def receive(self, batch: int, wait: int, visibility: int) -> list[Any]:
        self.waits.append(wait)
        if len(self.waits) >= self.count:
            self.enough.set()
        return super().receive(batch, wait, visibility)


def test_only_an_empty_answer_leads_to_a_long_poll(
    processor: Any, clock: FakeClock, make_order: Callable[..., Order]
) -> None:
    """After a batch the next receive does not wait (so stop() can wait for it); after an empty
    one the poller long-polls (and an idle consumer is not waited for)."""
    messages = RecordedWaits(clock, count=4)
    for n in range(3):
        messages.send_order(make_order(f"Customer {n}"))
    worker = polling_worker(messages, processor, clock, wait_seconds=20)
    worker.start()
    assert messages.enough.wait(60)
    worker.stop(timeout=60)

    assert messages.waits[:4] == [20, 0, 20, 20]
