"""``make run``'s trace collector and viewer, for machines without Docker (no Jaeger there).

It takes spans over OTLP/HTTP (protobuf ``POST /v1/traces``, plain or gzip, decoded with the
``opentelemetry-proto`` classes the services' OTLP exporter already installs), keeps the most
recent traces in memory and serves them back:

- ``GET /api/traces/<trace_id>``: one trace in the shape of Jaeger's query API (``{"data":
  [{"traceID", "spans", "processes"}]}``, times in microseconds), so the storefront reads this
  and compose's Jaeger with one client;
- ``GET /api/traces``: the recent traces, newest first (id, root span, services, span count);
- ``GET /trace/<trace_id>``: a waterfall of one trace, plain HTML; ``GET /``: the recent list.

Memory is bounded: at most ``max_traces`` traces and ``max_spans`` spans in all (the traces
touched longest ago go first), ``max_spans_per_trace`` spans a trace (later ones are counted,
not kept), and a request body of at most 8 MiB. Run it alone with
``python -m devstack.traces -p 4318``.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_TRACES = 500
MAX_SPANS = 50_000
MAX_SPANS_PER_TRACE = 1_000
MAX_BODY_BYTES = 8 * 1024 * 1024
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUS = {1: "OK", 2: "ERROR"}


@dataclass(frozen=True)
class SpanRecord:
    """One received span, flattened: ids as hex, times in nanoseconds since the epoch."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # internal | server | client | producer | consumer | unspecified
    service: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    status: str = "UNSET"  # UNSET | OK | ERROR
    links: tuple[tuple[str, str], ...] = ()  # (trace id, span id)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)


def _value(any_value: Any) -> Any:
    """The Python value of an OTLP ``AnyValue``."""
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(item) for item in any_value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _value(item.value) for item in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind)


