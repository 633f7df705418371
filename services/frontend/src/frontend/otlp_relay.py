"""Browser spans: the same-origin OTLP endpoint and the traceparent of form posts.

The storefront's web bundle (``static/js/otel-web.js``, built from ``services/frontend/web``)
records a span per page view and per form post. Two things join them to the server's trace:

- ``POST /v1/traces`` takes the bundle's OTLP/JSON export, keeps what a page may say about
  itself (bounded names, attributes and events; the resource's ``service.name`` is the
  storefront's own plus ``-browser``, never the client's), and hands the spans to the
  storefront's own span processors, so they leave by whatever ``OTEL_*`` configures (OTLP HTTP or
  gRPC, console) or are dropped when tracing is off. The CSP keeps ``connect-src 'self'``.
- A form post cannot carry a header: the bundle puts its submit span's W3C ``traceparent`` in a
  hidden form field, and :class:`OtlpRelay` copies it into the request's ``traceparent`` header
  before the Flask instrumentation extracts the context, so the server span is its child.

Both run as WSGI middleware in front of Flask: the export endpoint needs no session, no CSRF
token (it changes no state a customer owns) and no server span (a trace per export would bury
the checkouts), and the header must be in place before the instrumentation reads it. The
form's CSRF token is checked by Flask exactly as before.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask, request
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from lantern.logs import get_logger
from lantern.telemetry import Telemetry

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH = "/v1/traces"
MAX_EXPORT_BYTES = 64 * 1024
MAX_SPANS = 64
MAX_ATTRIBUTES = 32
MAX_EVENTS = 16
MAX_NAME_CHARS = 128
MAX_VALUE_CHARS = 1024
MAX_DURATION_NS = 3600 * 10**9
# Exports per second per process, and the burst allowed above it: a page view sends one or two.
RATE_PER_SECOND = 20.0
BURST = 60
FORM_FIELD = "traceparent"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
# Resource attributes a browser may state about itself; everything else is the server's word.
CLIENT_RESOURCE_PREFIXES = ("telemetry.sdk.", "browser.", "user_agent.")
_KINDS = {0: SpanKind.INTERNAL, 1: SpanKind.INTERNAL, 3: SpanKind.CLIENT}
_STATUS = {0: StatusCode.UNSET, 1: StatusCode.OK, 2: StatusCode.ERROR}
_FORM_TYPE = "application/x-www-form-urlencoded"

log = get_logger("frontend.otlp_relay")
SpanSink = Callable[[Sequence[ReadableSpan]], None]


class Refused(Exception):
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class TokenBucket:
    """At most ``rate`` per second on average, ``burst`` at once; thread-safe."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


@dataclass(frozen=True)
class Converted:
    spans: list[ReadableSpan]
    rejected: int


def telemetry_sink(telemetry: Telemetry) -> SpanSink | None:
    """The storefront's own span processors, or ``None`` when it does not trace with the SDK."""
    provider = telemetry.provider
    if telemetry.mode != "otel" or provider is None:
        return None
    # The SDK has no public "export these finished spans" call; its composite processor is
    # what every span the storefront ends goes through (batching, exporters, shutdown flush).
    processor = provider._active_span_processor

    def sink(spans: Sequence[ReadableSpan]) -> None:
        for span in spans:
            processor.on_end(span)

    return sink


