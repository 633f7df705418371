"""The storefront's product page against a bare Flask hello app under the same server settings.

Both servers run for the whole benchmark and take turns in alternating rounds (who goes first
alternates); the ratio is the median of the rounds' ratios, so a busy neighbour during one round
moves one ratio, not the result. Each round also reads the CPU each server used per request.
"""

from __future__ import annotations

import os
import statistics
import sys

from bench.harness import LOG_DIR, QUIET, names, process_tree_rss, stack
from bench.telemetry import process_tree_cpu_seconds
from devstack import ServiceProcess
from load.hey import HeyResult, run_hey
from tests.support.net import free_port

PRODUCT = "/products/LNT-003"


def _round(url: str, pid: int, seconds: float, concurrency: int) -> tuple[HeyResult, float]:
    """One burst of hey: its result and the server's CPU ms per request meanwhile."""
    before = process_tree_cpu_seconds(pid)
    result = run_hey(url, f"{seconds:g}s", concurrency, 0)
    used = process_tree_cpu_seconds(pid) - before
    return result, 1000 * used / max(result.total, 1)


def storefront_vs_flask(
    moto: ServiceProcess,
    telemetry_env: dict[str, str],
    seconds: float,
    concurrency: int,
    rounds: int = 4,
) -> dict[str, float]:
    shop = stack(moto, ("frontend",), {**QUIET, **telemetry_env, **names("shop")})
    port = free_port()
    env = {**os.environ, **QUIET, "PORT": str(port), "HOST": "127.0.0.1"}
    hello = ServiceProcess(
        "hello",
        [sys.executable, "-m", "bench.hello"],
        env,
        f"http://127.0.0.1:{port}/",
        log_file=LOG_DIR / f"hello-{port}.log",
    )
    try:
        hello.start().wait_ready(30)
        targets = {
            "ours": (f"{shop.config.url('frontend')}{PRODUCT}", shop.services["frontend"].pid),
            "peer": (f"http://127.0.0.1:{port}/", hello.pid),
        }
        for url, pid in targets.values():
            _round(url, pid, 1, concurrency)  # warm up: imports, template compilation
        runs: dict[str, list[tuple[HeyResult, float]]] = {"ours": [], "peer": []}
        for index in range(rounds):
            order = list(targets) if index % 2 == 0 else list(reversed(targets))
            for name in order:
                url, pid = targets[name]
                runs[name].append(_round(url, pid, seconds / rounds, concurrency))
        memory = max(process_tree_rss(shop.services["frontend"].pid).values())
    finally:
        shop.stop()
        hello.stop()
    for result, _ in runs["ours"]:
        assert set(result.statuses) == {200}, f"product page answered {result.statuses}"
    return _summary(runs, memory)


def _summary(runs: dict[str, list[tuple[HeyResult, float]]], memory: float) -> dict[str, float]:
    def rate(name: str) -> list[float]:
        return [result.requests_per_second for result, _ in runs[name]]

    def cpu(name: str) -> float:
        return statistics.median(ms for _, ms in runs[name])

    ratios = [a / b for a, b in zip(rate("ours"), rate("peer"), strict=True) if b]
    return {
        "ours": statistics.median(rate("ours")),
        "peer": statistics.median(rate("peer")),
        "ratio": statistics.median(ratios),
        "rounds": float(len(ratios)),
        "ours_cpu_ms_per_request": cpu("ours"),
        "peer_cpu_ms_per_request": cpu("peer"),
        "p99_ms": statistics.median(result.p99_ms or 0.0 for result, _ in runs["ours"]),
        "rss_mb": memory,
    }
