"""``make run``: start moto, create the queues and table, run the services until Ctrl-C.

Ports: AWS_PORT (4566), PRODUCER_PORT (8081), CONSUMER_PORT (8082), FRONTEND_PORT (8080).
Everything else (OTEL_*, CONSUMER_WORK_MS, SYNTHETIC_ORDERS_PER_SECOND, ...) passes through.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from importlib.util import find_spec

from devstack.render import print_line
from devstack.stack import Stack, StackConfig
from lantern.settings import SettingsError, env_int


def config_from_env() -> StackConfig:
    env = os.environ
    services = ["producer", "consumer"] + (["frontend"] if find_spec("frontend.__main__") else [])
    return StackConfig(
        aws_port=env_int(env, "AWS_PORT", 4566, low=1, high=65535),
        producer_port=env_int(env, "PRODUCER_PORT", 8081, low=1, high=65535),
        consumer_port=env_int(env, "CONSUMER_PORT", 8082, low=1, high=65535),
        frontend_port=env_int(env, "FRONTEND_PORT", 8080, low=1, high=65535),
        services=tuple(services),
    )


def banner(config: StackConfig, seconds: float) -> str:
    producer = config.url("producer")
    lines = [f"\nLantern Shop is up in {seconds:.1f}s. Press Ctrl-C to stop.\n"]
    if "frontend" in config.services:
        lines.append(f"  shop        {config.url('frontend')}/")
    lines += [
        f"  order API   {producer}/orders   (products: {producer}/products)",
        f"  orders      {config.url('consumer')}/orders/<order_id>",
        f"  metrics     {config.url('producer')}/metrics  {config.url('consumer')}/metrics",
        f"  AWS (moto)  {config.endpoint_url}",
        "",
        "  Try:",
        f"    curl -s -X POST {producer}/orders -H 'Content-Type: application/json' \\",
        '      -d \'{"customer":{"name":"Ada","email":"ada@example.com"},'
        '"items":[{"sku":"LNT-001","quantity":1}]}\'',
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    try:
        config = config_from_env()
    except SettingsError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 2
    stack = Stack(config, sink=print_line)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    started = time.monotonic()
    try:
        stack.start()
        print(banner(config, time.monotonic() - started), flush=True)
        while not stopping.wait(1.0):
            for name, process in stack.services.items():
                if process.proc is not None and process.proc.poll() is not None:
                    print(
                        f"{name} exited with {process.proc.returncode}; stopping", file=sys.stderr
                    )
                    stopping.set()
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as exc:
        print(f"make run: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print("\nstopping...", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