class OtlpRelay:
    """WSGI middleware: serves ``POST /v1/traces`` and lifts a form's ``traceparent`` field."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        service_name: str,
        sink: SpanSink | None,
        max_form_bytes: int,
        limiter: TokenBucket | None = None,
    ) -> None:
        self._app = app
        self._sink = sink
        self._resource_name = f"{service_name}-browser"
        self._max_form_bytes = max_form_bytes
        self._limiter = limiter or TokenBucket(RATE_PER_SECOND, BURST)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            return self._export(environ, start_response)
        if self._sink is not None:
            _lift_form_traceparent(environ, self._max_form_bytes)
        return self._app(environ, start_response)

    def _export(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        try:
            body = self._read_export(environ)
            converted = convert_export(body, self._resource_name)
        except Refused as refused:
            log.info("browser spans refused", status=refused.status, detail=refused.detail)
            return _answer(start_response, refused.status, {"error": refused.detail})
        if self._sink is not None and converted.spans:
            self._sink(converted.spans)
        answer: dict[str, Any] = {}
        if converted.rejected:
            answer["partialSuccess"] = {
                "rejectedSpans": converted.rejected,
                "errorMessage": "spans outside the storefront's limits were dropped",
            }
        return _answer(start_response, "200 OK", answer)

    def _read_export(self, environ: WSGIEnvironment) -> bytes:
        if environ.get("REQUEST_METHOD") != "POST":
            raise Refused("405 Method Not Allowed", "POST an OTLP/JSON trace export")
        content_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refused("415 Unsupported Media Type", "expected application/json")
        if str(environ.get("HTTP_CONTENT_ENCODING", "identity")).lower() != "identity":
            raise Refused("415 Unsupported Media Type", "compressed exports are not accepted")
        length = _content_length(environ)
        if length is None:
            raise Refused("411 Length Required", "Content-Length is required")
        if length > MAX_EXPORT_BYTES:
            raise Refused("413 Content Too Large", f"at most {MAX_EXPORT_BYTES} bytes")
        if not self._limiter.take():
            raise Refused("429 Too Many Requests", "too many exports; spans dropped")
        body: bytes = environ["wsgi.input"].read(length)
        return body


def _answer(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if status.startswith("429"):
        headers.append(("Retry-After", "5"))
    start_response(status, headers)
    return [body]


def _content_length(environ: WSGIEnvironment) -> int | None:
    raw = str(environ.get("CONTENT_LENGTH") or "")
    return int(raw) if raw.isdigit() else None


def _lift_form_traceparent(environ: WSGIEnvironment, max_bytes: int) -> None:
    """Copy a posted form's ``traceparent`` field into the header, unless one was sent."""
    if environ.get("REQUEST_METHOD") != "POST" or "HTTP_TRACEPARENT" in environ:
        return
    content_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    length = _content_length(environ)
    if content_type != _FORM_TYPE or length is None or length > max_bytes:
        return  # anything else reaches Flask untouched, which refuses what is too large
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    for name, value in parse_qsl(body.decode("latin-1"), max_num_fields=100):
        if name == FORM_FIELD and _valid_traceparent(value):
            environ["HTTP_TRACEPARENT"] = value
            return


def _valid_traceparent(value: str) -> bool:
    match = TRACEPARENT.match(value)
    if match is None:
        return False
    return set(match.group(1)) != {"0"} and set(match.group(2)) != {"0"}


# ------------------------------------------------------------------------ OTLP/JSON to spans


def convert_export(body: bytes, service_name: str) -> Converted:
    """Spans of an OTLP/JSON ``ExportTraceServiceRequest``, within the limits above."""
    try:
        export = json.loads(body)
    except ValueError:
        raise Refused("400 Bad Request", "not JSON") from None
    if not isinstance(export, dict) or not isinstance(export.get("resourceSpans"), list):
        raise Refused("400 Bad Request", "expected an ExportTraceServiceRequest")
    spans: list[ReadableSpan] = []
    rejected = 0
    for resource_spans in _dicts(export["resourceSpans"]):
        resource = _resource(resource_spans.get("resource"), service_name)
        for scope_spans in _dicts(resource_spans.get("scopeSpans")):
            scope = _scope(scope_spans.get("scope"))
            for raw in _dicts(scope_spans.get("spans")):
                span = _span(raw, resource, scope) if len(spans) < MAX_SPANS else None
                if span is None:
                    rejected += 1
                else:
                    spans.append(span)
    return Converted(spans, rejected)


