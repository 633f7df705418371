"""HTTP clients for the producer and the consumer: the storefront's only outbound calls.

Calls go through ``requests``, which the telemetry setup instruments, so every call is a client
span and carries the trace context to the service it calls. Any network failure or 5xx surfaces
as :class:`Unavailable`, the one thing views need to know to show a friendly page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import requests
import urllib3

from lantern.orders import OrderRecord

CONNECT_TIMEOUT_SECONDS = 1.0


class Unavailable(Exception):
    """The service did not answer usefully (refused, timed out, 5xx)."""


class Unconfirmed(Exception):
    """The order may have been placed: the producer said so (504 outcome_unknown), or the request
    reached it and no answer came back (a read timeout, a dropped connection, another 5xx). A
    retry with the same Idempotency-Key is safe; "nothing was ordered" would not be true."""


class Refused(Exception):
    """The producer answered 4xx: the order was not accepted."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.detail = status, code, detail


@dataclass(frozen=True)
class Placed:
    order_id: str
    replayed: bool


class OrderIntake(Protocol):
    """What checkout needs from the producer."""

    def place(self, payload: dict[str, Any], idempotency_key: str) -> Placed: ...

    def metrics_text(self) -> str: ...


class OrderStatus(Protocol):
    """What the order and pipeline pages need from the consumer."""

    def order(self, order_id: str) -> OrderRecord | None: ...

    def recent(self) -> list[dict[str, Any]]: ...

    def metrics_text(self) -> str: ...


class _Service:
    def __init__(self, base_url: str, timeout: float, session: requests.Session | None) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = (min(CONNECT_TIMEOUT_SECONDS, timeout), timeout)
        self._http = session or requests.Session()

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The bare call: raises what requests raises."""
        return self._http.request(method, f"{self._base}{path}", timeout=self._timeout, **kwargs)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self._send(method, path, **kwargs)
        except requests.RequestException as exc:
            raise Unavailable(f"{method} {path}: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise Unavailable(f"{method} {path}: HTTP {response.status_code}")
        return response

    def metrics_text(self) -> str:
        response = self._request("GET", "/metrics")
        if response.status_code != 200:
            raise Unavailable(f"GET /metrics: HTTP {response.status_code}")
        return response.text


def _json(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError as exc:
        raise Unavailable(f"{response.request.method} {response.url}: not JSON") from exc


def _error_body(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "http_error", response.text[:200]
    if not isinstance(body, dict):
        return "http_error", ""
    return str(body.get("error", "http_error")), str(body.get("detail", ""))


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request certainly never reached the service (refused, or no connection in
    time), as opposed to failing after it was sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or not exc.args:
        return False
    reason = getattr(exc.args[0], "reason", exc.args[0])
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


class ProducerClient(_Service):
    def place(self, payload: dict[str, Any], idempotency_key: str) -> Placed:
        """Raises Unavailable only when nothing was ordered, Unconfirmed when it may have been,
        Refused for a 4xx."""
        try:
            response = self._send(
                "POST", "/orders", json=payload, headers={"Idempotency-Key": idempotency_key}
            )
        except requests.RequestException as exc:
            if _never_sent(exc):
                raise Unavailable(f"POST /orders: {type(exc).__name__}") from exc
            raise Unconfirmed(f"POST /orders: {type(exc).__name__}") from exc
        if response.status_code == 503 and _error_body(response)[0] == "queue_unavailable":
            raise Unavailable("POST /orders: the order queue is unreachable, nothing was enqueued")
        if response.status_code >= 500:
            raise Unconfirmed(f"POST /orders: HTTP {response.status_code}")
        if response.status_code != 202:
            code, detail = _error_body(response)
            raise Refused(response.status_code, code, detail)
        try:
            order_id = str(response.json()["order_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise Unavailable("POST /orders: 202 without an order id") from exc
        return Placed(order_id, replayed=response.headers.get("Idempotent-Replayed") == "true")


class ConsumerClient(_Service):
    def order(self, order_id: str) -> OrderRecord | None:
        """The processed order, or None while it is still queued."""
        response = self._request("GET", f"/orders/{order_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Unavailable(f"GET /orders/<id>: HTTP {response.status_code}")
        data = _json(response)
        try:
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            return OrderRecord.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable(f"GET /orders/<id>: not an order record ({exc})") from exc

    def recent(self) -> list[dict[str, Any]]:
        response = self._request("GET", "/orders/recent")
        if response.status_code != 200:
            raise Unavailable(f"GET /orders/recent: HTTP {response.status_code}")
        items = _json(response)
        if not isinstance(items, list):
            raise Unavailable("GET /orders/recent: not a JSON list")
        return [item for item in items if isinstance(item, dict)]
