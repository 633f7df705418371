"""Fixtures that start the real services on loopback against a real HTTP AWS endpoint (moto).

One moto server runs per test session; each test gets its own queue, DLQ and table names and
its own free ports, so tests never share state and never collide with a running `make run`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack import Stack, StackConfig, start_moto
from tests.support.net import free_port
from tests.support.shop import Shop

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# Fast-moving settings for tests: short long-polls and backoffs, quick span export.
TEST_ENV = {
    "CONSUMER_WAIT_SECONDS": "1",
    "CONSUMER_RETRY_BASE_SECONDS": "0",
    "QUEUE_DEPTH_INTERVAL_SECONDS": "1",
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "STATSD_HOST": "none",
    "LOG_LEVEL": "info",
}


@pytest.fixture(scope="session")
def moto_port() -> Iterator[int]:
    port = free_port()
    process = start_moto(port)
    yield port
    process.stop(10)


ShopFactory = Callable[..., Shop]


def make_shop(
    moto_port: int,
    services: tuple[str, ...] = ("producer", "consumer"),
    env: dict[str, str] | None = None,
    per_service_env: dict[str, dict[str, str]] | None = None,
    aws_port: int | None = None,
    max_receive_count: int = 5,
    visibility_seconds: int = 30,
) -> Shop:
    """Provision fresh queue/DLQ/table names and start ``services`` on free ports.

    ``aws_port`` points the services at another endpoint (e.g. a proxy in front of moto) while
    provisioning still goes to moto directly. The caller stops ``shop.stack``.
    """
    suffix = uuid.uuid4().hex[:8]
    names = {
        "ORDERS_QUEUE_NAME": f"orders-{suffix}",
        "ORDERS_DLQ_NAME": f"orders-dlq-{suffix}",
        "ORDERS_TABLE_NAME": f"orders-{suffix}",
    }
    config = StackConfig(
        aws_port=moto_port,
        producer_port=free_port(),
        consumer_port=free_port(),
        frontend_port=free_port(),
        services=(),
        env={**TEST_ENV, **names, **(env or {})},
        per_service_env=per_service_env or {},
        manage_endpoint=False,
    )
    stack = Stack(config)
    shop = Shop(
        stack, names["ORDERS_QUEUE_NAME"], names["ORDERS_DLQ_NAME"], names["ORDERS_TABLE_NAME"]
    )
    stack.start(max_receive_count=max_receive_count, visibility_seconds=visibility_seconds)
    if aws_port is not None:
        config.aws_port = aws_port
    try:
        for name in services:
            stack.start_service(name)
    except BaseException:
        stack.stop()
        raise
    return shop


@pytest.fixture
def shop_factory(moto_port: int) -> Iterator[ShopFactory]:
    """Start stacks with ``shop_factory(services=..., env={...}, ...)``; all stopped at the end."""
    shops: list[Shop] = []

    def start(**kwargs: Any) -> Shop:
        shop = make_shop(moto_port, **kwargs)
        shops.append(shop)
        return shop

    yield start
    for shop in shops:
        shop.stack.stop()


@pytest.fixture
def shop(shop_factory: ShopFactory) -> Shop:
    """Producer and consumer with default test settings."""
    return shop_factory()
