"""The fulfilment worker: long-poll SQS in batches, process, settle.

Each of ``concurrency`` threads polls on its own. Successes are deleted in one batch call;
failures are hidden for an exponential backoff and come back later, until the redrive policy
moves them to the DLQ. A keeper thread extends the visibility of messages still being worked on,
so long work is never handed to a second consumer. ``stop()`` stops polling, lets in-flight work
finish, then returns; it does not wait for a thread that is only waiting in a long poll, so an
idle consumer stops at once instead of after ``wait_seconds``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from opentelemetry.instrumentation.utils import suppress_instrumentation

from consumer.ports import Clock, Message, Messages
from consumer.processing import OrderProcessor, Outcome, receive_count
from consumer.signals import ConsumerSignals
from lantern.logs import get_logger
from lantern.telemetry.messaging import MessagingTracer

log = get_logger("consumer.worker")
AWS_ERRORS = (BotoCoreError, ClientError)
MAX_RETRY_DELAY_SECONDS = 300


class VisibilityKeeper:
    """Extends the visibility timeout of in-flight messages before it runs out.

    A message's clock starts when its receive was *sent* (SQS starts the timeout somewhere
    during the call, and on a busy endpoint a receive can take seconds). It is extended once it
    has been hidden for a third of its timeout; sweeps run every sixth (at most every 5 s), so an
    extension is sent between 1/3 and 1/2 of the timeout, and half of it is left for the calls
    themselves on a slow endpoint (each sweep extends ten messages a call, one call after another).
    """

    def __init__(
        self, messages: Messages, visibility_seconds: int, clock: Clock = time.monotonic
    ) -> None:
        self._messages, self._visibility, self._clock = messages, visibility_seconds, clock
        self._held: dict[str, float] = {}  # receipt handle -> when it was last made invisible
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="visibility-keeper", daemon=True)
        self.extended = 0  # messages extended so far (a message extended twice counts twice)

    def hold(self, handles: list[str], since: float | None = None) -> None:
        """Keep ``handles`` hidden, counting from ``since`` (the receive's start; default now)."""
        started = self._clock() if since is None else since
        with self._lock:
            self._held.update(dict.fromkeys(handles, started))

    def release(self, handles: list[str]) -> None:
        with self._lock:
            for handle in handles:
                self._held.pop(handle, None)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def sweep(self) -> list[str]:
        """One pass: extend every message hidden for a third of its timeout or more; return them."""
        cutoff = self._clock() - self._visibility / 3
        with self._lock:
            due = [handle for handle, since in self._held.items() if since <= cutoff]
        if not due:
            return []
        try:
            refused = self._messages.change_visibility(due, self._visibility)
        except AWS_ERRORS as exc:
            log.warning("visibility not extended", error=str(exc), count=len(due))
            return []
        with self._lock:  # a handle released meanwhile stays released (and its refusal is due)
            now = self._clock()
            still_held = [handle for handle in due if handle in self._held]
            self._held.update(dict.fromkeys(still_held, now))
        lost = set(refused) & set(still_held)
        if lost:  # still being worked on, but SQS let it go (it ran out, and was received again)
            log.warning("visibility extension refused", count=len(lost))
        self.extended += len(due)
        log.debug("visibility extended", count=len(due), seconds=self._visibility)
        return due

    def _run(self) -> None:
        interval = min(max(0.25, self._visibility / 6), 5.0)
        while not self._stop.wait(interval):
            self.sweep()


class Worker:
    def __init__(
        self,
        messages: Messages,
        processor: OrderProcessor,
        messaging: MessagingTracer,
        *,
        queue_name: str,
        concurrency: int,
        batch_size: int,
        wait_seconds: int,
        visibility_seconds: int,
        retry_base_seconds: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._messages, self._processor = messages, processor
        self._messaging, self._queue = messaging, queue_name
        self._concurrency, self._batch, self._wait = concurrency, batch_size, wait_seconds
        self._visibility, self._retry_base = visibility_seconds, retry_base_seconds
        self.keeper = VisibilityKeeper(messages, visibility_seconds, clock)
        self._clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # Batches being worked on. stop() waits for this to reach 0, and a batch only starts
        # while not stopping (both under the condition's lock), so none starts after the wait.
        self._busy = 0
        # Receives that follow a non-empty batch are short polls (no wait: they return at once,
        # with messages on a busy queue), and stop() waits for them too; were the process to
        # exit first, their batch would stay in flight for a whole visibility timeout. Only
        # after an empty answer does a poller long-poll (up to CONSUMER_WAIT_SECONDS), and
        # that is not waited for, so an idle consumer stops at once.
        self._eager_receives = 0
        self._idle = threading.Condition()

    def start(self) -> None:
        if self._threads or self._concurrency == 0:
            return
        self.keeper.start()
        for index in range(self._concurrency):
            thread = threading.Thread(target=self._poll, name=f"poller-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker started", concurrency=self._concurrency, batch_size=self._batch)

    def stop(self, timeout: float) -> None:
        """Stop polling, finish the batches being worked on, and return (at most ``timeout``).

        Threads still waiting in a long poll are not waited for: a batch they receive from now on
        is handed straight back (made visible again), never started.
        """
        with self._idle:
            self._stop.set()
            finished = self._idle.wait_for(
                lambda: self._busy == 0 and self._eager_receives == 0, timeout
            )
            unfinished = self._busy
        self.keeper.stop()
        log.info("worker stopped", drained=finished, unfinished_batches=unfinished)

    def _poll(self) -> None:
        failures = 0
        eager = False  # the last receive brought messages: the next one will not idle
        while not self._stop.is_set():
            if eager and not self._track_eager(+1):
                return
            try:
                sent_at = self._clock()
                batch = self._receive(wait=0 if eager else self._wait)
                failures = 0
            except AWS_ERRORS as exc:
                failures += 1
                if failures == 1 or failures % 30 == 0:
                    log.warning("receive failed", error=str(exc), attempts=failures)
                self._stop.wait(min(5.0, 0.5 * failures))
                batch = []
            else:
                self._work_or_hand_back(batch, sent_at)
            finally:
                if eager:
                    self._track_eager(-1)
            eager = bool(batch)

    def _work_or_hand_back(self, batch: list[Message], sent_at: float) -> None:
        if batch and self._begin():
            try:
                self.process_batch(batch, sent_at)
            finally:
                self._end()
        elif batch:
            self._hand_back(batch)

    def _track_eager(self, delta: int) -> bool:
        """Count an eager receive in (+1: refused once stopping) or out (-1)."""
        with self._idle:
            if delta > 0 and self._stop.is_set():
                return False
            self._eager_receives += delta
            self._idle.notify_all()
            return True

    def _begin(self) -> bool:
        """Count a batch as in flight, unless the worker is stopping."""
        with self._idle:
            if self._stop.is_set():
                return False
            self._busy += 1
            return True

    def _end(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def _hand_back(self, batch: list[Message]) -> None:
        """Make a batch received while stopping visible again, for another consumer now."""
        try:
            self._messages.change_visibility([m["ReceiptHandle"] for m in batch], 0)
        except AWS_ERRORS:
            pass  # they reappear after the visibility timeout instead
        log.info("batch handed back", count=len(batch))

    def _receive(self, wait: int) -> list[Message]:
        """One poll, as a ``receive {queue}`` span (each message then has its own trace)."""
        with self._messaging.receive(self._queue) as span:
            batch = self._messages.receive(self._batch, wait, self._visibility)
            span.set_attribute("messaging.batch.message_count", len(batch))
            return batch

    def process_batch(self, batch: list[Message], received_at: float | None = None) -> None:
        """Work through ``batch``, all of it kept hidden from ``received_at`` (when its receive
        was sent) until it is settled."""
        handles = [m["ReceiptHandle"] for m in batch]
        self.keeper.hold(handles, received_at)
        try:
            results = [(message, self._processor.handle(message)) for message in batch]
            self._settle(results)
        finally:
            self.keeper.release(handles)

    def _settle(self, results: list[tuple[Message, Outcome]]) -> None:
        done = [message for message, outcome in results if outcome.settled]
        retry = [message for message, outcome in results if not outcome.settled]
        try:
            if done:
                with self._messaging.settle(self._queue, done):
                    refused = self._messages.delete(done)
                if refused:
                    log.warning("delete refused", entries=refused)
        except AWS_ERRORS as exc:
            # Not fatal: the messages come back and the conditional write marks them redelivered.
            log.warning("delete failed", error=str(exc), count=len(done))
        for message in retry:
            self._back_off(message)

    def _back_off(self, message: Message) -> None:
        delay = self._retry_base * 2 ** (receive_count(message) - 1)
        try:
            self._messages.change_visibility(
                [message["ReceiptHandle"]], int(min(delay, MAX_RETRY_DELAY_SECONDS))
            )
        except AWS_ERRORS:
            pass  # it reappears after the full visibility timeout instead


@dataclass(frozen=True)
class Depth:
    """One reading of a queue's depth, and when SQS answered it (Unix time)."""

    visible: int
    in_flight: int
    read_at: float


class QueueDepthPoller:
    """Reads the depth of the orders queue and its DLQ, one reader per process for all viewers.

    It reads every ``interval`` seconds, which keeps the ``sqs_queue_messages`` gauge alive, and
    every ``fast_interval`` while somebody watches: :meth:`watch` (the pipeline page's reads
    call it) asks for that pace for the next ``watch_seconds``. However many viewers ask, SQS
    sees at most one reading per ``fast_interval``: ``GetQueueAttributes`` per queue.

    It also keeps the orders set aside (:meth:`set_aside`) that the DLQ does not show yet: SQS
    moves a message only at a receive after its last retry delay, tens of seconds after the order
    page says "set aside". Each rise of the DLQ's depth between two readings is taken as such
    moves. Only this process's orders are counted, and any rise counts, so with several consumer
    processes the figure can run low for a while; it never stays above what is really on its way.
    """

    def __init__(
        self,
        messages: Messages,
        signals: ConsumerSignals,
        queues: list[str],
        interval: float,
        *,
        dlq: str | None = None,
        fast_interval: float = 1.0,
        watch_seconds: float = 10.0,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self._messages, self._signals = messages, signals
        self._queues, self._interval = queues, interval
        self._dlq = dlq if dlq is not None else (queues[-1] if len(queues) > 1 else None)
        self._fast, self._watch_seconds = min(fast_interval, interval), watch_seconds
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._readings: dict[str, Depth] = {}
        self._watched_at = -math.inf
        self._polled_at = -math.inf
        self._awaiting_dlq = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def latest(self) -> dict[str, tuple[int, int]]:
        """(visible, in flight) of each queue read so far."""
        return {name: (d.visible, d.in_flight) for name, d in self.readings().items()}

    def readings(self) -> dict[str, Depth]:
        with self._lock:
            return dict(self._readings)

    @property
    def awaiting_dlq(self) -> int:
        with self._lock:
            return self._awaiting_dlq

    def report(self) -> dict[str, dict[str, float]]:
        """The last reading of each queue as JSON: counts, ``read_at``, ``age_seconds``; the
        DLQ's entry also has ``awaiting`` (set aside, not in it yet)."""
        now = self._wall()
        with self._lock:
            body: dict[str, dict[str, float]] = {
                name: {
                    "visible": d.visible,
                    "in_flight": d.in_flight,
                    "read_at": d.read_at,
                    "age_seconds": max(0.0, now - d.read_at),
                }
                for name, d in self._readings.items()
            }
            if self._dlq in body:
                body[self._dlq]["awaiting"] = self._awaiting_dlq
        return body

    def watch(self) -> None:
        """Somebody looks: read at the fast pace for the next ``watch_seconds`` (and now, when
        the last reading is older than ``fast_interval``)."""
        with self._lock:
            self._watched_at = self._clock()
        self._wake.set()

    def set_aside(self) -> None:
        """An order failed for good; SQS will move its message to the DLQ later."""
        with self._lock:
            self._awaiting_dlq += 1
            awaiting = self._awaiting_dlq
        self._signals.set_aside()
        self._signals.awaiting_dlq(awaiting)

    def due_in(self) -> float:
        """Seconds until the next reading is due (0: now)."""
        with self._lock:
            now = self._clock()
            watched = now - self._watched_at <= self._watch_seconds
            pace = self._fast if watched else self._interval
            return max(0.0, self._polled_at + pace - now)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="queue-depth", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()

    def sample(self) -> None:
        """Read every queue now."""
        with self._lock:
            self._polled_at = self._clock()
        for queue in self._queues:
            # Housekeeping, not a story worth a trace.
            with suppress_instrumentation():
                visible, in_flight = self._messages.depth(queue)
            self._record(queue, Depth(visible, in_flight, self._wall()))

    def _record(self, queue: str, depth: Depth) -> None:
        with self._lock:
            before = self._readings.get(queue)
            self._readings[queue] = depth
            if queue == self._dlq and before is not None:
                rise = (depth.visible + depth.in_flight) - (before.visible + before.in_flight)
                self._awaiting_dlq = max(0, self._awaiting_dlq - max(0, rise))
            awaiting = self._awaiting_dlq
        self._signals.queue_depth(queue, depth.visible, depth.in_flight, depth.read_at)
        if queue == self._dlq:
            self._signals.awaiting_dlq(awaiting)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before due_in(): a watch() from now on ends the wait
            delay = self.due_in()
            if delay > 0:
                self._wake.wait(delay)
                continue
            try:
                self.sample()
            except AWS_ERRORS:
                log.debug("queue depth not sampled", exc_info=True)
