"""Telemetry receivers the tests own, on loopback and free ports.

- :class:`OtlpReceiver`: an OTLP/HTTP trace endpoint (``POST /v1/traces``) that decodes the
  protobuf ``ExportTraceServiceRequest`` (gzip or plain) into flat :class:`Span` records.
- :class:`StatsdListener`: a UDP StatsD agent that parses ``name:value|type[|@rate]`` lines.
- :class:`XrayListener`: a UDP X-Ray daemon that parses ``{"format":"json","version":1}\\n<doc>``
  datagrams into segments and subsegments (nested or sent on their own).

Each is a context manager: ``with OtlpReceiver() as otlp: ... otlp.endpoint ...``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from devstack.traces import decompress
from tests.support.net import wait_for

T = TypeVar("T")
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
_KINDS = {
    ProtoSpan.SPAN_KIND_UNSPECIFIED: "UNSPECIFIED",
    ProtoSpan.SPAN_KIND_INTERNAL: "INTERNAL",
    ProtoSpan.SPAN_KIND_SERVER: "SERVER",
    ProtoSpan.SPAN_KIND_CLIENT: "CLIENT",
    ProtoSpan.SPAN_KIND_PRODUCER: "PRODUCER",
    ProtoSpan.SPAN_KIND_CONSUMER: "CONSUMER",
}
_STATUS = {
    Status.STATUS_CODE_UNSET: "UNSET",
    Status.STATUS_CODE_OK: "OK",
    Status.STATUS_CODE_ERROR: "ERROR",
}


def _wait(check: Callable[[], T | None], timeout: float, what: str) -> T:
    return wait_for(check, timeout, interval=0.05, what=what)


# ---------------------------------------------------------------------------------------- OTLP


def any_value(value: AnyValue) -> Any:
    """The Python value of an OTLP ``AnyValue``."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, which)


def attributes(pairs: Iterator[KeyValue] | Any) -> dict[str, Any]:
    return {pair.key: any_value(pair.value) for pair in pairs}


@dataclass(frozen=True)
class Link:
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Span:
    """One received span, ids as lowercase hex, parent ``None`` for a root span."""

    service: str
    scope: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    attributes: dict[str, Any]
    links: tuple[Link, ...]
    status: str
    events: tuple[str, ...]
    trace_state: str = ""

    @classmethod
    def from_proto(cls, span: ProtoSpan, service: str, scope: str) -> Span:
        return cls(
            service=service,
            scope=scope,
            name=span.name,
            kind=_KINDS.get(span.kind, str(span.kind)),
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex() or None,
            attributes=attributes(span.attributes),
            links=tuple(
                Link(link.trace_id.hex(), link.span_id.hex(), attributes(link.attributes))
                for link in span.links
            ),
            status=_STATUS.get(span.status.code, str(span.status.code)),
            events=tuple(event.name for event in span.events),
            trace_state=span.trace_state,
        )


def decode_export(body: bytes) -> list[Span]:
    """Flatten an ``ExportTraceServiceRequest`` into spans tagged with their service name."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans: list[Span] = []
    for resource_spans in request.resource_spans:
        service = str(attributes(resource_spans.resource.attributes).get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            spans += [Span.from_proto(span, service, scope) for span in scope_spans.spans]
    return spans


class OtlpReceiver:
    """A minimal OTLP/HTTP collector for traces; everything it receives stays in memory."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.requests: list[tuple[str, str]] = []  # (content type, content encoding)
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        """The value for ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the exporter appends ``/v1/traces``)."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Service environment that exports spans here quickly."""
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                encoding = self.headers.get("Content-Encoding") or ""
                if self.path.rstrip("/") != "/v1/traces":
                    self._answer(404, b"")
                    return
                if content_type not in PROTOBUF_TYPES:
                    receiver.errors.append(f"unsupported content type {content_type!r}")
                    self._answer(415, b"")
                    return
                try:
                    spans = decode_export(decompress(body, encoding))
                except Exception as exc:  # noqa: BLE001 - a malformed export is a finding
                    receiver.errors.append(f"{type(exc).__name__}: {exc}")
                    self._answer(400, b"")
                    return
                with receiver._lock:
                    receiver.requests.append((content_type, encoding))
                    receiver.spans.extend(spans)
                self._answer(200, ExportTraceServiceResponse().SerializeToString())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test output is about the services

        return Handler

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def snapshot(self) -> list[Span]:
        with self._lock:
            return list(self.spans)

    def find(self, **match: Any) -> list[Span]:
        """Spans whose fields equal ``match`` (e.g. ``name="send orders", service="producer"``)."""
        return [s for s in self.snapshot() if all(getattr(s, k) == v for k, v in match.items())]

    def wait_for(
        self, predicate: Callable[[list[Span]], bool], timeout: float = 10.0, what: str = "spans"
    ) -> list[Span]:
        def check() -> list[Span] | None:
            spans = self.snapshot()
            return spans if predicate(spans) else None

        return _wait(check, timeout, what)


