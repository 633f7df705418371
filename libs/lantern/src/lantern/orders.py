"""The order domain: validate a request, price it from the catalog, describe the result.

Pure functions and value objects only: no I/O, so every rule here is unit-tested without a network.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from lantern.catalog import Catalog

MAX_BODY_BYTES = 64 * 1024
# An order nests three levels ({"items": [{...}]}); anything far deeper is an attack on the
# parser, refused before it recurses.
MAX_JSON_DEPTH = 16
MAX_LINES = 50
MIN_QUANTITY, MAX_QUANTITY = 1, 99
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is the mail
# server's business; this only stops obvious typos and junk.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_ORDER_ID = re.compile(r"^ord_[0-9a-f]{32}$")


class OrderRejected(ValueError):
    """A request that must not become an order. ``code`` is stable and used as a metric label."""

    def __init__(self, code: str, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
# Lone surrogates (JSON's \uD800 escapes can produce them) cannot be stored or encoded, and
# control characters have no place in a name: refused rather than carried to the store.
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def decode_json_body(body: bytes) -> object:
    """The decoded request body, or OrderRejected (400): not JSON, or nested too deep."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', body)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_JSON_DEPTH:
        raise OrderRejected("too_deep", f"the body nests deeper than {MAX_JSON_DEPTH} levels", 400)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise OrderRejected("invalid_json", "the body is not valid JSON", 400) from None


class PricedLine(Protocol):
    @property
    def quantity(self) -> int: ...

    @property
    def total_cents(self) -> int: ...


class LineTotals:
    """The totals of anything made of priced ``lines``: an order, its record, a cart."""

    lines: Sequence[PricedLine]

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class Customer:
    name: str
    email: str


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class Order(LineTotals):
    order_id: str
    customer: Customer
    lines: tuple[OrderLine, ...]
    accepted_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "customer": {"name": self.customer.name, "email": self.customer.email},
            "lines": lines_to_json(self.lines),
            "total_cents": self.total_cents,
            "accepted_at": self.accepted_at,
        }

    def sanitised(self) -> Order:
        """The order with every character the store cannot hold in its text replaced by U+FFFD
        (the producer refuses such orders; this is for a message that carries one anyway)."""
        name, email = (
            _NOT_TEXT.sub("\ufffd", text) for text in (self.customer.name, self.customer.email)
        )
        return replace(self, customer=Customer(name=name, email=email))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Order:
        """Rebuild an order from :meth:`to_json` output; raises KeyError/TypeError/ValueError."""
        customer = data["customer"]
        return cls(
            order_id=_checked_order_id(data["order_id"]),
            customer=Customer(name=str(customer["name"]), email=str(customer["email"])),
            lines=lines_from_json(data["lines"]),
            accepted_at=float(data["accepted_at"]),
        )


RECORDED_STATUSES = ("fulfilled", "failed")


@dataclass(frozen=True)
class Delivery:
    """How the message that carried an order reached the consumer, in epoch seconds: when SQS
    took it (``SentTimestamp``, on SQS's clock), when SQS first handed it out
    (``ApproximateFirstReceiveTimestamp``), how often it was handed out (this delivery
    included), and when the consumer started and finished the work of this delivery (before
    the write that made the record)."""

    sent_at: float | None = None
    first_received_at: float | None = None
    receive_count: int = 1
    started_at: float | None = None
    worked_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivery:
        """Rebuild from :meth:`to_json` output; raises TypeError/ValueError."""

        def moment(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(
            sent_at=moment("sent_at"),
            first_received_at=moment("first_received_at"),
            receive_count=_strict_int(data.get("receive_count", 1)),
            started_at=moment("started_at"),
            worked_at=moment("worked_at"),
        )


@dataclass(frozen=True)
class OrderRecord(LineTotals):
    """An order as the consumer recorded it: what the table holds, the consumer's API returns
    and the storefront's order page shows. The customer's email is not part of it."""

    order_id: str
    status: str  # one of RECORDED_STATUSES
    customer_name: str
    lines: tuple[OrderLine, ...]
    accepted_at: float
    recorded_at: float
    message_id: str
    trace_id: str | None = None
    delivery: Delivery | None = None  # records written before deliveries were kept have none

    @classmethod
    def of(
        cls,
        order: Order,
        status: str,
        *,
        message_id: str,
        trace_id: str | None,
        recorded_at: float,
        delivery: Delivery | None = None,
    ) -> OrderRecord:
        return cls(
            order_id=order.order_id,
            status=_checked_status(status),
            customer_name=order.customer.name,
            lines=order.lines,
            accepted_at=order.accepted_at,
            recorded_at=recorded_at,
            message_id=message_id,
            trace_id=trace_id,
            delivery=delivery,
        )

    @property
    def pipeline_seconds(self) -> float:
        """From the producer's acceptance to the consumer's write."""
        return self.recorded_at - self.accepted_at

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "order_id": self.order_id,
            "status": self.status,
            "customer_name": self.customer_name,
            "lines": lines_to_json(self.lines),
            "total_cents": self.total_cents,
            "accepted_at": self.accepted_at,
            "recorded_at": self.recorded_at,
            "message_id": self.message_id,
        }
        if self.trace_id:
            data["trace_id"] = self.trace_id
        if self.delivery is not None:
            data["delivery"] = self.delivery.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderRecord:
        """Rebuild a record from :meth:`to_json` output; raises KeyError/TypeError/ValueError."""
        trace_id = data.get("trace_id")
        delivery = data.get("delivery")
        if delivery is not None and not isinstance(delivery, Mapping):
            raise TypeError("delivery must be an object")
        return cls(
            order_id=_checked_order_id(data["order_id"]),
            status=_checked_status(data["status"]),
            customer_name=str(data["customer_name"]),
            lines=lines_from_json(data["lines"]),
            accepted_at=float(data["accepted_at"]),
            recorded_at=float(data["recorded_at"]),
            message_id=str(data["message_id"]),
            trace_id=str(trace_id) if trace_id else None,
            delivery=None if delivery is None else Delivery.from_json(delivery),
        )


