"""The SQS message envelope: the order body and the trace-context carriers around it.

Body: ``{"schema": "lantern.order/v1", "order": {...}}``.
Message attributes: W3C ``traceparent`` (+ ``tracestate``/``baggage`` when present) written by
the OpenTelemetry propagator, plus ``order_id``. SQS allows 10 attributes per message; we use at
most four. The X-Ray header travels separately as the ``AWSTraceHeader`` system attribute.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry.propagators.textmap import Getter, Setter

from lantern.orders import Order

SCHEMA = "lantern.order/v1"
MAX_MESSAGE_ATTRIBUTES = 10
TRACE_ATTRIBUTES = ("traceparent", "tracestate", "baggage")

MessageAttributes = MutableMapping[str, dict[str, str]]


class PoisonMessage(ValueError):
    """A message body that can never become an order, however often it is redelivered."""


def encode_order(order: Order) -> str:
    return json.dumps({"schema": SCHEMA, "order": order.to_json()}, separators=(",", ":"))


def decode_order(body: str) -> Order:
    try:
        envelope = json.loads(body)
        if envelope.get("schema") != SCHEMA:
            raise PoisonMessage(f"unknown schema {envelope.get('schema')!r}")
        return Order.from_json(envelope["order"])
    except PoisonMessage:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PoisonMessage(f"undecodable order message: {exc}") from exc


def string_attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


class AttributeSetter(Setter[MessageAttributes]):
    """Writes propagator fields into SQS ``MessageAttributes``, never past the SQS limit."""

    def set(self, carrier: MessageAttributes, key: str, value: str) -> None:
        if key in carrier or len(carrier) < MAX_MESSAGE_ATTRIBUTES:
            carrier[key] = string_attribute(value)


class AttributeGetter(Getter[Mapping[str, Any]]):
    """Reads propagator fields from the ``MessageAttributes`` of a received message."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        attribute = carrier.get(key)
        if not isinstance(attribute, Mapping):
            return None
        value = attribute.get("StringValue")
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return list(carrier.keys())


ATTRIBUTE_SETTER = AttributeSetter()
ATTRIBUTE_GETTER = AttributeGetter()
