"""The services' HTTP worker against stock gthread: the same hello app, the same settings.

``lantern.http_worker.BufferingThreadWorker`` reads each request in its event loop before a
thread serves it. This measures what that costs when every client is fast (req/s, rounds
alternated, median of per-round ratios) and what it buys when 200 slow clients hold connections
meanwhile (req/s of the fast clients on each worker).
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from bench.harness import QUIET
from devstack import ServiceProcess
from load.hey import HeyResult, run_hey
from tests.support.net import free_port
from tests.support.slow import SlowClients

WORKERS = {"ours": "lantern.http_worker.BufferingThreadWorker", "gthread": "gthread"}
SLOW_CLIENTS = 200


@contextmanager
def hello(worker_class: str) -> Iterator[int]:
    """bench.hello under gunicorn, as lantern.serve runs it (2 workers x 8 threads) but for
    the worker class."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", "2", "--threads", "8"]
    command += ["--keep-alive", "5", "-b", f"127.0.0.1:{port}", "bench.hello:create_app()"]
    process = ServiceProcess(
        f"hello-{worker_class}", command, {**os.environ, **QUIET}, f"http://127.0.0.1:{port}/"
    )
    process.start().wait_ready(30)
    try:
        yield port
    finally:
        process.stop()


def _served_per_second(port: int, seconds: float, concurrency: int) -> tuple[float, int]:
    """(200 answers a second, requests that got none) over ``seconds`` of hey."""
    result: HeyResult = run_hey(
        f"http://127.0.0.1:{port}/", f"{seconds:g}s", concurrency, 0, timeout=2
    )
    served = result.statuses.get(200, 0)
    return served / seconds, result.total - served


def buffering_vs_gthread(seconds: float, concurrency: int, rounds: int = 3) -> dict[str, float]:
    per_round: list[float] = []
    rates: dict[str, list[float]] = {"ours": [], "gthread": []}
    failures = {"ours": 0, "gthread": 0}  # fast-client requests without a 200: "no loss"
    with hello(WORKERS["ours"]) as ours, hello(WORKERS["gthread"]) as peer:
        for index in range(rounds):
            order = [("ours", ours), ("gthread", peer)]
            measured = {}
            for name, port in order if index % 2 == 0 else order[::-1]:
                measured[name], failed = _served_per_second(port, seconds / rounds, concurrency)
                failures[name] += failed
                rates[name].append(measured[name])
            per_round.append(measured["ours"] / measured["gthread"])
        slow = {
            name: _under_slow_clients(port, seconds / rounds, concurrency)
            for name, port in (("ours", ours), ("gthread", peer))
        }
    return {
        "ratio": statistics.median(per_round),
        "ours": statistics.median(rates["ours"]),
        "peer": statistics.median(rates["gthread"]),
        "ours_failed_requests": float(failures["ours"]),
        "gthread_failed_requests": float(failures["gthread"]),
        "ours_rps_with_200_slow_clients": slow["ours"],
        "gthread_rps_with_200_slow_clients": slow["gthread"],
    }


def _under_slow_clients(port: int, seconds: float, concurrency: int) -> float:
    with SlowClients(port, SLOW_CLIENTS):
        return _served_per_second(port, seconds, concurrency)[0]
