"""HTTP routes of the order API."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from lantern.logs import bind
from lantern.orders import MAX_BODY_BYTES, OrderRejected, decode_json_body
from lantern.web import json_error
from producer.service import OrderService, OutcomeUnknown, QueueUnavailable
from producer.signals import ProducerSignals


def _read_json() -> object:
    """The decoded JSON body, or OrderRejected with the right status."""
    if not request.is_json:
        raise OrderRejected("unsupported_media_type", "send Content-Type: application/json", 415)
    body = _read_body()
    if body is None:
        raise OrderRejected(
            "payload_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes", 413
        )
    return decode_json_body(body)


def _read_body() -> bytes | None:
    """The body, or None when it is longer than MAX_BODY_BYTES, however it is framed: a
    chunked body has no Content-Length, so reading one byte past the limit is the only test."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= MAX_BODY_BYTES:
            chunk = request.stream.read(MAX_BODY_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        return None
    return b"".join(chunks) if size <= MAX_BODY_BYTES else None


def _outcome_unknown(order_id: str, *, keyed: bool) -> tuple[Response, int]:
    """504: SQS may have taken the order. With a key a retry is safe (the same order id is sent
    again and fulfilled once); without one, a retry may place a second order."""
    retry = (
        "retry with the same Idempotency-Key: it is safe, the order is fulfilled at most once"
        if keyed
        else "a retry without an Idempotency-Key may place a second order"
    )
    detail = f"the order queue did not confirm the order; it may be queued; {retry}"
    response = jsonify(error="outcome_unknown", detail=detail, order_id=order_id)
    response.headers["Retry-After"] = "2"
    return response, 504


def create_blueprint(service: OrderService, signals: ProducerSignals) -> Blueprint:
    api = Blueprint("orders", __name__)

    @api.post("/orders")
    def create_order() -> tuple[Response, int]:
        try:
            payload = _read_json()
        except OrderRejected as rejected:
            signals.rejected(rejected.code)
            bind(rejected=rejected.code)
            return json_error(rejected.status, rejected.code, rejected.detail)
        try:
            placed = service.place(payload, request.headers.get("Idempotency-Key"))
        except OrderRejected as rejected:
            bind(rejected=rejected.code)
            return json_error(rejected.status, rejected.code, rejected.detail)
        except QueueUnavailable:
            bind(rejected="queue_unavailable")
            response, status = json_error(
                503,
                "queue_unavailable",
                "the order queue is unreachable; nothing was enqueued, retry later",
            )
            response.headers["Retry-After"] = "2"
            return response, status
        except OutcomeUnknown as unknown:
            bind(rejected="outcome_unknown", order_id=unknown.order_id)
            return _outcome_unknown(unknown.order_id, keyed="Idempotency-Key" in request.headers)
        bind(order_id=placed.order_id, replayed=placed.replayed)
        response = jsonify(order_id=placed.order_id, status="queued")
        if placed.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response, 202

    @api.get("/products")
    def list_products() -> Response:
        return jsonify(service.catalog.to_json())

    @api.get("/products/<sku>")
    def get_product(sku: str) -> Response | tuple[Response, int]:
        product = service.catalog.get(sku)
        if product is None:
            return json_error(404, "not_found", f"no product {sku!r}")
        return jsonify(product.to_json())

    return api
