"""Links from the shop to the trace UI (Jaeger, the X-Ray console, ...) when one is configured.

``TRACE_UI_URL`` holds one placeholder: ``{trace_id}`` (the id as recorded: 32 hex digits for
OpenTelemetry) or ``{xray_trace_id}`` (the X-Ray form ``1-<8 hex>-<24 hex>``, which the X-Ray
console needs; an OpenTelemetry id made by the X-Ray id generator converts to it exactly).
"""

from __future__ import annotations

from urllib.parse import quote

from lantern.traceids import is_trace_id, xray_trace_id

PLACEHOLDERS = ("{trace_id}", "{xray_trace_id}")


def trace_url(template: str | None, trace_id: object) -> str | None:
    """The trace page for ``trace_id``, or None without a template or a valid id."""
    if template is None or not isinstance(trace_id, str) or not is_trace_id(trace_id):
        return None
    if "{xray_trace_id}" in template:
        return template.replace("{xray_trace_id}", quote(xray_trace_id(trace_id), safe=""))
    return template.replace("{trace_id}", quote(trace_id, safe=""))