# -------------------------------------------------------------------------------------- StatsD


@dataclass(frozen=True)
class StatsdMetric:
    name: str
    value: float
    type: str  # c (counter), ms (timer), g (gauge), s (set), h (histogram)
    rate: float = 1.0
    tags: tuple[str, ...] = ()


def parse_statsd(datagram: str) -> list[StatsdMetric]:
    """Parse one datagram: one or more ``name:value|type[|@rate][|#tags]`` lines."""
    metrics = []
    for line in datagram.splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, rest = line.partition(":")
        fields = rest.split("|")
        if not sep or not name or len(fields) < 2:
            raise ValueError(f"not a StatsD line: {line!r}")
        rate = 1.0
        tags: tuple[str, ...] = ()
        for extra in fields[2:]:
            if extra.startswith("@"):
                rate = float(extra[1:])
            elif extra.startswith("#"):
                tags = tuple(extra[1:].split(","))
        metrics.append(StatsdMetric(name, float(fields[0]), fields[1], rate, tags))
    return metrics


class _UdpListener:
    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.errors: list[str] = []
        self.datagrams = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                with self._lock:
                    self.datagrams += 1
                    self.handle(data.decode("utf-8"))
            except Exception as exc:  # noqa: BLE001 - a malformed datagram is a finding
                self.errors.append(f"{type(exc).__name__}: {exc}: {data[:200]!r}")

    def handle(self, datagram: str) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StatsdListener(_UdpListener):
    """A UDP StatsD agent that keeps every metric line it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: list[StatsdMetric] = []

    def handle(self, datagram: str) -> None:
        self.metrics.extend(parse_statsd(datagram))

    def env(self, prefix: str | None = None) -> dict[str, str]:
        env = {"STATSD_HOST": "127.0.0.1", "STATSD_PORT": str(self.port)}
        if prefix is not None:
            env["STATSD_PREFIX"] = prefix
        return env

    def snapshot(self) -> list[StatsdMetric]:
        with self._lock:
            return list(self.metrics)

    def names(self) -> set[str]:
        return {metric.name for metric in self.snapshot()}

    def count(self, name: str) -> float:
        """The counter total for ``name``, scaled up by any sample rate."""
        return sum(m.value / m.rate for m in self.snapshot() if m.name == name and m.type == "c")

    def values(self, name: str, type_: str | None = None) -> list[float]:
        return [m.value for m in self.snapshot() if m.name == name and type_ in (None, m.type)]

    def types(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for metric in self.snapshot():
            out.setdefault(metric.name, set()).add(metric.type)
        return out


# --------------------------------------------------------------------------------------- X-Ray


@dataclass
class XrayEntity:
    """A segment or subsegment; ``parent_id`` of a segment is the upstream caller's id."""

    id: str
    name: str
    trace_id: str
    parent_id: str | None
    is_segment: bool
    doc: dict[str, Any] = field(repr=False)
    children: list[str] = field(default_factory=list)


class XrayListener(_UdpListener):
    """A UDP X-Ray daemon stand-in: parses the header line and the segment document."""

    HEADER = {"format": "json", "version": 1}

    def __init__(self) -> None:
        super().__init__()
        self.entities: list[XrayEntity] = []

    def handle(self, datagram: str) -> None:
        header, _, body = datagram.partition("\n")
        if json.loads(header) != self.HEADER:
            raise ValueError(f"unexpected header {header!r}")
        doc = json.loads(body)
        is_segment = doc.get("type") != "subsegment"
        self._add(doc, doc["trace_id"], doc.get("parent_id"), is_segment)

    def _add(self, doc: dict[str, Any], trace_id: str, parent: str | None, segment: bool) -> None:
        entity = XrayEntity(
            id=doc["id"],
            name=doc.get("name", ""),
            trace_id=doc.get("trace_id", trace_id),
            parent_id=doc.get("parent_id", parent),
            is_segment=segment,
            doc=doc,
            children=[child["id"] for child in doc.get("subsegments", [])],
        )
        self.entities.append(entity)
        for child in doc.get("subsegments", []):
            self._add(child, entity.trace_id, entity.id, False)

    def env(self) -> dict[str, str]:
        return {"TRACING_MODE": "xray", "AWS_XRAY_DAEMON_ADDRESS": self.address}

    def snapshot(self) -> list[XrayEntity]:
        with self._lock:
            return list(self.entities)

    def segments(self, name: str | None = None) -> list[XrayEntity]:
        return [e for e in self.snapshot() if e.is_segment and name in (None, e.name)]

    def by_id(self) -> dict[str, XrayEntity]:
        return {entity.id: entity for entity in self.snapshot()}
