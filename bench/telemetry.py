"""Benchmark: the producer's accepted orders/s with all telemetry on vs all off, side by side.

``uv run python -m bench.telemetry`` starts an AWS endpoint and two producers on it with the
devstack logic the integration tests use: one with OpenTelemetry exporting every span over
OTLP/HTTP to a local sink, StatsD to a local UDP socket and one INFO log line per request; one with
``TRACING_MODE=off``, ``STATSD_HOST=none`` and ``LOG_LEVEL=warning``. Prometheus metrics have no
off switch, so both keep them. The two are measured in alternating rounds at the same concurrency
and the median of the per-round ratios is printed. Target: on/off >= 0.85.

Two endpoints (``--aws``): ``moto``, the local AWS the shop runs on (each round starts on an
emptied queue, since moto's SendMessage slows as a queue grows), whose own speed caps both
producers at about the same rate; and ``stub``, an instant SQS/DynamoDB stand-in, so the producer
is the bottleneck and the ratio shows what telemetry costs it. The headline ratio is the stub's.

:func:`compare` is the importable part: give it two running producer URLs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.harness import TELEMETRY_OFF, log_dir, names, telemetry_on
from load.hey import run_hey
from tests.support.net import free_port

ORDER = {
    "customer": {"name": "Bench Shopper", "email": "bench@example.com"},
    "items": [{"sku": "LNT-001", "quantity": 1}, {"sku": "LNT-006", "quantity": 2}],
}
HEY = "/usr/bin/hey"


@dataclass(frozen=True)
class Measurement:
    """One timed burst against one producer."""

    accepted: int  # 202 answers
    statuses: dict[str, int]  # status code (or error) -> count
    seconds: float
    cpu_seconds: float | None = None  # CPU the producer's processes used meanwhile

    @property
    def accepted_per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_order(self) -> float | None:
        if self.cpu_seconds is None or not self.accepted:
            return None
        return 1000 * self.cpu_seconds / self.accepted


@dataclass
class Comparison:
    concurrency: int
    seconds: float
    on: list[Measurement] = field(default_factory=list)
    off: list[Measurement] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [
            a.accepted_per_second / b.accepted_per_second
            for a, b in zip(self.on, self.off, strict=True)
            if b.accepted_per_second
        ]

    @property
    def ratio(self) -> float:
        """Median over rounds of (telemetry on) / (telemetry off) accepted orders per second."""
        return statistics.median(self.ratios) if self.ratios else 0.0

    @property
    def cpu_ratio(self) -> float | None:
        """Median of (CPU per order, off) / (CPU per order, on): the throughput ratio a
        CPU-bound producer would show, and far steadier than wall-clock rates on a busy box."""
        pairs = [
            (a.cpu_ms_per_order, b.cpu_ms_per_order) for a, b in zip(self.on, self.off, strict=True)
        ]
        ratios = [off / on for on, off in pairs if on and off]
        return statistics.median(ratios) if ratios else None

    def summary(self) -> str:
        def rates(runs: list[Measurement]) -> str:
            return ", ".join(f"{m.accepted_per_second:.0f}" for m in runs)

        def cpu(runs: list[Measurement]) -> str:
            costs = [m.cpu_ms_per_order for m in runs if m.cpu_ms_per_order is not None]
            return f"; CPU ms/order {statistics.median(costs):.2f}" if costs else ""

        def failures(runs: list[Measurement]) -> int:
            return sum(n for m in runs for code, n in m.statuses.items() if code != "202")

        lines = [
            f"producer accepted orders/s, concurrency {self.concurrency}, "
            f"{self.seconds:g} s per round, {len(self.on)} rounds",
            f"  telemetry off: {rates(self.off)}  (non-202: {failures(self.off)}{cpu(self.off)})",
            f"  telemetry on:  {rates(self.on)}  (non-202: {failures(self.on)}{cpu(self.on)})",
            f"  ratio on/off:  {self.ratio:.3f} (median; rounds: "
            + ", ".join(f"{r:.3f}" for r in self.ratios)
            + ")",
        ]
        if self.cpu_ratio is not None:
            lines.append(f"  CPU-cost ratio off/on per order: {self.cpu_ratio:.3f} (median)")
        return "\n".join(lines)


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (a gunicorn master, its
    workers), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        try:
            total += process_tree_cpu_seconds(int(child))
        except FileNotFoundError:
            pass  # a worker that just exited
    return total


def _measure_hey(url: str, concurrency: int, seconds: float) -> Measurement:
    with tempfile.TemporaryDirectory() as scratch:
        body = Path(scratch) / "order.json"
        body.write_text(json.dumps(ORDER))
        result = run_hey(f"{url}/orders", f"{seconds:g}s", concurrency, 0, body)
    statuses = {str(code): n for code, n in result.statuses.items()}
    if result.errors:
        statuses["error"] = sum(result.errors.values())
    return Measurement(statuses.get("202", 0), statuses, result.total_seconds or seconds)


def _post(url: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL
        f"{url}/orders",
        data=json.dumps(ORDER).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            response.read()
            return str(response.status)
    except urllib.error.HTTPError as error:
        return str(error.code)
    except OSError as error:
        return type(error).__name__


def _measure_threads(url: str, concurrency: int, seconds: float) -> Measurement:
    deadline = time.monotonic() + seconds
    started = time.perf_counter()

    def loop(_: int) -> Counter[str]:
        seen: Counter[str] = Counter()
        while time.monotonic() < deadline:
            seen[_post(url)] += 1
        return seen

    with ThreadPoolExecutor(concurrency) as pool:
        statuses = sum(pool.map(loop, range(concurrency)), Counter[str]())
    elapsed = time.perf_counter() - started
    return Measurement(statuses["202"], dict(statuses), elapsed)


def measure(
    url: str, concurrency: int = 16, seconds: float = 4.0, pid: int | None = None
) -> Measurement:
    """Accepted orders/s of the producer at ``url`` for ``seconds`` at ``concurrency``; with the
    producer's ``pid``, also the CPU its processes used.

    Uses ``hey`` when installed (Debian package ``hey``), else a Python thread pool.
    """
    cpu_before = process_tree_cpu_seconds(pid) if pid else None
    if shutil.which(HEY):
        result = _measure_hey(url, concurrency, seconds)
    else:
        result = _measure_threads(url, concurrency, seconds)
    if pid and cpu_before is not None:
        used = process_tree_cpu_seconds(pid) - cpu_before
        result = Measurement(result.accepted, result.statuses, result.seconds, used)
    return result


def compare(
    on_url: str,
    off_url: str,
    *,
    concurrency: int = 16,
    seconds: float = 4.0,
    rounds: int = 6,
    together: bool = True,
    warmup_seconds: float = 1.0,
    before_each: Callable[[str], None] | None = None,
    pids: Mapping[str, int] | None = None,
) -> Comparison:
    """Measure two running producers, round after round, at the same concurrency.

    ``together`` loads both at once in each round: on a shared, busy machine both then see the
    same neighbours, and the ratio is their relative cost per order. Otherwise they take turns
    (who goes first alternates). ``before_each(url)`` runs before every measurement (e.g. to
    empty that producer's queue). ``pids`` (url -> gunicorn master pid) adds CPU per order.
    """
    pids = pids or {}
    result = Comparison(concurrency, seconds)
    for url in (off_url, on_url):
        measure(url, concurrency, warmup_seconds)
    for index in range(rounds):
        turns = [(off_url, result.off), (on_url, result.on)]
        if index % 2:
            turns.reverse()
        for url, _ in turns:
            if before_each is not None:
                before_each(url)
        if together:
            with ThreadPoolExecutor(2) as pool:
                futures = [
                    (pool.submit(measure, url, concurrency, seconds, pids.get(url)), runs)
                    for url, runs in turns
                ]
                for future, runs in futures:
                    runs.append(future.result())
        else:
            for url, runs in turns:
                runs.append(measure(url, concurrency, seconds, pids.get(url)))
    return result


# --------------------------------------------------------------------------- standalone run


def serve_sink(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real collector or AWS endpoint
    disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK stall

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class OtlpSink(_Quiet):
    """An OTLP/HTTP endpoint that accepts and discards, as a collector would from our side."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply(200, b"", "application/x-protobuf")


class AwsStub(_Quiet):
    """Just enough SQS and DynamoDB (JSON protocol) for a producer without idempotency keys:
    answers instantly and keeps nothing, so the producer, not the endpoint, is the bottleneck."""

    def do_POST(self) -> None:
        params = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or "{}")
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        host = self.headers.get("Host", "")
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "GetQueueUrl": lambda: {"QueueUrl": f"http://{host}/0/{params.get('QueueName')}"},
            "GetQueueAttributes": lambda: {"Attributes": {"QueueArn": "arn:aws:sqs:::stub"}},
            "SendMessage": lambda: {
                "MessageId": str(uuid.uuid4()),
                "MD5OfMessageBody": hashlib.md5(  # noqa: S324 - SQS's checksum, not security
                    params.get("MessageBody", "").encode()
                ).hexdigest(),
            },
            "DescribeTable": lambda: {
                "Table": {"TableName": params.get("TableName"), "TableStatus": "ACTIVE"}
            },
        }
        if operation not in answers:
            body = {"__type": "UnknownOperationException", "message": operation}
            self.reply(400, json.dumps(body).encode(), "application/x-amz-json-1.0")
            return
        self.reply(200, json.dumps(answers[operation]()).encode(), "application/x-amz-json-1.0")


