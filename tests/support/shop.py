"""A running stack under test, with the calls tests make against it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from prometheus_client.parser import text_string_to_metric_families

from devstack import Stack
from load.store import scan
from tests.support.net import http, wait_for


def order_payload(*items: tuple[str, int], name: str = "Ada Lovelace") -> dict[str, Any]:
    lines = items or (("LNT-001", 1),)
    return {
        "customer": {"name": name, "email": "ada@example.com"},
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
    }


def queue_counts(sqs: Any, name: str) -> tuple[int, int]:
    """(visible, in flight) approximate message counts of queue ``name``."""
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


@dataclass
class Shop:
    stack: Stack
    queue_name: str
    dlq_name: str
    table_name: str

    @property
    def producer(self) -> str:
        return self.stack.config.url("producer")

    @property
    def consumer(self) -> str:
        return self.stack.config.url("consumer")

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, region_name="us-east-1", endpoint_url=self.stack.config.endpoint_url
        )

    def place(self, payload: dict[str, Any] | None = None, **headers: str) -> str:
        status, _, body = http(
            "POST", f"{self.producer}/orders", payload or order_payload(), headers
        )
        assert status == 202, body
        order_id: str = json.loads(body)["order_id"]
        return order_id

    def order(self, order_id: str) -> dict[str, Any] | None:
        status, _, body = http("GET", f"{self.consumer}/orders/{order_id}")
        return json.loads(body) if status == 200 else None

    def wait_fulfilled(self, order_id: str, timeout: float = 15.0) -> dict[str, Any]:
        return wait_for(lambda: self.order(order_id), timeout, what=f"order {order_id}")

    def queue_counts(self, name: str | None = None) -> tuple[int, int]:
        """(visible, in flight) of the orders queue (or ``name``)."""
        return queue_counts(self.client("sqs"), name or self.queue_name)

    def stored_orders(self) -> list[dict[str, Any]]:
        """Every order record in the table (idempotency records excluded)."""
        items = scan(self.client("dynamodb"), self.table_name)
        return [i for i in items if i["pk"]["S"].startswith("ord_")]

    def processed(self, outcome: str) -> float:
        """The consumer's ``orders_processed_total{outcome=...}``, scraped from /metrics."""
        _, _, body = http("GET", f"{self.consumer}/metrics")
        wanted = ("orders_processed_total", {"outcome": outcome})
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                if (sample.name, sample.labels) == wanted:
                    return float(sample.value)
        return 0.0