def _attributes(pairs: Iterable[Any]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def decode_export(body: bytes) -> list[SpanRecord]:
    """The spans of a serialized ``ExportTraceServiceRequest``; raises on malformed input."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name") or "unknown")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    SpanRecord(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        kind=_KINDS.get(span.kind, "unspecified"),
                        service=service,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        attributes=_attributes(span.attributes),
                        status=_STATUS.get(span.status.code, "UNSET"),
                        links=tuple(
                            (link.trace_id.hex(), link.span_id.hex()) for link in span.links
                        ),
                    )
                )
    return spans


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding in ("", "identity"):
        return body
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


class TraceStore:
    """The most recent traces, bounded (see the module docstring); safe across threads."""

    def __init__(
        self,
        max_traces: int = MAX_TRACES,
        max_spans: int = MAX_SPANS,
        max_spans_per_trace: int = MAX_SPANS_PER_TRACE,
    ) -> None:
        self.max_traces, self.max_spans = max_traces, max_spans
        self.max_spans_per_trace = max_spans_per_trace
        self._traces: OrderedDict[str, list[SpanRecord]] = OrderedDict()  # oldest touch first
        self._spans = 0
        self._lock = threading.Lock()
        self.evicted_traces = 0
        self.dropped_spans = 0  # over a trace's limit

    def add(self, spans: Iterable[SpanRecord]) -> None:
        with self._lock:
            for span in spans:
                kept = self._traces.setdefault(span.trace_id, [])
                self._traces.move_to_end(span.trace_id)
                if len(kept) >= self.max_spans_per_trace:
                    self.dropped_spans += 1
                    continue
                kept.append(span)
                self._spans += 1
            self._evict()

    def _evict(self) -> None:
        while len(self._traces) > self.max_traces or (
            self._spans > self.max_spans and len(self._traces) > 1
        ):
            _, spans = self._traces.popitem(last=False)
            self._spans -= len(spans)
            self.evicted_traces += 1

    def get(self, trace_id: str) -> list[SpanRecord] | None:
        with self._lock:
            spans = self._traces.get(trace_id)
            return None if spans is None else sorted(spans, key=lambda s: s.start_ns)

    def recent(self, limit: int = 50) -> list[tuple[str, list[SpanRecord]]]:
        """Up to ``limit`` traces, the one touched last first."""
        with self._lock:
            ids = list(reversed(self._traces))[:limit]
            return [(trace_id, list(self._traces[trace_id])) for trace_id in ids]

    @property
    def span_count(self) -> int:
        with self._lock:
            return self._spans

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)


def _tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, str):
        return {"key": key, "type": "string", "value": value}
    return {"key": key, "type": "string", "value": json.dumps(value)}


def jaeger_trace(trace_id: str, spans: Sequence[SpanRecord]) -> dict[str, Any]:
    """One trace as Jaeger's ``GET /api/traces/<id>`` describes it (the fields readers use)."""
    processes: dict[str, str] = {}  # service -> process id
    for span in spans:
        processes.setdefault(span.service, f"p{len(processes) + 1}")
    return {
        "traceID": trace_id,
        "spans": [
            {
                "traceID": span.trace_id,
                "spanID": span.span_id,
                "operationName": span.name,
                "references": (
                    [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": span.parent_span_id}]
                    if span.parent_span_id
                    else []
                )
                + [
                    {"refType": "FOLLOWS_FROM", "traceID": linked_trace, "spanID": linked_span}
                    for linked_trace, linked_span in span.links
                ],
                "startTime": span.start_ns // 1000,
                "duration": span.duration_ns // 1000,
                "tags": [
                    _tag("span.kind", span.kind),
                    *(_tag(key, value) for key, value in span.attributes.items()),
                    *([_tag("error", True)] if span.status == "ERROR" else []),
                    *([_tag("otel.status_code", span.status)] if span.status != "UNSET" else []),
                ],
                "logs": [],
                "processID": processes[span.service],
            }
            for span in spans
        ],
        "processes": {pid: {"serviceName": name, "tags": []} for name, pid in processes.items()},
    }


def summary(trace_id: str, spans: Sequence[SpanRecord]) -> dict[str, Any]:
    ids = {span.span_id for span in spans}
    roots = [s for s in spans if not s.parent_span_id or s.parent_span_id not in ids]
    root = min(roots or spans, key=lambda s: s.start_ns)
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    return {
        "trace_id": trace_id,
        "root": f"{root.service}: {root.name}",
        "services": sorted({s.service for s in spans}),
        "spans": len(spans),
        "start_us": start // 1000,
        "duration_us": max(0, end - start) // 1000,
        "error": any(s.status == "ERROR" for s in spans),
    }


_PAGE_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d1b18;background:#fbf8f3}
h1{font-size:1.3rem}table{border-collapse:collapse;width:100%}
td,th{padding:.25rem .5rem;border-bottom:1px solid #e4ddd2;text-align:left;vertical-align:middle}
.mono{font-family:ui-monospace,monospace;font-size:.85rem}.num{text-align:right;white-space:nowrap}
.bar{width:45%}svg{display:block;width:100%;height:14px}rect{fill:#b5651d}rect.error{fill:#b3261e}
.svc{color:#6b6257}.err{color:#b3261e;font-weight:600}
"""


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_PAGE_STYLE}</style>"
        f"<body>{body}</body></html>"
    ).encode()


def _depths(spans: Sequence[SpanRecord]) -> dict[str, int]:
    by_id = {span.span_id: span for span in spans}
    depths: dict[str, int] = {}

    def depth(span: SpanRecord, seen: frozenset[str] = frozenset()) -> int:
        if span.span_id in depths:
            return depths[span.span_id]
        parent = by_id.get(span.parent_span_id or "")
        value = (
            0
            if parent is None or parent.span_id in seen
            else 1 + depth(parent, seen | {span.span_id})
        )
        depths[span.span_id] = value
        return value

    for span in spans:
        depth(span)
    return depths


def waterfall_html(trace_id: str, spans: Sequence[SpanRecord]) -> bytes:
    """One trace as a waterfall: a row a span, in start order, indented under its parent."""
    start = min(s.start_ns for s in spans)
    total = max(1, max(s.end_ns for s in spans) - start)
    depths = _depths(spans)
    rows = []
    for span in spans:
        x = 100 * (span.start_ns - start) / total
        width = max(0.4, 100 * span.duration_ns / total)
        error = span.status == "ERROR"
        rows.append(
            "<tr>"
            f'<td style="padding-left:{0.5 + depths[span.span_id]}rem">'
            f"{html.escape(span.name)}{' <span class=err>error</span>' if error else ''}"
            f" <span class=svc>{html.escape(span.service)} · {span.kind}</span></td>"
            f'<td class=bar><svg role=img aria-label="{span.duration_ns / 1e6:.2f} ms">'
            f'<rect x="{min(x, 99.6):.2f}%" y="2" width="{width:.2f}%" height="10"'
            f"{' class=error' if error else ''}/></svg></td>"
            f"<td class=num>{span.duration_ns / 1e6:.2f} ms</td></tr>"
        )
    body = (
        f'<p><a href="/">Recent traces</a></p><h1>Trace <span class=mono>{trace_id}</span></h1>'
        f"<p>{len(spans)} spans · {total / 1e6:.2f} ms · "
        f'<a href="/api/traces/{trace_id}">JSON</a></p>'
        "<table><thead><tr><th>span</th><th>timeline</th><th class=num>duration</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return _page(f"Trace {trace_id}", body)


def recent_html(store: TraceStore) -> bytes:
    rows = [
        f'<tr><td class=mono><a href="/trace/{item["trace_id"]}">{item["trace_id"]}</a></td>'
        f"<td>{html.escape(item['root'])}{' <span class=err>error</span>' if item['error'] else ''}"
        f"</td><td>{html.escape(', '.join(item['services']))}</td>"
        f"<td class=num>{item['spans']}</td>"
        f"<td class=num>{item['duration_us'] / 1000:.2f} ms</td></tr>"
        for item in (summary(trace_id, spans) for trace_id, spans in store.recent(100))
    ]
    body = (
        "<h1>Recent traces</h1>"
        f"<p>make run keeps the last {store.max_traces} traces in memory; newest first.</p>"
        "<table><thead><tr><th>trace</th><th>root span</th><th>services</th>"
        "<th class=num>spans</th><th class=num>duration</th></tr></thead>"
        f"<tbody>{''.join(rows) or '<tr><td colspan=5>No traces yet.</td></tr>'}</tbody></table>"
    )
    return _page("Recent traces", body)


# The viewer's pages: no script at all, and the one inline style block and row indents.
_HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}
_PROTOBUF = ("application/x-protobuf", "application/protobuf")


def _handler(store: TraceStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "lantern-traces"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per export would drown make run's output

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.path.split("?")[0].rstrip("/") != "/v1/traces":
                self._discard(length)
                self._json(404, {"error": "not_found"})
                return
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                self._json(413, {"error": "too_large"})
                return
            body = self.rfile.read(length)
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type not in _PROTOBUF:
                self._json(415, {"error": "unsupported_media_type", "detail": "protobuf only"})
                return
            try:
                spans = decode_export(decompress(body, self.headers.get("Content-Encoding") or ""))
            except Exception as exc:  # noqa: BLE001 - a malformed export gets a 400, not a crash
                self._json(400, {"error": "bad_request", "detail": str(exc)[:200]})
                return
            store.add(spans)
            # An empty ExportTraceServiceResponse serializes to no bytes.
            self._send(200, b"", {"Content-Type": "application/x-protobuf"})

        def do_GET(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path in ("", "/"):
                self._send(200, recent_html(store), _HTML_HEADERS)
            elif path in ("/healthz", "/readyz"):
                self._json(200, {"status": "ok", "traces": len(store)})
            elif path == "/api/traces":
                recent = [summary(tid, spans) for tid, spans in store.recent(100)]
                self._json(200, {"data": recent})
            elif path.startswith(("/api/traces/", "/trace/")):
                self._one(path)
            else:
                self._json(404, {"error": "not_found"})

        def _one(self, path: str) -> None:
            trace_id = path.rsplit("/", 1)[1].lower()
            spans = store.get(trace_id) if _TRACE_ID.match(trace_id) else None
            if path.startswith("/trace/"):
                if spans:
                    self._send(200, waterfall_html(trace_id, spans), _HTML_HEADERS)
                else:
                    page = _page(
                        "Trace not found",
                        "<h1>Trace not found</h1><p>Not received (yet), or older than the "
                        f'last {store.max_traces} traces kept. <a href="/">Recent traces</a></p>',
                    )
                    self._send(404, page, _HTML_HEADERS)
            elif spans:
                self._json(200, {"data": [jaeger_trace(trace_id, spans)], "errors": None})
            else:
                self._json(404, {"data": None, "errors": [{"code": 404, "msg": "trace not found"}]})

        def _discard(self, length: int) -> None:
            if 0 < length <= MAX_BODY_BYTES:
                self.rfile.read(length)
            else:
                self.close_connection = True

        def _json(self, status: int, payload: object) -> None:
            self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

        def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class TraceReceiver:
    """The receiver on a background thread (tests; ``main`` serves in the foreground)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, store: TraceStore | None = None):
        self.store = store or TraceStore()
        self._server = ThreadingHTTPServer((host, port), _handler(self.store))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> TraceReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> TraceReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def service_env(url: str) -> dict[str, str]:
    """What points a service's spans at a receiver at ``url``, and the storefront at its views."""
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "TRACE_UI_URL": f"{url}/trace/{{trace_id}}",
        "TRACE_API_URL": f"{url}/api/traces/{{trace_id}}",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.traces", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4318)
    parser.add_argument("--max-traces", type=int, default=MAX_TRACES)
    parser.add_argument("--max-spans", type=int, default=MAX_SPANS)
    args = parser.parse_args(argv)
    store = TraceStore(max_traces=args.max_traces, max_spans=args.max_spans)
    server = ThreadingHTTPServer((args.host, args.port), _handler(store))
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
