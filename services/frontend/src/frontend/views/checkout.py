"""Checkout: the form, its validation, and the one call that places an order with the producer.

Each rendering of the form carries a fresh ``checkout_id`` that becomes the producer's
``Idempotency-Key``: a double click, a reload of the POST or a retry after "ordering is paused"
sends the same key, so one checkout can never become two orders.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from opentelemetry import trace
from werkzeug.wrappers import Response

from frontend import cart
from frontend.clients import OrderIntake, Placed, Refused, Unavailable, Unconfirmed
from frontend.sessions import load_cart, remember_order, save_cart
from frontend.signals import FrontendSignals
from frontend.views import forms
from lantern.catalog import Catalog
from lantern.logs import bind, current_trace_ids
from lantern.orders import MAX_NAME_CHARS, OrderRejected, build_order, is_email

_CHECKOUT_ID = re.compile(r"^[0-9a-f]{32}$")
# Waits between tries with the same key: a twin request finishing, or an unconfirmed send
# being resent by the producer under the same order id.
RETRY_WAITS = (0.2, 0.4, 0.8, 1.6)
FIELD_OF_CODE = {"invalid_name": "name", "invalid_email": "email"}
Rendered = tuple[str, int] | Response
DETAILS_CHANGED = (
    "Your details changed since you last pressed the button. "
    "Please check them and place the order again."
)
UNCONFIRMED = (
    "We could not confirm your order: it may have been placed. Pressing the button again is "
    "safe, this checkout can never become two orders."
)
NOT_PLACED = (
    "Something went wrong on our side and the order was not placed. "
    "Your cart is kept; please try again."
)


def new_checkout_id() -> str:
    return uuid.uuid4().hex


def validate_customer(name: str, email: str) -> dict[str, str]:
    """Inline messages by field; the producer applies the same rules again."""
    errors = {}
    if not name:
        errors["name"] = "Please tell us your name."
    elif len(name) > MAX_NAME_CHARS:
        errors["name"] = f"Please use at most {MAX_NAME_CHARS} characters."
    if not email:
        errors["email"] = "Please enter your email address."
    elif not is_email(email):
        errors["email"] = "That does not look like an email address (like ada@example.com)."
    return errors


def _place(producer: OrderIntake, payload: dict[str, Any], key: str) -> Placed:
    """Place the order. With the same key, retry while the outcome is unknown (the producer
    then sends the same order id again) or a twin submission is in progress. Once a try was
    unconfirmed, a later refusal to connect or a key still in progress (the stalled first
    request holds it) leaves it unconfirmed: never "nothing was ordered"."""
    unconfirmed: Unconfirmed | None = None
    for wait in (*RETRY_WAITS, None):
        try:
            return producer.place(payload, key)
        except Unconfirmed as exc:
            unconfirmed = exc
        except (Unavailable, Refused) as exc:
            in_progress = isinstance(exc, Refused) and exc.status == 409
            retry_in_progress = in_progress and wait is not None
            if _refused_for_good(exc) or (unconfirmed is None and not retry_in_progress):
                raise
        if wait is None:
            break
        time.sleep(wait)
    if unconfirmed is None:
        raise AssertionError("unreachable: the last try either returned or raised")
    raise unconfirmed


def _refused_for_good(exc: Exception) -> bool:
    """A 4xx other than 409 (in progress) is the producer's final word on this request."""
    return isinstance(exc, Refused) and exc.status != 409


def create_blueprint(
    catalog: Catalog, producer: OrderIntake, signals: FrontendSignals
) -> Blueprint:
    checkout = Blueprint("checkout", __name__)

    def form(
        priced: cart.PricedCart,
        *,
        status: int = 200,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        problem: str | None = None,
        checkout_id: str | None = None,
        paused: bool = False,
    ) -> tuple[str, int]:
        page = render_template(
            "checkout.html",
            cart=priced,
            values=values or {"name": "", "email": ""},
            errors=errors or {},
            problem=problem,
            paused=paused,
            checkout_id=checkout_id or new_checkout_id(),
        )
        return page, status

    def finish(outcome: str, **fields: Any) -> None:
        signals.checkout(outcome)
        trace.get_current_span().set_attribute("lantern.checkout.outcome", outcome)
        bind(checkout=outcome, **fields)

    @checkout.get("/checkout")
    def show() -> Rendered:
        priced = cart.price(load_cart(catalog), catalog)
        if not priced:
            return redirect(url_for("shop.view_cart"))
        return form(priced)

    @checkout.post("/checkout")
    def submit() -> Rendered:
        priced = cart.price(load_cart(catalog), catalog)
        values = {"name": forms.text("name"), "email": forms.text("email")}
        key = forms.text("checkout_id")
        key = key if _CHECKOUT_ID.match(key) else new_checkout_id()
        if not priced:
            finish("invalid", reason="empty_cart")
            flash("Your cart is empty, so there is nothing to check out yet.", "error")
            return redirect(url_for("shop.view_cart"), 303)
        errors = validate_customer(values["name"], values["email"])
        if errors:
            finish("invalid", reason="form")
            return form(priced, status=422, values=values, errors=errors, checkout_id=key)
        payload = {
            "customer": {"name": values["name"], "email": values["email"]},
            "items": priced.order_items(),
        }
        try:
            build_order(payload, catalog)  # the producer's own rules, before any network call
            placed = _place(producer, payload, key)
        except OrderRejected as rejected:
            finish("invalid", reason=rejected.code)
            return form(priced, status=422, values=values, problem=rejected.detail)
        except Unavailable as exc:
            finish("paused", error=str(exc)[:200])
            page, status = form(priced, status=503, values=values, checkout_id=key, paused=True)
            response = Response(page, status, mimetype="text/html")
            response.headers["Retry-After"] = "5"
            return response
        except Unconfirmed as exc:
            finish("unconfirmed", error=str(exc)[:200])
            page, status = form(
                priced, status=503, values=values, problem=UNCONFIRMED, checkout_id=key
            )
            response = Response(page, status, mimetype="text/html")
            response.headers["Retry-After"] = "5"
            return response
        except Refused as refused:
            return refused_page(priced, values, key, refused)
        return placed_page(priced, placed)

    def refused_page(
        priced: cart.PricedCart, values: dict[str, str], key: str, refused: Refused
    ) -> tuple[str, int]:
        if refused.code == "idempotency_key_reused":
            finish("invalid", reason=refused.code)
            return form(priced, status=422, values=values, problem=DETAILS_CHANGED)
        field = FIELD_OF_CODE.get(refused.code)
        if refused.status == 422 and field is not None:
            finish("invalid", reason=refused.code)
            errors = {field: refused.detail}
            return form(priced, status=422, values=values, errors=errors, checkout_id=key)
        finish("error", reason=refused.code, upstream_status=refused.status)
        return form(priced, status=502, values=values, problem=NOT_PLACED, checkout_id=key)

    def placed_page(priced: cart.PricedCart, placed: Placed) -> Response:
        trace.get_current_span().set_attribute("lantern.order.id", placed.order_id)
        finish("placed", order_id=placed.order_id, replayed=placed.replayed)
        trace_id = current_trace_ids()[0]
        remember_order(placed.order_id, trace_id, priced.total_cents, priced.item_count)
        save_cart({})
        return redirect(url_for("orders.show", order_id=placed.order_id), 303)

    return checkout
