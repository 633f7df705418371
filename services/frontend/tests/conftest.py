"""Storefront tests build the app with the factory and settings passed in.

The producer and consumer are either real clients pointed at a closed port (a real failure, no
mock), or small in-memory services passed in through the factory when a test needs answers.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from frontend.app import create_app
from frontend.clients import Placed, Unavailable
from frontend.settings import FrontendSettings
from lantern.orders import OrderRecord

SECRET = "test-secret-key-that-is-long-enough"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_CHECKOUT_ID = re.compile(r'name="checkout_id" value="([0-9a-f]{32})"')


def closed_port() -> int:
    """A loopback port with nothing listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class InMemoryProducer:
    """Accepts orders like the producer does (one order per Idempotency-Key), or fails on cue."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], str]] = []
        self.orders: dict[str, str] = {}
        self.failures: list[Exception] = []
        self.metrics = ""

    def place(self, payload: dict[str, Any], idempotency_key: str) -> Placed:
        self.calls.append((payload, idempotency_key))
        if self.failures:
            raise self.failures.pop(0)
        replayed = idempotency_key in self.orders
        order_id = self.orders.setdefault(idempotency_key, f"ord_{len(self.orders) + 1:032x}")
        return Placed(order_id, replayed=replayed)

    def metrics_text(self) -> str:
        if not self.metrics:
            raise Unavailable("no metrics")
        return self.metrics


class InMemoryConsumer:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}  # order id -> the consumer API's JSON
        self.recent_items: list[dict[str, Any]] = []
        self.metrics = ""

    def order(self, order_id: str) -> OrderRecord | None:
        record = self.records.get(order_id)
        return None if record is None else OrderRecord.from_json(record)

    def recent(self) -> list[dict[str, Any]]:
        return self.recent_items

    def metrics_text(self) -> str:
        if not self.metrics:
            raise Unavailable("no metrics")
        return self.metrics


def settings_for(**env: str) -> FrontendSettings:
    down = f"http://127.0.0.1:{closed_port()}"
    base = {
        "SECRET_KEY": SECRET,
        "PRODUCER_URL": down,
        "CONSUMER_URL": down,
        "STATSD_HOST": "none",
        "TRACING_MODE": "off",
        "LOG_FORMAT": "json",
        "UPSTREAM_TIMEOUT_SECONDS": "2",
    }
    return FrontendSettings.from_env({**base, **env})


AppFactory = Callable[..., Flask]


@pytest.fixture
def producer() -> InMemoryProducer:
    return InMemoryProducer()


@pytest.fixture
def consumer() -> InMemoryConsumer:
    return InMemoryConsumer()


@pytest.fixture
def make_app() -> AppFactory:
    """``make_app(producer=..., consumer=..., **env)``; services left out are real and down."""

    def build(producer: Any = None, consumer: Any = None, **env: str) -> Flask:
        app = create_app(settings_for(**env), producer=producer, consumer=consumer)
        app.config["TESTING"] = True
        return app

    return build


@pytest.fixture
def app(make_app: AppFactory, producer: InMemoryProducer, consumer: InMemoryConsumer) -> Flask:
    return make_app(producer=producer, consumer=consumer)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Shopper:
    """A visitor with a browser session: reads CSRF tokens from pages and submits forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str) -> TestResponse:
        return self.client.get(path)

    def token(self, path: str = "/") -> str:
        match = _TOKEN.search(self.client.get(path).get_data(as_text=True))
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> TestResponse:
        form = {"csrf_token": self.token(), **data} if csrf else data
        return self.client.post(path, data=form)

    def add(self, sku: str, quantity: int = 1) -> TestResponse:
        response = self.post("/cart/add", {"sku": sku, "quantity": str(quantity)})
        assert response.status_code == 303, response.get_data(as_text=True)
        return response

    def checkout_id(self) -> str:
        match = _CHECKOUT_ID.search(self.client.get("/checkout").get_data(as_text=True))
        assert match, "no checkout_id on /checkout"
        return match.group(1)

    def checkout(
        self, name: str = "Ada Lovelace", email: str = "ada@example.com", key: str | None = None
    ) -> TestResponse:
        key = key or self.checkout_id()
        return self.post("/checkout", {"name": name, "email": email, "checkout_id": key})


@pytest.fixture
def shopper(client: FlaskClient) -> Shopper:
    return Shopper(client)


@pytest.fixture
def shopper_for(make_app: AppFactory) -> Callable[..., Shopper]:
    """A shopper on an app built with ``make_app(**kwargs)`` (e.g. with real, down services)."""
    return lambda **kwargs: Shopper(make_app(**kwargs).test_client())
