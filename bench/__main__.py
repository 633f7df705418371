"""``make bench``: every benchmark, peers side by side in one run, reported as ratios.

Prints a table, writes ``bench/results/latest.json`` (the figures, their targets and the
machine they were measured on) and rewrites the results section of ``docs/benchmarks.md``.
Ratios are ours / peer. ``make bench-check`` (:mod:`bench.check`) reads the JSON and fails
when a figure misses its target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import telemetry
from bench.check import TARGETS
from bench.consumer_capacity import capacity
from bench.harness import start_moto
from bench.http_worker import buffering_vs_gthread
from bench.pipeline import consumer_vs_boto3, end_to_end, producer_vs_boto3
from bench.storefront import storefront_vs_flask

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
DOC = ROOT / "docs" / "benchmarks.md"
MARKER = "<!-- results: written by make bench -->"


def _telemetry(moto_env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    options = argparse.Namespace(
        concurrency=16, seconds=args.seconds / 2, rounds=4, workers=2, alternate=False, on_env=[]
    )
    on_moto = telemetry.run_pair("moto", options)
    on_stub = telemetry.run_pair("stub", options)
    return {
        "telemetry_on_vs_off": round(on_moto.ratio, 3),
        "telemetry_on_vs_off_cpu_bound": round(on_stub.ratio, 3),
        # CPU ms per order with telemetry off / on, against the stub: the producer's own cost.
        "telemetry_cpu_cost_ratio": round(on_stub.cpu_ratio or 0.0, 3),
        "telemetry_cpu_ms_per_order": {
            "off": _median_cpu(on_stub.off),
            "on": _median_cpu(on_stub.on),
        },
        "telemetry_detail": {"moto": on_moto.summary(), "stub": on_stub.summary()},
    }


def _median_cpu(runs: list[telemetry.Measurement]) -> float:
    costs = [m.cpu_ms_per_order for m in runs if m.cpu_ms_per_order is not None]
    return round(statistics.median(costs), 2) if costs else 0.0


def _consumer(results: dict[str, Any]) -> None:
    measured = capacity()
    results["consumer_orders_per_s_per_replica"] = {
        name: round(run["orders_per_second"], 2) for name, run in measured["runs"].items()
    }
    results["consumer_capacity_detail"] = measured


def _telemetry_env() -> dict[str, Any]:
    """The services as shipped: spans exported over OTLP, StatsD sent, one log line per request."""
    return {"TRACING_MODE": "otel", "LOG_LEVEL": "info", "STATSD_HOST": "127.0.0.1"}


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    env = _telemetry_env()
    moto = start_moto()
    sink = telemetry.serve_sink(telemetry.OtlpSink)
    env.update(
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{sink.server_address[1]}",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
    )
    steps: list[tuple[str, Callable[[], None]]] = [
        (
            "producer vs boto3",
            lambda: _ratio(
                results, "producer_vs_boto3", producer_vs_boto3(moto, env, args.seconds, 16)
            ),
        ),
        (
            "consumer vs boto3",
            lambda: _ratio(
                results, "consumer_vs_boto3", consumer_vs_boto3(moto, env, args.messages, 4)
            ),
        ),
        ("storefront vs flask", lambda: _storefront(results, moto, env, args)),
        (
            "http worker vs gthread",
            lambda: _ratio(
                results, "http_worker_vs_gthread", buffering_vs_gthread(args.seconds, 50)
            ),
        ),
        ("end to end at 20/s", lambda: _e2e(results, moto, env, args)),
        ("telemetry on vs off", lambda: results.update(_telemetry(env, args))),
        ("consumer per replica", lambda: _consumer(results)),
    ]
    try:
        for name, step in steps:
            started = time.monotonic()
            print(f"  {name} ...", end="", flush=True)
            step()
            print(f" {time.monotonic() - started:.0f}s", flush=True)
    finally:
        sink.shutdown()
        moto.stop(10)
    return results


def _ratio(results: dict[str, Any], key: str, measured: dict[str, float]) -> None:
    results[key] = round(measured["ratio"], 3)
    results[f"{key}_detail"] = {
        k: round(v, 1) for k, v in measured.items() if k not in ("ratio", "rss_mb")
    }


def _storefront(results: dict[str, Any], moto: Any, env: dict[str, str], args: Any) -> None:
    measured = storefront_vs_flask(moto, env, 2 * args.seconds, 50)
    _ratio(results, "storefront_vs_flask", measured)
    # The same page with tracing, StatsD and request logs off: the page's own weight, apart
    # from what observing it costs.
    quiet = storefront_vs_flask(moto, {"TRACING_MODE": "off"}, 2 * args.seconds, 50)
    _ratio(results, "storefront_untraced_vs_flask", quiet)
    results["storefront_p99_ms_at_50"] = round(measured["p99_ms"], 1)
    results.setdefault("rss_mb", {})["frontend"] = round(measured["rss_mb"], 1)


def _e2e(results: dict[str, Any], moto: Any, env: dict[str, str], args: Any) -> None:
    latency, memory = end_to_end(moto, env, rate=20, seconds=args.seconds)
    results["e2e_p50_ms"] = round(latency["p50_ms"], 1)
    results["e2e_p99_ms"] = round(latency["p99_ms"], 1)
    results["e2e_orders"] = int(latency["orders"])
    results.setdefault("rss_mb", {}).update({name: round(mb, 1) for name, mb in memory.items()})


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "cpu_model": _cpuinfo("model name"),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": _commit(),
    }


def _cpuinfo(field: str) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _shown(value: Any) -> str:
    """A figure for the table: a mapping as "name value, ..."."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def table(results: dict[str, Any]) -> str:
    rows = ["| metric | result | target |", "|---|---|---|"]
    for key, target in TARGETS.items():
        if key in results:
            rows.append(f"| `{key}` | {_shown(results[key])} | {target.text} |")
    slow = results.get("http_worker_vs_gthread_detail", {})
    for key in ("ours_rps_with_200_slow_clients", "gthread_rps_with_200_slow_clients"):
        if key in slow:
            rows.append(f"| `{key}` | {slow[key]} | |")
    untargeted = ("storefront_untraced_vs_flask", "e2e_p50_ms", "storefront_p99_ms_at_50")
    for key in (*untargeted, "telemetry_cpu_ms_per_order"):
        if key in results:
            rows.append(f"| `{key}` | {_shown(results[key])} | |")
    for name, rate in results.get("consumer_orders_per_s_per_replica", {}).items():
        rows.append(f"| consumer orders/s per replica, {name} | {rate} | |")
    return "\n".join(rows)


def write(results: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    head = DOC.read_text().split(MARKER)[0] if DOC.exists() else ""
    about = results["run"]
    DOC.write_text(
        f"{head}{MARKER}\n\nLatest run: {about['date']} on {about['machine']} "
        f"({about['cpu_model']}), Python {about['python']}, commit {about['commit']}, load "
        f"average {about['load_average_at_start'][0]} at the start.\n\n{table(results)}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each load phase")
    # moto scans the whole queue on every receive: a big backlog measures moto, not the consumer.
    parser.add_argument("--messages", type=int, default=400, help="backlog the consumers drain")
    args = parser.parse_args(argv)
    print("Lantern Shop benchmarks (peers side by side; ratios are ours / peer)", flush=True)
    results: dict[str, Any] = {"run": machine(), **run(args)}
    results["run"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = {key: target.text for key, target in TARGETS.items()}
    write(results)
    print()
    print(table(results))
    print(f"\nwritten: {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