def lines_to_json(lines: tuple[OrderLine, ...]) -> list[dict[str, Any]]:
    return [asdict(line) for line in lines]


def lines_from_json(raw: object) -> tuple[OrderLine, ...]:
    """Order lines from their JSON form; raises KeyError/TypeError/ValueError."""
    if not isinstance(raw, list):
        raise TypeError("lines must be a list")
    return tuple(
        OrderLine(
            sku=str(line["sku"]),
            name=str(line["name"]),
            quantity=_strict_int(line["quantity"]),
            unit_price_cents=_strict_int(line["unit_price_cents"]),
        )
        for line in raw
    )


def _strict_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"not an integer: {value!r}")
    return int(value)


def _checked_status(value: object) -> str:
    if value not in RECORDED_STATUSES:
        raise ValueError(f"not a recorded status: {value!r}")
    return str(value)


def is_text(value: str) -> bool:
    """Printable Unicode a store can hold: no control characters, no unpaired surrogates."""
    return _NOT_TEXT.search(value) is None


def is_email(value: str) -> bool:
    """The shape every service accepts as an email address (see ``_EMAIL``)."""
    return len(value) <= MAX_EMAIL_CHARS and bool(_EMAIL.match(value))


def new_order_id() -> str:
    return f"ord_{uuid.uuid4().hex}"


def is_order_id(value: str) -> bool:
    return bool(_ORDER_ID.match(value))


def _checked_order_id(value: object) -> str:
    if not isinstance(value, str) or not is_order_id(value):
        raise ValueError(f"not an order id: {value!r}")
    return value


def _require(payload: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in payload:
        raise OrderRejected("missing_field", f"{where}{key} is required")
    value = payload[key]
    # bool is an int subclass; a quantity of `true` is a type error, not 1.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise OrderRejected("invalid_type", f"{where}{key} must be {kind.__name__}")
    return value


def _parse_customer(payload: dict[str, Any]) -> Customer:
    customer = _require(payload, "customer", dict, "")
    name = _require(customer, "name", str, "customer.").strip()
    email = _require(customer, "email", str, "customer.").strip()
    for key, value in (("name", name), ("email", email)):
        if not is_text(value):
            raise OrderRejected(
                "invalid_text",
                f"customer.{key} must be printable Unicode text (no control characters"
                " or unpaired surrogates)",
            )
    if not name or len(name) > MAX_NAME_CHARS:
        raise OrderRejected("invalid_name", f"customer.name must be 1-{MAX_NAME_CHARS} characters")
    if not is_email(email):
        raise OrderRejected("invalid_email", "customer.email is not an email address")
    return Customer(name=name, email=email)


def _parse_lines(payload: dict[str, Any], catalog: Catalog) -> tuple[OrderLine, ...]:
    items = _require(payload, "items", list, "")
    if not 1 <= len(items) <= MAX_LINES:
        raise OrderRejected("invalid_item_count", f"items must hold 1-{MAX_LINES} entries")
    lines = []
    for index, item in enumerate(items):
        where = f"items[{index}]."
        if not isinstance(item, dict):
            raise OrderRejected("invalid_type", f"items[{index}] must be an object")
        sku = _require(item, "sku", str, where)
        quantity = _require(item, "quantity", int, where)
        product = catalog.get(sku)
        if product is None:
            raise OrderRejected("unknown_sku", f"{where}sku {sku!r} is not in the catalog")
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise OrderRejected(
                "invalid_quantity", f"{where}quantity must be {MIN_QUANTITY}-{MAX_QUANTITY}"
            )
        lines.append(OrderLine(sku, product.name, quantity, product.price_cents))
    _check_quantity_per_product(lines)
    return tuple(lines)


def _check_quantity_per_product(lines: Sequence[OrderLine]) -> None:
    """The quantity limit holds per product, not per line: 60 + 60 of one SKU is 120."""
    units: dict[str, int] = {}
    for line in lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    over = sorted(sku for sku, total in units.items() if total > MAX_QUANTITY)
    if over:
        raise OrderRejected(
            "invalid_quantity",
            f"at most {MAX_QUANTITY} units of a product per order, over all its lines"
            f" ({', '.join(f'{sku}: {units[sku]}' for sku in over)})",
        )


def build_order(payload: object, catalog: Catalog, order_id: str | None = None) -> Order:
    """Validate a decoded JSON request and price it. Raises :class:`OrderRejected`."""
    if not isinstance(payload, dict):
        raise OrderRejected("invalid_type", "the body must be a JSON object")
    return Order(
        order_id=order_id or new_order_id(),
        customer=_parse_customer(payload),
        lines=_parse_lines(payload, catalog),
    )
