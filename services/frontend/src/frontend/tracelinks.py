"""Links from the shop to the trace UI (Jaeger, the X-Ray console, ...) when one is configured.

``TRACE_UI_URL`` holds one placeholder: ``{trace_id}`` (the id as recorded: 32 hex digits for
OpenTelemetry) or ``{xray_trace_id}`` (the X-Ray form ``1-<8 hex>-<24 hex>``, which the X-Ray
console needs; an OpenTelemetry id made by the X-Ray id generator converts to it exactly).
"""

from __future__ import annotations

import re
from urllib.parse import quote

PLACEHOLDERS = ("{trace_id}", "{xray_trace_id}")
_OTEL_ID = re.compile(r"^[0-9a-f]{32}$")
_XRAY_ID = re.compile(r"^1-([0-9a-f]{8})-([0-9a-f]{24})$")


def is_trace_id(value: object) -> bool:
    return isinstance(value, str) and bool(_OTEL_ID.match(value) or _XRAY_ID.match(value))


def xray_form(trace_id: str) -> str:
    """``1-5759e988-bd862e3fe1be46a994272793`` for ``5759e988bd862e3fe1be46a994272793``."""
    if _XRAY_ID.match(trace_id):
        return trace_id
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def trace_url(template: str | None, trace_id: object) -> str | None:
    """The trace page for ``trace_id``, or None without a template or a valid id."""
    if template is None or not isinstance(trace_id, str) or not is_trace_id(trace_id):
        return None
    if "{xray_trace_id}" in template:
        return template.replace("{xray_trace_id}", quote(xray_form(trace_id), safe=""))
    return template.replace("{trace_id}", quote(trace_id, safe=""))
