"""Benchmark: orders/s one consumer replica fulfils, per setting, against an endpoint that is
never the ceiling, and the backlog a replica shows KEDA below that rate: the figures KEDA's
``queueLength`` is chosen from (docs/benchmarks.md, "Sizing the consumer for KEDA").

``uv run python -m bench.consumer_capacity`` starts the real consumer service (its gunicorn
process, telemetry as shipped: spans over OTLP to a sink, StatsD on, one INFO log line per
order) against :class:`OrderSupplyStub`, an instant SQS + DynamoDB stand-in with an endless
supply of valid order messages, and reports for each setting the orders/s settled, the model's
``threads / work seconds`` beside it, and the consumer's CPU per order. ``--paced 40`` instead
sends orders at 40/s and reports the visible and in-flight messages KEDA would count.

:func:`capacity` is the importable part (a JSON-able dict for ``make bench``);
:func:`consumer_rate` measures one setting.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import secrets
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from bench.harness import log_dir, names, telemetry_on
from bench.telemetry import AwsStub, OtlpSink, process_tree_cpu_seconds, serve_sink, statsd_sink
from lantern.catalog import load_catalog
from lantern.envelope import encode_order, string_attribute
from lantern.orders import build_order, new_order_id
from tests.support.net import free_port

PAYLOAD = {
    "customer": {"name": "Capacity Shopper", "email": "capacity@example.com"},
    "items": [{"sku": "LNT-001", "quantity": 1}, {"sku": "LNT-006", "quantity": 2}],
}
MAX_RECEIVE_COUNT = 5  # the redrive policy the stub reports (provision's default)

# The consumer's settings as the manifests ship them (tests/unit/test_consumer_capacity.py holds
# these to k8s/base/config.yaml and k8s/components/lab-blog).
DEFAULT = {
    "CONSUMER_CONCURRENCY": "4",
    "CONSUMER_BATCH_SIZE": "10",
    "CONSUMER_WAIT_SECONDS": "20",
    "CONSUMER_VISIBILITY_SECONDS": "30",
    "CONSUMER_WORK_MS": "50",
    "QUEUE_DEPTH_INTERVAL_SECONDS": "10",
}
WORKSHOP = {
    **DEFAULT,
    "CONSUMER_CONCURRENCY": "1",
    "CONSUMER_BATCH_SIZE": "1",
    "CONSUMER_WORK_MS": "5000",
}
# (name, settings, seconds of measuring window): what main() and capacity() measure.
RUNS: tuple[tuple[str, dict[str, str], float], ...] = (
    ("default", DEFAULT, 15.0),
    # Five orders in 25 s: counted settle by settle, the window is long enough to be exact.
    ("workshop", WORKSHOP, 26.0),
    # The workshop's shape at a tenth of the work: the rate follows threads / work time.
    ("workshop, 500 ms", {**WORKSHOP, "CONSUMER_WORK_MS": "500"}, 10.0),
    ("default, 1 thread", {**DEFAULT, "CONSUMER_CONCURRENCY": "1"}, 10.0),
    # No simulated work: what the process itself can do, its CPU ceiling.
    ("CPU ceiling (0 ms)", {**DEFAULT, "CONSUMER_WORK_MS": "0"}, 10.0),
)


# --------------------------------------------------------------------------- the stub


@dataclass
class _Held:
    """A message received and not yet settled."""

    order_id: str
    body: str
    sent_ms: int
    first_received_ms: int
    receive_count: int


@dataclass(frozen=True)
class Tally:
    """What the stub has seen so far (a consistent snapshot)."""

    received: int  # messages handed out by ReceiveMessage (a redelivery counts again)
    deleted: int  # messages settled by DeleteMessageBatch / DeleteMessage
    written: int  # PutItem calls for order records
    distinct_written: int  # order ids written at least once
    stale_deletes: int  # deletes of a handle already deleted, or never handed out
    in_flight: int
    settle_calls: int


class OrderSupply:
    """The state behind the stub: order messages to hand out, and what was done with them.

    ``limit`` None: an endless supply, each message a fresh order with its own id. A message
    handed out stays in flight until deleted or made visible again (``VisibilityTimeout`` 0);
    the stub never times a message out (the consumer's keeper extends long work anyway).
    Thread-safe: the stub serves each request on a thread of its own.
    """

    def __init__(
        self, queue_name: str, limit: int | None = None, rate: float | None = None
    ) -> None:
        self.queue_name, self.limit, self.rate = queue_name, limit, rate
        self._paced_from: float | None = None  # set by pace(): no paced order before
        self._template = build_order(PAYLOAD, load_catalog())
        self._lock = threading.Condition()
        self._made = 0
        self._returned: list[_Held] = []  # made visible again: served before new ones
        self._held: dict[str, _Held] = {}  # receipt handle -> message
        self._written: dict[str, int] = {}  # order id -> PutItem count
        self.made_ids: list[str] = []  # the orders handed out, kept for a limited supply only
        self._received = self._deleted = self._writes = self._stale = 0
        # (monotonic time, messages) of every settle call: the rate is read from these.
        self.settles: list[tuple[float, int]] = []
        self.calls: Counter[str] = Counter()  # operation -> requests, unknown ones included
        self.closed = False

    # ------------------------------------------------------------------ SQS

    def receive(self, count: int, wait: float) -> list[tuple[str, _Held]]:
        """Up to ``count`` messages as (receipt handle, message); waits up to ``wait`` s for
        one when there is none (a long poll)."""
        deadline = time.monotonic() + wait
        with self._lock:
            while not self._visible() and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                # Paced orders arrive without a notify: look again when the next is due.
                self._lock.wait(left if self.rate is None else min(left, 1 / self.rate))
            taken = [self._next() for _ in range(min(count, self._visible()))]
            now_ms = int(time.time() * 1000)
            batch = []
            for message in taken:
                message.receive_count += 1
                message.first_received_ms = message.first_received_ms or now_ms
                handle = secrets.token_urlsafe(24)
                self._held[handle] = message
                batch.append((handle, message))
            self._received += len(batch)
            return batch

    def _visible(self) -> int:
        fresh = math.inf if self.limit is None else self.limit - self._made
        if self.rate is not None:  # orders "sent" at a steady rate since pace()
            since = time.monotonic() - self._paced_from if self._paced_from is not None else 0.0
            fresh = min(fresh, int(since * self.rate) - self._made)
        return int(min(fresh, 1_000_000)) + len(self._returned)

    def _next(self) -> _Held:
        if self._returned:
            return self._returned.pop(0)
        self._made += 1
        order = replace(self._template, order_id=new_order_id(), accepted_at=time.time())
        if self.limit is not None:
            self.made_ids.append(order.order_id)
        return _Held(order.order_id, encode_order(order), int(time.time() * 1000), 0, 0)

    def delete(self, handles: list[str]) -> None:
        with self._lock:
            for handle in handles:
                if self._held.pop(handle, None) is not None:
                    self._deleted += 1
                else:  # SQS answers success for a handle already deleted; we count it
                    self._stale += 1
            self.settles.append((time.monotonic(), len(handles)))

    def change_visibility(self, handle: str, seconds: int) -> bool:
        """False for a handle that is not in flight (SQS refuses it)."""
        with self._lock:
            if handle not in self._held:
                return False
            if seconds == 0:
                self._returned.append(self._held.pop(handle))
                self._lock.notify_all()
            return True

    def pace(self) -> None:
        """Start sending paced orders (``rate``), from none sent yet."""
        with self._lock:
            self._paced_from = time.monotonic() - self._made / (self.rate or 1.0)

    def depth(self) -> tuple[int, int]:
        with self._lock:
            return self._visible(), len(self._held)

    # ------------------------------------------------------------------ DynamoDB

    def write(self, order_id: str) -> None:
        with self._lock:
            self._writes += 1
            self._written[order_id] = self._written.get(order_id, 0) + 1

    def written_ids(self) -> dict[str, int]:
        with self._lock:
            return dict(self._written)

    # ------------------------------------------------------------------ reading

    def count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    def tally(self) -> Tally:
        with self._lock:
            return Tally(
                received=self._received,
                deleted=self._deleted,
                written=self._writes,
                distinct_written=len(self._written),
                stale_deletes=self._stale,
                in_flight=len(self._held),
                settle_calls=len(self.settles),
            )

    def close(self) -> None:
        """Answer every waiting long poll now (empty), and every later one at once."""
        with self._lock:
            self.closed = True
            self._lock.notify_all()


class StubServer(ThreadingHTTPServer):
    supply: OrderSupply


class OrderSupplyStub(AwsStub):
    """Just enough SQS and DynamoDB (JSON protocol) for the consumer, answering instantly:
    the queue :attr:`StubServer.supply` serves and the table that takes its orders. Every other
    queue (the DLQ) is empty."""

    server: StubServer

    def do_POST(self) -> None:
        params = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or "{}")
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        self.supply.count(operation)
        answer = getattr(self, f"_op_{operation}", None)
        if answer is None:
            body = {"__type": "UnknownOperationException", "message": operation}
            self.reply(400, json.dumps(body).encode(), "application/x-amz-json-1.0")
            return
        self.reply(200, json.dumps(answer(params)).encode(), "application/x-amz-json-1.0")

    @property
    def supply(self) -> OrderSupply:
        return self.server.supply

    def _ours(self, params: Mapping[str, Any]) -> bool:
        return str(params.get("QueueUrl", "")).rstrip("/").endswith(f"/{self.supply.queue_name}")

    # ------------------------------------------------------------------ SQS

    def _op_GetQueueUrl(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"QueueUrl": f"http://{self.headers.get('Host', '')}/0/{params.get('QueueName')}"}

    def _op_GetQueueAttributes(self, params: Mapping[str, Any]) -> dict[str, Any]:
        name = urlsplit(str(params.get("QueueUrl", ""))).path.rpartition("/")[2]
        visible, in_flight = self.supply.depth() if self._ours(params) else (0, 0)
        attributes = {
            "QueueArn": f"arn:aws:sqs:us-east-1:000000000000:{name}",
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "ApproximateNumberOfMessagesDelayed": "0",
        }
        if self._ours(params):
            dlq = "arn:aws:sqs:us-east-1:000000000000:dlq"
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq, "maxReceiveCount": MAX_RECEIVE_COUNT}
            )
        wanted = params.get("AttributeNames") or ["All"]
        if "All" not in wanted:
            attributes = {k: v for k, v in attributes.items() if k in wanted}
        return {"Attributes": attributes}

    def _op_ReceiveMessage(self, params: Mapping[str, Any]) -> dict[str, Any]:
        count = int(params.get("MaxNumberOfMessages") or 1)
        wait = float(params.get("WaitTimeSeconds") or 0)
        if not self._ours(params):
            self._wait_empty(wait)
            return {}
        system = {*params.get("MessageSystemAttributeNames", []), *params.get("AttributeNames", [])}
        custom = set(params.get("MessageAttributeNames", []))
        messages = [
            self._message(handle, held, system, custom)
            for handle, held in self.supply.receive(count, wait)
        ]
        return {"Messages": messages} if messages else {}

    def _wait_empty(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not self.supply.closed:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    @staticmethod
    def _message(handle: str, held: _Held, system: set[str], custom: set[str]) -> dict[str, Any]:
        every = "All" in system
        attributes = {
            "SentTimestamp": str(held.sent_ms),
            "ApproximateFirstReceiveTimestamp": str(held.first_received_ms),
            "ApproximateReceiveCount": str(held.receive_count),
        }
        # A sampled parent, as the producer's PRODUCER span would leave it.
        carriers = {
            "traceparent": string_attribute(f"00-{uuid.uuid4().hex}-{secrets.token_hex(8)}-01"),
            "order_id": string_attribute(held.order_id),
        }
        message: dict[str, Any] = {
            "MessageId": str(uuid.uuid5(uuid.NAMESPACE_URL, held.order_id)),
            "ReceiptHandle": handle,
            "MD5OfBody": hashlib.md5(held.body.encode()).hexdigest(),  # noqa: S324 - SQS's checksum
            "Body": held.body,
            "Attributes": {k: v for k, v in attributes.items() if every or k in system},
        }
        chosen = {k: v for k, v in carriers.items() if "All" in custom or k in custom}
        if chosen:
            message["MessageAttributes"] = chosen
        return message

    def _op_DeleteMessageBatch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        entries = params.get("Entries", [])
        self.supply.delete([entry["ReceiptHandle"] for entry in entries])
        return {"Successful": [{"Id": entry["Id"]} for entry in entries], "Failed": []}

    def _op_DeleteMessage(self, params: Mapping[str, Any]) -> dict[str, Any]:
        self.supply.delete([params["ReceiptHandle"]])
        return {}

    def _op_ChangeMessageVisibilityBatch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        done, failed = [], []
        for entry in params.get("Entries", []):
            if self.supply.change_visibility(
                entry["ReceiptHandle"], int(entry.get("VisibilityTimeout", 0))
            ):
                done.append({"Id": entry["Id"]})
            else:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": True,
                        "Code": "ReceiptHandleIsInvalid",
                        "Message": "not in flight",
                    }
                )
        return {"Successful": done, "Failed": failed}

    def _op_ChangeMessageVisibility(self, params: Mapping[str, Any]) -> dict[str, Any]:
        self.supply.change_visibility(params["ReceiptHandle"], int(params["VisibilityTimeout"]))
        return {}

    # ------------------------------------------------------------------ DynamoDB

    def _op_PutItem(self, params: Mapping[str, Any]) -> dict[str, Any]:
        # Every condition holds: each order is new to this table.
        self.supply.write(params["Item"]["order_id"]["S"])
        return {}

    def _op_DescribeTable(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"Table": {"TableName": params.get("TableName"), "TableStatus": "ACTIVE"}}

    def _op_GetItem(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {}  # no record is kept: the read API answers 404

    def _op_Query(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"Items": [], "Count": 0, "ScannedCount": 0}

    _op_Scan = _op_Query


@contextmanager
def order_stub(
    queue_name: str, limit: int | None = None, rate: float | None = None
) -> Iterator[StubServer]:
    """An :class:`OrderSupplyStub` on a free loopback port, serving ``queue_name``."""
    server = StubServer(("127.0.0.1", 0), OrderSupplyStub)
    server.daemon_threads = True
    server.supply = OrderSupply(queue_name, limit, rate)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.supply.close()
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the consumer


@contextmanager
def running_consumer(stub: StubServer, env: Mapping[str, str]) -> Iterator[Any]:
    """The real consumer service (``python -m consumer``) on a free port, on ``stub``."""
    from devstack import Stack, StackConfig

    config = StackConfig(
        aws_port=int(stub.server_address[1]),
        producer_port=free_port(),
        consumer_port=free_port(),
        frontend_port=free_port(),
        services=("consumer",),
        env={**names("capacity"), **env, "ORDERS_QUEUE_NAME": stub.supply.queue_name},
        manage_endpoint=False,
        log_dir=log_dir(),
    )
    shop = Stack(config)
    try:
        yield shop.start_service("consumer")
    finally:
        stub.supply.close()  # idle long polls return now: the consumer stops at once
        shop.stop()


@dataclass
class Window:
    """Settle calls inside a measuring window, and the consumer's CPU over it."""

    settles: list[tuple[float, int]] = field(default_factory=list)
    wall_seconds: float = 0.0
    settled: int = 0  # messages settled while the window was open
    cpu_seconds: float = 0.0
    bench_cpu_seconds: float = 0.0  # this process: the stub, the sinks, the log reader

    @property
    def rate(self) -> float:
        """The least-squares slope of messages settled against time, over the window's settle
        calls: exact for one thread's evenly spaced settles, and unbiased when several threads
        settle batches in bursts (a plain count over the window is off by up to a burst)."""
        if len(self.settles) < 2:
            return 0.0
        times = [t for t, _ in self.settles]
        settled = list(itertools.accumulate(n for _, n in self.settles))
        mean_t, mean_n = statistics.fmean(times), statistics.fmean(settled)
        spread = sum((t - mean_t) ** 2 for t in times)
        if spread <= 0:
            return 0.0
        moments = zip(times, settled, strict=True)
        return sum((t - mean_t) * (n - mean_n) for t, n in moments) / spread


def _wait_steady(supply: OrderSupply, timeout: float) -> bool:
    """Until the consumer settles steadily: its first settle, then two one-second counts that
    agree within 25 % (or fewer than 10 settles a second: one sleep after another, nothing to
    warm up). False when ``timeout`` ran out first."""
    deadline = time.monotonic() + timeout
    while not supply.tally().settle_calls:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    counts: list[int] = [supply.tally().deleted]
    while time.monotonic() < deadline:
        time.sleep(1.0)
        counts.append(supply.tally().deleted)
        steps = [b - a for a, b in itertools.pairwise(counts)][-2:]
        if len(steps) == 2 and (max(steps) < 10 or min(steps) >= 0.75 * max(steps)):
            return True
    return False


def _measure(supply: OrderSupply, pid: int, seconds: float) -> Window:
    first = len(supply.settles)
    before, cpu, own = supply.tally(), process_tree_cpu_seconds(pid), time.process_time()
    started = time.monotonic()
    time.sleep(seconds)
    after = supply.tally()
    return Window(
        settles=list(supply.settles[first:]),
        wall_seconds=time.monotonic() - started,
        settled=after.deleted - before.deleted,
        cpu_seconds=process_tree_cpu_seconds(pid) - cpu,
        bench_cpu_seconds=time.process_time() - own,
    )


def model_rate(settings: Mapping[str, str]) -> float | None:
    """The orders/s the settings allow if work time were all: each thread works through its
    batch one order after another, so ``threads / work seconds`` (None without work)."""
    work_ms = int(settings["CONSUMER_WORK_MS"])
    return int(settings["CONSUMER_CONCURRENCY"]) * 1000 / work_ms if work_ms else None


def consumer_rate(
    settings_env: Mapping[str, str], seconds: float, *, warmup_timeout: float = 20.0
) -> dict[str, Any]:
    """Orders/s one consumer process settles with ``settings_env`` (over :data:`DEFAULT`),
    measured for ``seconds`` once it drains steadily, with telemetry on as shipped.

    Keys: ``threads``, ``batch``, ``work_ms``, ``orders_per_second``, ``model_orders_per_second``
    (None at 0 ms), ``measured_over_model``, ``cpu_ms_per_order``, ``consumer_cpu_cores`` (CPU
    seconds per second: near 1.0 is one core, the GIL's ceiling), ``bench_cpu_cores`` (the
    stub's process), ``window_seconds``, ``settled_in_window``, ``steady``, and the totals the
    stub counted once the consumer stopped: ``deleted``, ``written``, ``stale_deletes``,
    ``counts_agree`` (every write deleted once, every delete written once).
    """
    settings = {**DEFAULT, **settings_env}
    queue = names("capacity")["ORDERS_QUEUE_NAME"]
    otlp = serve_sink(OtlpSink)
    try:
        with statsd_sink() as statsd_port, order_stub(queue) as stub:
            env = {**telemetry_on(int(otlp.server_address[1]), statsd_port), **settings}
            with running_consumer(stub, env) as consumer:
                steady = _wait_steady(stub.supply, warmup_timeout)
                window = _measure(stub.supply, consumer.pid, seconds)
            totals = stub.supply.tally()
            written = stub.supply.written_ids()
    finally:
        otlp.shutdown()
        otlp.server_close()
    return _result(settings, window, steady, totals, written)


def _result(
    settings: Mapping[str, str],
    window: Window,
    steady: bool,
    totals: Tally,
    written: Mapping[str, int],
) -> dict[str, Any]:
    model = model_rate(settings)
    rate = window.rate
    wall = window.wall_seconds or 1.0
    return {
        "threads": int(settings["CONSUMER_CONCURRENCY"]),
        "batch": int(settings["CONSUMER_BATCH_SIZE"]),
        "work_ms": int(settings["CONSUMER_WORK_MS"]),
        "orders_per_second": round(rate, 3),
        "model_orders_per_second": model,
        "measured_over_model": round(rate / model, 3) if model else None,
        "cpu_ms_per_order": (
            round(1000 * window.cpu_seconds / window.settled, 2) if window.settled else None
        ),
        "consumer_cpu_cores": round(window.cpu_seconds / wall, 2),
        "bench_cpu_cores": round(window.bench_cpu_seconds / wall, 2),
        "counted_orders_per_second": round(window.settled / wall, 3),  # a plain count
        "window_seconds": round(wall, 1),
        "settled_in_window": window.settled,
        "steady": steady,
        "deleted": totals.deleted,
        "written": totals.written,
        "stale_deletes": totals.stale_deletes,
        "counts_agree": (
            totals.deleted == totals.written == len(written)
            and totals.stale_deletes == 0
            and totals.in_flight == 0
        ),
    }


def in_flight_at(
    settings_env: Mapping[str, str], orders_per_second: float, seconds: float
) -> dict[str, Any]:
    """What KEDA would see of one replica kept at ``orders_per_second`` (below its capacity):
    orders arrive at that pace, and the backlog (visible + in flight) is sampled every 50 ms.

    Keys: ``arrival_per_second``, ``orders_per_second`` (settled), ``mean_in_flight``,
    ``mean_visible``, ``mean_backlog``, ``max_backlog``, ``hold_seconds`` (in flight / rate, by
    Little's law: how long a message stays received but not deleted).
    """
    settings = {**DEFAULT, **settings_env}
    queue = names("capacity")["ORDERS_QUEUE_NAME"]
    otlp = serve_sink(OtlpSink)
    samples: list[tuple[int, int]] = []
    try:
        with (
            statsd_sink() as statsd_port,
            order_stub(queue, rate=orders_per_second) as stub,
            running_consumer(
                stub, {**telemetry_on(int(otlp.server_address[1]), statsd_port), **settings}
            ),
        ):
            stub.supply.pace()
            time.sleep(3.0)  # past the first receives
            first = len(stub.supply.settles)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                samples.append(stub.supply.depth())
                time.sleep(0.05)
            window = Window(settles=list(stub.supply.settles[first:]))
    finally:
        otlp.shutdown()
        otlp.server_close()
    in_flight = statistics.fmean(n for _, n in samples)
    visible = statistics.fmean(v for v, _ in samples)
    return {
        "arrival_per_second": orders_per_second,
        "orders_per_second": round(window.rate, 2),
        "mean_in_flight": round(in_flight, 1),
        "mean_visible": round(visible, 1),
        "mean_backlog": round(in_flight + visible, 1),
        "max_backlog": max(v + n for v, n in samples),
        "hold_seconds": round(in_flight / orders_per_second, 3),
    }


# --------------------------------------------------------------------------- reporting


PACED = (40.0, 55.0)  # orders/s, below a default replica's capacity: the backlog KEDA sees


def capacity(
    runs: tuple[tuple[str, dict[str, str], float], ...] = RUNS,
    paced: tuple[float, ...] = PACED,
    paced_seconds: float = 12.0,
) -> dict[str, Any]:
    """For ``make bench``: ``runs``, each :data:`RUNS` entry's :func:`consumer_rate` dict by
    name; ``default_orders_per_second``, the per-replica rate of the default settings;
    ``backlog_by_rate``, :func:`in_flight_at` of a default replica at each ``paced`` rate."""
    measured = {name: consumer_rate(env, seconds) for name, env, seconds in runs}
    result: dict[str, Any] = {"runs": measured}
    if "default" in measured:
        result["default_orders_per_second"] = measured["default"]["orders_per_second"]
    result["backlog_by_rate"] = [in_flight_at({}, rate, paced_seconds) for rate in paced]
    return result


def table(runs: Mapping[str, Mapping[str, Any]]) -> str:
    rows = [
        "| settings | threads | batch | work ms | orders/s per replica | model | measured / model "
        "| CPU ms per order | consumer CPU (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def shown(value: object, fmt: str = "{:g}") -> str:
        return "-" if value is None else fmt.format(value)

    for name, run in runs.items():
        rows.append(
            f"| {name} | {run['threads']} | {run['batch']} | {run['work_ms']} "
            f"| {run['orders_per_second']:.2f} | {shown(run['model_orders_per_second'])} "
            f"| {shown(run['measured_over_model'], '{:.2f}')} "
            f"| {shown(run['cpu_ms_per_order'], '{:.2f}')} | {run['consumer_cpu_cores']:.2f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="run only these (by name)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument(
        "--paced",
        type=float,
        action="append",
        default=[],
        metavar="ORDERS_PER_SECOND",
        help="instead: the backlog KEDA sees of one default replica at this arrival rate",
    )
    args = parser.parse_args(argv)
    for rate in args.paced:
        print(json.dumps(in_flight_at({}, rate, 15.0)), flush=True)
    if args.paced:
        return 0
    chosen = tuple(run for run in RUNS if not args.only or run[0] in args.only)
    report: Callable[[str], None] = lambda line: print(line, flush=True)  # noqa: E731
    runs: dict[str, dict[str, Any]] = {}
    for name, env, seconds in chosen:
        report(f"  {name}: measuring {seconds:g} s ...")
        runs[name] = consumer_rate(env, seconds)
        report(f"    {json.dumps(runs[name])}")
    report(table(runs))
    if args.json:
        report(json.dumps({"runs": runs}, indent=2))
    return 0 if all(run["counts_agree"] for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
