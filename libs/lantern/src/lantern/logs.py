"""Logging: configured once per process; one JSON object per line on stdout.

Every record carries ``timestamp``, ``level``, ``service``, ``event``, and the ``trace_id`` /
``span_id`` of the active span (plus ``xray_trace_id`` when the X-Ray form exists). On a terminal
(``LOG_FORMAT=auto``) the same records print as readable single lines instead.

One call style, fields as keywords::

    log = get_logger(__name__)
    log.info("order processed", outcome="fulfilled", duration_ms=3.2)

Fields that belong to a whole request or message (``order_id``, ``message_id``) are bound once to
the context with :func:`log_context` or :func:`bind` and appear on every line logged inside it;
context variables carry them, so they follow the code, not a framework's request object.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lantern.settings import LogSettings

# Filled in by the telemetry setup: returns (trace_id, span_id, xray_trace_id) of the active span.
TraceIds = tuple[str | None, str | None, str | None]
TraceIdSource = Callable[[], TraceIds]
_trace_ids: TraceIdSource = lambda: (None, None, None)  # noqa: E731
_service = "lantern"
_configured: LogSettings | None = None

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: ContextVar[Mapping[str, Any]] = ContextVar("lantern_log_context", default=_EMPTY)


def set_trace_id_source(source: TraceIdSource) -> None:
    global _trace_ids
    _trace_ids = source


class EventLogger:
    """A logger whose calls take the event's fields as keywords; they become top-level JSON keys."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def log(self, level: int, event: str, *, exc_info: bool = False, **fields: Any) -> None:
        if self.logger.isEnabledFor(level):
            self.logger.log(level, event, exc_info=exc_info, extra={"fields": fields})

    def debug(self, event: str, *, exc_info: bool = False, **fields: Any) -> None:
        self.log(logging.DEBUG, event, exc_info=exc_info, **fields)

    def info(self, event: str, *, exc_info: bool = False, **fields: Any) -> None:
        self.log(logging.INFO, event, exc_info=exc_info, **fields)

    def warning(self, event: str, *, exc_info: bool = False, **fields: Any) -> None:
        self.log(logging.WARNING, event, exc_info=exc_info, **fields)

    def error(self, event: str, *, exc_info: bool = False, **fields: Any) -> None:
        self.log(logging.ERROR, event, exc_info=exc_info, **fields)

    def exception(self, event: str, **fields: Any) -> None:
        """An error with the active exception's traceback."""
        self.log(logging.ERROR, event, exc_info=True, **fields)


def get_logger(name: str) -> EventLogger:
    return EventLogger(name)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every line logged inside the block (and restore the outer ones after)."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: Any) -> None:
    """Add ``fields`` to the current context: the rest of this request's or message's lines."""
    _context.set({**_context.get(), **fields})


def new_context(**fields: Any) -> None:
    """Start a fresh context (a new request on a reused thread): earlier fields are dropped."""
    _context.set(MappingProxyType(dict(fields)))


def context_fields() -> Mapping[str, Any]:
    return _context.get()


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    trace_id, span_id, xray_trace_id = _trace_ids()
    out: dict[str, Any] = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower(),
        "service": _service,
        "logger": record.name,
        "event": record.getMessage(),
    }
    if trace_id:
        out["trace_id"] = trace_id
        out["span_id"] = span_id
    if xray_trace_id:
        out["xray_trace_id"] = xray_trace_id
    out.update(_context.get())
    out.update(getattr(record, "fields", None) or {})
    if record.exc_info:
        out["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_record_fields(record), default=str, separators=(",", ":"))


class ConsoleFormatter(logging.Formatter):
    """Readable lines for a developer's terminal: time, level, event, then key=value pairs."""

    _SKIP = ("timestamp", "level", "service", "logger", "event", "exception", "span_id")

    def format(self, record: logging.LogRecord) -> str:
        fields = _record_fields(record)
        extras = " ".join(f"{k}={v}" for k, v in fields.items() if k not in self._SKIP)
        line = f"{fields['timestamp'][11:23]} {fields['level'][:4]:4} {fields['event']}"
        line = f"{line}  {extras}" if extras else line
        if "exception" in fields:
            line = f"{line}\n{fields['exception']}"
        return line


def configure_logging(settings: LogSettings) -> None:
    """Route every logger (ours, gunicorn's, libraries') through one stdout handler.

    Once per process: the gunicorn master configures it, and a forked worker whose telemetry
    asks again with the same settings finds it done.
    """
    global _service, _configured
    if _configured == settings:
        return
    _configured, _service = settings, settings.service
    use_json = settings.format == "json" or (settings.format == "auto" and not sys.stdout.isatty())
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # Libraries that chatter at INFO would drown the one-line-per-request rule.
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "aws_xray_sdk", "opentelemetry"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)


def current_trace_ids() -> TraceIds:
    """(trace_id, span_id, xray_trace_id) of the active span, in whichever tracing mode is on."""
    return _trace_ids()
