"""HTTP clients for the producer and the consumer: the storefront's only outbound calls.

Calls go through ``requests``, which the telemetry setup instruments, so every call is a client
span and carries the trace context to the service it calls. Any network failure or 5xx surfaces
as :class:`Unavailable`, the one thing views need to know to show a friendly page.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import requests
import urllib3
from opentelemetry.instrumentation.utils import suppress_instrumentation

from frontend.journey import TraceSpan, spans_from_jaeger
from lantern.orders import OrderRecord
from lantern.settings import SettingsError, env_float, env_optional
from lantern.traceids import is_trace_id

CONNECT_TIMEOUT_SECONDS = 1.0
TRACE_TIMEOUT_SECONDS = 0.5  # the order page waits at most this for its trace


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


class TraceLookup(Protocol):
    """What the order page needs from a trace store (Jaeger's query API, make run's receiver)."""

    def spans(self, trace_id: str) -> list[TraceSpan] | None:
        """The trace's spans; None when the store does not have it (yet) or does not answer."""
        ...


class TraceApiClient:
    """Reads one trace from an HTTP API in the shape of Jaeger's ``GET /api/traces/<id>``.

    ``template`` holds ``{trace_id}``. The call is short (``timeout``), never raises, and is not
    itself traced: an order page looking up its trace would otherwise add a trace a view.
    """

    def __init__(
        self,
        template: str,
        timeout: float = TRACE_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self._template, self._timeout = template, timeout
        self._http = session or requests.Session()

    def spans(self, trace_id: str) -> list[TraceSpan] | None:
        if not is_trace_id(trace_id):
            return None
        url = self._template.replace("{trace_id}", quote(trace_id, safe=""))
        try:
            with suppress_instrumentation():
                response = self._http.get(url, timeout=self._timeout)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        try:
            payload = response.json()
        except ValueError:
            return None
        return spans_from_jaeger(payload, trace_id) or None


def trace_api_template(raw: str | None) -> str | None:
    """Check a ``TRACE_API_URL``: an http(s) URL with one ``{trace_id}``."""
    if raw is None:
        return None
    if not raw.startswith(("http://", "https://")) or raw.count("{trace_id}") != 1:
        raise SettingsError(
            f"TRACE_API_URL={raw!r} is not valid: expected an http(s):// URL with one "
            "{trace_id}, e.g. http://jaeger:16686/api/traces/{trace_id}"
        )
    return raw


def trace_lookup_from_env(env: Mapping[str, str] = os.environ) -> TraceApiClient | None:
    """The trace store named by ``TRACE_API_URL`` (and ``TRACE_API_TIMEOUT_SECONDS``), if any."""
    template = trace_api_template(env_optional(env, "TRACE_API_URL"))
    if template is None:
        return None
    timeout = env_float(env, "TRACE_API_TIMEOUT_SECONDS", TRACE_TIMEOUT_SECONDS, low=0.05, high=5)
    return TraceApiClient(template, timeout)
