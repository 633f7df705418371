"""Trace ids in their two spellings: OpenTelemetry's 32 hex digits and X-Ray's ``1-<8>-<24>``.

Pure string functions (no SDK import), so the storefront's links and the telemetry setup share
one conversion. An OpenTelemetry id made by the X-Ray id generator converts to X-Ray exactly.
"""

from __future__ import annotations

import re

_OTEL_ID = re.compile(r"^[0-9a-f]{32}$")
_XRAY_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")


def is_trace_id(value: object) -> bool:
    """True for a trace id in either spelling."""
    return isinstance(value, str) and bool(_OTEL_ID.match(value) or _XRAY_ID.match(value))


def xray_trace_id(trace_id: str) -> str:
    """``1-5759e988-bd862e3fe1be46a994272793`` for ``5759e988bd862e3fe1be46a994272793``.

    An id already in the X-Ray spelling is returned as it is.
    """
    if _XRAY_ID.match(trace_id):
        return trace_id
    return f"1-{trace_id[:8]}-{trace_id[8:]}"
