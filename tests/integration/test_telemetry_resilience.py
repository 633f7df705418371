"""Telemetry never gets in the way: no collector, a dead collector, no StatsD agent.

``make run`` exports no spans by default (``OTEL_TRACES_EXPORTER=none``) and must stay quiet; a
collector that refuses or swallows connections, a StatsD host that does not resolve and a StatsD
port nobody listens on must neither slow nor fail a request.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ShopFactory
from tests.support.net import free_port, http
from tests.support.shop import Shop, order_payload

pytestmark = pytest.mark.integration

# Far above a loopback request (tens of ms), far below the exporter's 10 s timeout: a request
# that waited for an export or a DNS retry would cross it.
QUICK_SECONDS = 1.5


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A TCP port that accepts connections into its backlog and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def timed_place(shop: Shop) -> tuple[str, float]:
    started = time.perf_counter()
    order_id = shop.place()
    return order_id, time.perf_counter() - started


def records(shop: Shop, service: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in shop.stack.services[service].lines]


def test_dead_collector_and_missing_statsd_agent_never_slow_or_fail_a_request(
    shop_factory: ShopFactory, black_hole: int
) -> None:
    otlp = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    shop = shop_factory(
        env={**otlp, "OTEL_EXPORTER_OTLP_TIMEOUT": "3"},
        per_service_env={
            # Swallows connections: an export hangs until the exporter's timeout.
            "producer": {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{black_hole}",
                "STATSD_HOST": "statsd-agent.invalid",  # never resolves
            },
            # Refuses connections; StatsD datagrams go to a port nobody listens on.
            "consumer": {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
                "STATSD_HOST": "127.0.0.1",
                "STATSD_PORT": str(closed_udp_port()),
            },
        },
    )
    placed = [timed_place(shop) for _ in range(10)]
    slow = [
        (order_id, round(seconds, 3)) for order_id, seconds in placed if seconds > QUICK_SECONDS
    ]
    assert slow == []
    for order_id, _ in placed:
        assert shop.wait_fulfilled(order_id)["status"] == "fulfilled"
    status, _, _ = http("POST", f"{shop.producer}/orders", order_payload(("NOPE-1", 1)))
    assert status == 422
    for service in ("producer", "consumer"):
        assert http("GET", f"{shop.stack.config.url(service)}/metrics")[0] == 200
    warned = [r["event"] for r in records(shop, "producer") if r["level"] == "warning"]
    assert "statsd host not resolvable" in warned


def test_make_run_defaults_export_nothing_and_stay_quiet(shop_factory: ShopFactory) -> None:
    # No OTEL_TRACES_EXPORTER (the devstack's default is none) and StatsD's default host with a
    # port that has no agent: what a laptop without a collector has.
    shop = shop_factory(env={"STATSD_HOST": "127.0.0.1", "STATSD_PORT": str(closed_udp_port())})
    for order_id in [shop.place() for _ in range(3)]:
        shop.wait_fulfilled(order_id)
    shop.stack.stop()

    for service in ("producer", "consumer"):
        lines = records(shop, service)
        loud = [r for r in lines if r["level"] not in ("debug", "info")]
        assert loud == [], loud
        assert not [r for r in lines if str(r["logger"]).startswith("opentelemetry")]
    processed = [r for r in records(shop, "consumer") if r["event"] == "order processed"]
    assert len(processed) == 3
    assert all(len(str(r["trace_id"])) == 32 for r in processed)  # traced, just not exported
