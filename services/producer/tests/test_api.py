"""The HTTP API through Flask's test client, with fakes passed in through the factory."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from lantern.aws import endpoint_down
from producer.fakes import FakeIdempotencyStore, FakeQueue


def test_an_order_is_accepted_with_202_and_its_id(app: Flask, queue: FakeQueue, body: Any) -> None:
    response = app.test_client().post("/orders", json=body())
    assert response.status_code == 202
    assert response.get_json() == {"order_id": queue.sent[0].order_id, "status": "queued"}


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": "x", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": "[" * 70000, "content_type": "application/json"}, 413, "payload_too_large"),
        ({"json": {"items": []}}, 422, "missing_field"),
        ({"json": [1]}, 422, "invalid_type"),
    ],
)
def test_bad_input_is_a_json_4xx_and_nothing_is_enqueued(
    app: Flask, queue: FakeQueue, counts: Any, kwargs: Any, status: int, code: str
) -> None:
    response = app.test_client().post("/orders", **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"] == code
    assert queue.sent == []
    assert counts() == (0.0, {code: 1.0})


def test_a_replay_answers_the_same_id_with_the_replayed_header(
    app: Flask, queue: FakeQueue, body: Any
) -> None:
    client = app.test_client()
    first = client.post("/orders", json=body(), headers={"Idempotency-Key": "k1"})
    again = client.post("/orders", json=body(), headers={"Idempotency-Key": "k1"})
    assert again.status_code == 202
    assert again.get_json()["order_id"] == first.get_json()["order_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(queue.sent) == 1


def test_the_queue_down_is_503_with_retry_after(
    app: Flask, queue: FakeQueue, body: Any, log_lines: list[dict[str, Any]]
) -> None:
    queue.failures.append(endpoint_down())
    response = app.test_client().post("/orders", json=body())
    assert response.status_code == 503
    assert response.get_json()["error"] == "queue_unavailable"
    assert response.headers["Retry-After"] == "2"
    request_line = next(line for line in log_lines if line["event"] == "request")
    assert (request_line["status"], request_line["rejected"]) == (503, "queue_unavailable")


def test_readiness_reports_each_dependency(
    app: Flask, queue: FakeQueue, store: FakeIdempotencyStore
) -> None:
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    queue.down = endpoint_down()
    app.extensions["lantern"]._ready_cache = (0.0, {})  # skip the 2-second cache
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["dynamodb"] == "ok"
    assert checks["sqs"].startswith("EndpointConnectionError")
