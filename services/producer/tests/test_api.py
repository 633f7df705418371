"""The HTTP API through Flask's test client, with fakes passed in through the factory."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from lantern.aws import endpoint_down
from lantern.orders import MAX_BODY_BYTES
from producer.fakes import FakeIdempotencyStore, FakeQueue

LINE_OF_60 = {"sku": "LNT-001", "quantity": 60}
ORDER = {"customer": {"name": "Ada", "email": "ada@example.com"}, "items": [LINE_OF_60]}
ORDER_WITH_NAME = '{"customer": {"name": "%s", "email": "ada@example.com"}, "items": []}'


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
        # 30,000 levels in 60 KB: refused before the parser recurses (it was a 500)
        ({"data": "[" * 30000 + "]" * 30000, "content_type": "application/json"}, 400, "too_deep"),
        # an unpaired surrogate cannot be stored: refused here, not dead-lettered later
        (
            {"data": ORDER_WITH_NAME % "Ada\\ud800", "content_type": "application/json"},
            422,
            "invalid_text",
        ),
        ({"json": {**ORDER, "items": [LINE_OF_60, LINE_OF_60]}}, 422, "invalid_quantity"),
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


@pytest.mark.parametrize(("size", "status"), [(MAX_BODY_BYTES, 400), (2 * 1024 * 1024, 413)])
def test_a_chunked_body_over_the_limit_is_413_not_a_truncated_parse(
    app: Flask, queue: FakeQueue, size: int, status: int
) -> None:
    """No Content-Length (chunked, as gunicorn passes it on): the stream is read one byte past
    the limit, so a body at the limit is parsed (here: not JSON, 400) and a longer one is 413."""
    response = app.test_client().post(
        "/orders",
        input_stream=io.BytesIO(b"x" * size),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == status
    assert response.get_json()["error"] == (
        "invalid_json" if status == 400 else "payload_too_large"
    )
    assert queue.sent == []


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


@pytest.mark.parametrize(
    ("headers", "advice"), [({"Idempotency-Key": "k1"}, "safe"), ({}, "second")]
)
def test_an_unconfirmed_send_is_504_outcome_unknown_never_nothing_was_enqueued(
    app: Flask, queue: FakeQueue, body: Any, headers: dict[str, str], advice: str
) -> None:
    queue.unanswered = 1
    response = app.test_client().post("/orders", json=body(), headers=headers)
    assert response.status_code == 504
    answer = response.get_json()
    assert answer["error"] == "outcome_unknown"
    assert answer["order_id"] == queue.sent[0].order_id
    assert advice in answer["detail"]
    assert "nothing was enqueued" not in answer["detail"]
    assert response.headers["Retry-After"] == "2"