@contextmanager
def statsd_sink() -> Iterator[int]:
    """A UDP port that drains StatsD datagrams."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                udp.recv(65535)
            except OSError:
                continue

    threading.Thread(target=drain, daemon=True).start()
    try:
        yield int(udp.getsockname()[1])
    finally:
        stop.set()
        udp.close()


def _producer(aws_port: int, env: dict[str, str]) -> Any:
    from devstack import Stack, StackConfig

    config = StackConfig(
        aws_port=aws_port,
        producer_port=free_port(),
        consumer_port=free_port(),
        frontend_port=free_port(),
        services=("producer",),
        env={**names("telemetry"), **env},
        manage_endpoint=False,
        log_dir=log_dir(),
    )
    return Stack(config)


def _emptier(stacks: dict[str, Any]) -> Callable[[str], None]:
    """Empty a producer's queue by recreating it (moto allows one PurgeQueue a minute)."""
    import boto3

    def empty(url: str) -> None:
        stack = stacks[url]
        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=stack.config.endpoint_url)
        name = stack.config.env["ORDERS_QUEUE_NAME"]
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
        sqs.create_queue(QueueName=name)  # same name, same URL: the producer's cache holds

    return empty


def run_pair(aws: str, args: argparse.Namespace) -> Comparison:
    """Start an AWS endpoint (``moto`` or ``stub``) and two producers on it; compare them."""
    from devstack import ServiceProcess

    common = {"WEB_CONCURRENCY": str(args.workers), "LOG_FORMAT": "json"}
    off_env = {**common, **TELEMETRY_OFF}
    otlp = serve_sink(OtlpSink)
    endpoint: ServiceProcess | None = None
    stub: ThreadingHTTPServer | None = None
    stacks: list[Any] = []
    with statsd_sink() as statsd_port:
        on_env = {
            **common,
            **telemetry_on(int(otlp.server_address[1]), statsd_port),
            **dict(item.split("=", 1) for item in args.on_env),
        }
        try:
            if aws == "stub":
                stub = serve_sink(AwsStub)
                aws_port = int(stub.server_address[1])
            else:
                aws_port = free_port()
            stacks = [_producer(aws_port, on_env), _producer(aws_port, off_env)]
            if aws == "moto":
                endpoint = stacks[0].start_endpoint()
                for stack in stacks:
                    stack.provision()
            for stack in stacks:
                stack.start_service("producer")
            on, off = (stack.config.url("producer") for stack in stacks)
            return compare(
                on,
                off,
                concurrency=args.concurrency,
                seconds=args.seconds,
                rounds=args.rounds,
                # Two producers on one moto just split moto's capacity: take turns there.
                together=aws == "stub" and not args.alternate,
                pids={
                    url: stack.services["producer"].pid
                    for url, stack in zip((on, off), stacks, strict=True)
                },
                before_each=_emptier({on: stacks[0], off: stacks[1]}) if aws == "moto" else None,
            )
        finally:
            for stack in stacks:
                stack.stop()
            if endpoint is not None:
                endpoint.stop(10)
            for server in (otlp, stub):
                if server is not None:
                    server.shutdown()
                    server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per producer")
    parser.add_argument(
        "--alternate", action="store_true", help="take turns instead of loading both at once"
    )
    parser.add_argument(
        "--on-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the telemetry-on producer, e.g. "
        "OTEL_TRACES_SAMPLER=parentbased_traceidratio (repeatable)",
    )
    parser.add_argument(
        "--aws",
        choices=("moto", "stub", "both"),
        default="both",
        help="moto: the real local endpoint (its own speed caps both producers); "
        "stub: an instant SQS/DynamoDB stand-in, so the producer is the bottleneck",
    )
    args = parser.parse_args(argv)
    results = {}
    for aws in ("stub", "moto") if args.aws == "both" else (args.aws,):
        results[aws] = run_pair(aws, args)
        print(f"[{aws}] {results[aws].summary()}", flush=True)
    headline = results.get("stub") or results["moto"]
    print(f"telemetry on/off ratio: {headline.ratio:.3f} (target >= 0.85)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
