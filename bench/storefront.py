"""The storefront's product page against a bare Flask hello app under the same server settings."""

from __future__ import annotations

import os
import sys

from bench.harness import QUIET, names, process_tree_rss, stack
from devstack import ServiceProcess
from load.hey import run_hey
from tests.support.net import free_port

PRODUCT = "/products/LNT-003"


def storefront_vs_flask(
    moto: ServiceProcess, telemetry_env: dict[str, str], seconds: int, concurrency: int
) -> dict[str, float]:
    shop = stack(moto, ("frontend",), {**QUIET, **telemetry_env, **names("shop")})
    try:
        ours = run_hey(f"{shop.config.url('frontend')}{PRODUCT}", f"{seconds}s", concurrency, 0)
        memory = max(process_tree_rss(shop.services["frontend"].pid).values())
    finally:
        shop.stop()
    port = free_port()
    env = {**os.environ, **QUIET, "PORT": str(port), "HOST": "127.0.0.1"}
    hello = ServiceProcess(
        "hello", [sys.executable, "-m", "bench.hello"], env, f"http://127.0.0.1:{port}/"
    )
    hello.start().wait_ready(30)
    try:
        peer = run_hey(f"http://127.0.0.1:{port}/", f"{seconds}s", concurrency, 0)
    finally:
        hello.stop()
    assert set(ours.statuses) == {200}, f"product page answered {ours.statuses}"
    return {
        "ours": ours.requests_per_second,
        "peer": peer.requests_per_second,
        "ratio": ours.requests_per_second / peer.requests_per_second,
        "p99_ms": ours.p99_ms or 0.0,
        "peer_p99_ms": peer.p99_ms or 0.0,
        "rss_mb": memory,
    }
