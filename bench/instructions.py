"""What each part of the producer's telemetry costs, in CPU instructions per order.

``uv run python -m bench.instructions`` (needs Debian's ``valgrind``) counts the instructions the
producer executes per ``POST /orders`` against the instant SQS stub, for telemetry off, as
shipped, and as shipped minus one part at a time. Counts, unlike timings, do not move with the
machine's load: the same commit gives the same figures on a busy box, so a saving of a few
percent is visible. They are not the whole CPU cost (system calls are the kernel's, and a busy
server adds contention), which is what ``make bench``'s ``telemetry_cpu_cost_ratio`` measures.

How: one process under ``valgrind --tool=callgrind`` builds the app (Flask test client, no HTTP
server) and warms up; then, for each configuration, it forks two children that switch one part
off and place 20 and 120 orders. The difference of their counts over 100 is the cost of one order
with that configuration, without the imports and warm-up. The stub, the OTLP sink and the StatsD
port run in this (unmeasured) process.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.harness import TELEMETRY_OFF, telemetry_on
from bench.telemetry import ORDER, AwsStub, OtlpSink, serve_sink, statsd_sink

FEW, MANY = 20, 120
PARTS = {
    "as shipped": "",
    "no Flask instrumentation": "noflask",
    "no span export": "noexport",
    "no botocore instrumentation": "noboto",
    "no request log line": "nolog",
    "no StatsD": "nostatsd",
}
SAMPLED = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
_COUNT = re.compile(r"==(\d+)== Collected : (\d+)")


def _service_env(aws: int, otlp: int, statsd: int, telemetry: bool) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
        "ORDERS_QUEUE_NAME": "orders",
        "LOG_FORMAT": "json",
    }
    return {**env, **(telemetry_on(otlp, statsd) if telemetry else TELEMETRY_OFF)}


# --------------------------------------------------------------------------- under valgrind


def _switch_off(part: str, app: Any) -> None:
    from opentelemetry import trace

    from lantern.web import state

    if part == "noflask":
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        app._got_first_request = False
        FlaskInstrumentor.uninstrument_app(app)
    elif part == "noboto":
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        BotocoreInstrumentor().uninstrument()
    elif part == "nolog":
        logging.getLogger("lantern.http").setLevel(logging.WARNING)
    elif part == "nostatsd":
        state(app).telemetry.statsd._client = None
    elif part == "noexport":
        from opentelemetry.sdk.trace.export import SpanExportResult

        provider: Any = trace.get_tracer_provider()
        for processor in provider._active_span_processor._span_processors:
            processor._batch_processor._exporter.export = lambda spans: SpanExportResult.SUCCESS


def _child(parts: list[str]) -> None:
    from opentelemetry import trace

    from producer.app import create_app

    app = create_app()
    client = app.test_client()
    body = json.dumps(ORDER)

    def place(count: int) -> None:
        for _ in range(count):
            answer = client.post("/orders", data=body, content_type="application/json")
            assert answer.status_code == 202, answer.get_data(as_text=True)
        provider: Any = trace.get_tracer_provider()
        if hasattr(provider, "force_flush"):
            provider.force_flush()

    report = os.dup(1)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # the log lines: counted as written, not shown
    place(30)
    for part in parts:
        for count in (FEW, MANY):
            pid = os.fork()
            if pid == 0:
                _switch_off(part, app)
                place(5)
                os.write(report, f"child {os.getpid()} {part or '-'} {count}\n".encode())
                place(count)
                os._exit(0)
            os.waitpid(pid, 0)
    os._exit(0)


# --------------------------------------------------------------------------- the runner


def _count(env: dict[str, str], parts: list[str]) -> dict[str, float]:
    """Instructions per order for each part switched off, from one valgrind run."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        "--child",
        *[part or "-" for part in parts],
    ]
    done = subprocess.run(
        command,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    output = done.stdout + done.stderr
    children = dict(re.findall(r"child (\d+) (\S+ \d+)", output))
    totals = {children[pid]: int(count) for pid, count in _COUNT.findall(output) if pid in children}
    result = {}
    for part in parts:
        name = part or "-"
        few, many = totals.get(f"{name} {FEW}"), totals.get(f"{name} {MANY}")
        if few is None or many is None:
            raise RuntimeError(f"valgrind run incomplete for {name!r}:\n{output[-2000:]}")
        result[part] = (many - few) / (MANY - FEW)
    return result


def measure() -> dict[str, Any]:
    aws, otlp = serve_sink(AwsStub), serve_sink(OtlpSink)
    try:
        with statsd_sink() as statsd:
            ports = (int(aws.server_address[1]), int(otlp.server_address[1]), statsd)
            off = _count(_service_env(*ports, telemetry=False), [""])[""]
            on = _count(_service_env(*ports, telemetry=True), list(PARTS.values()))
            sampled = _count({**_service_env(*ports, telemetry=True), **SAMPLED}, [""])[""]
    finally:
        for server in (aws, otlp):
            server.shutdown()
            server.server_close()
    shipped = on[""]
    return {
        "instructions_per_order": {
            "telemetry off": off,
            **{name: on[part] for name, part in PARTS.items()},
            "as shipped, 10% of traces sampled": sampled,
        },
        "cost_ratio_as_shipped": off / shipped,
        "cost_ratio_sampled": off / sampled,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(["" if part == "-" else part for part in args.child])
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    print("counting instructions under valgrind: a few minutes ...", flush=True)
    result = measure()
    counts = result["instructions_per_order"]
    shipped = counts["as shipped"]
    print("| producer, POST /orders against the stub | M instructions per order | vs shipped |")
    print("|---|---:|---:|")
    for name, count in counts.items():
        print(f"| {name} | {count / 1e6:.2f} | {count - shipped:+,.0f} |")
    print(
        f"\noff / on: {result['cost_ratio_as_shipped']:.3f} as shipped, "
        f"{result['cost_ratio_sampled']:.3f} with 10% of traces sampled"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