def _dicts(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _resource(raw: object, service_name: str) -> Resource:
    stated = _attributes(raw.get("attributes") if isinstance(raw, dict) else None)
    kept: dict[str, Any] = {
        key: value for key, value in stated.items() if key.startswith(CLIENT_RESOURCE_PREFIXES)
    }
    kept["service.name"] = service_name
    return Resource(kept)


def _scope(raw: object) -> InstrumentationScope:
    raw = raw if isinstance(raw, dict) else {}
    return InstrumentationScope(_text(raw.get("name")) or "browser", _text(raw.get("version")))


def _span(
    raw: dict[str, Any], resource: Resource, scope: InstrumentationScope
) -> ReadableSpan | None:
    trace_id = _hex_id(raw.get("traceId"), 32)
    span_id = _hex_id(raw.get("spanId"), 16)
    parent_id = _hex_id(raw.get("parentSpanId"), 16)
    name = _text(raw.get("name"))
    kind = _KINDS.get(raw.get("kind", 1)) if isinstance(raw.get("kind", 1), int) else None
    start, end = _nanos(raw.get("startTimeUnixNano")), _nanos(raw.get("endTimeUnixNano"))
    if trace_id is None or span_id is None or not name or kind is None:
        return None
    if start is None or end is None or not 0 < start <= end <= start + MAX_DURATION_NS:
        return None
    if raw.get("parentSpanId") and parent_id is None:
        return None
    flags = TraceFlags(TraceFlags.SAMPLED)
    context = SpanContext(trace_id, span_id, is_remote=False, trace_flags=flags)
    parent = None if parent_id is None else SpanContext(trace_id, parent_id, True, flags)
    return ReadableSpan(
        name=name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=_attributes(raw.get("attributes")),
        events=_events(raw.get("events"), start, end),
        kind=kind,
        status=_status(raw.get("status")),
        start_time=start,
        end_time=end,
        instrumentation_scope=scope,
    )


def _events(raw: object, start: int, end: int) -> list[Event]:
    events = []
    for item in list(_dicts(raw))[:MAX_EVENTS]:
        name, at = _text(item.get("name")), _nanos(item.get("timeUnixNano"))
        if name and at is not None and start <= at <= end:
            events.append(Event(name, _attributes(item.get("attributes")), at))
    return events


def _status(raw: object) -> Status:
    raw = raw if isinstance(raw, dict) else {}
    code = _STATUS.get(raw.get("code", 0), StatusCode.UNSET)
    message = _text(raw.get("message")) if code is StatusCode.ERROR else None
    return Status(code, message)


def _attributes(raw: object) -> dict[str, str | bool | int | float]:
    kept: dict[str, str | bool | int | float] = {}
    for pair in list(_dicts(raw))[:MAX_ATTRIBUTES]:
        key = _text(pair.get("key"))
        value = _scalar(pair.get("value"))
        if key and value is not None:
            kept[key] = value
    return kept


def _scalar(raw: object) -> str | bool | int | float | None:
    if not isinstance(raw, dict) or len(raw) != 1:
        return None
    (kind, value), *_ = raw.items()
    if kind == "stringValue" and isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    if kind == "boolValue" and isinstance(value, bool):
        return value
    if kind == "intValue":
        return _int(value)
    if kind == "doubleValue" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _int(raw: object) -> int | None:
    # OTLP/JSON sends 64-bit integers as decimal strings (or numbers).
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 20:
        return int(raw)
    return None


def _nanos(raw: object) -> int | None:
    value = _int(raw)
    return value if value is not None and 0 < value < 2**63 else None


def _text(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw:
        return None
    return raw[:MAX_NAME_CHARS]


def _hex_id(raw: object, digits: int) -> int | None:
    if not isinstance(raw, str) or len(raw) != digits:
        return None
    try:
        value = int(raw, 16)
    except ValueError:
        return None
    return value or None


# ---------------------------------------------------------------------------------- wiring


def init_otlp_relay(app: Flask, telemetry: Telemetry) -> None:
    """Serve the browser's exports and lift form traceparents; tell templates where to send.

    Call after :func:`lantern.web.create_service_app`, so this runs before the instrumentation.
    """
    sink = telemetry_sink(telemetry)
    max_form = int(app.config.get("MAX_CONTENT_LENGTH") or 16 * 1024)
    app.wsgi_app = OtlpRelay(  # type: ignore[method-assign]
        app.wsgi_app,
        service_name=telemetry.settings.service_name,
        sink=sink,
        max_form_bytes=max_form,
    )

    @app.context_processor
    def browser_traces() -> dict[str, str | None]:
        # No bundle at all when nothing would be kept: no script, no exports.
        return {"otel_web_endpoint": None if sink is None else request.script_root + PATH}
