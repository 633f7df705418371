"""Reading submitted form fields defensively: bounded lengths, integers or a 400."""

from __future__ import annotations

from flask import abort, request

MAX_FIELD_CHARS = 300  # more than any field needs; longer values are refused, not truncated


def text(name: str, *, required: bool = False) -> str:
    value = request.form.get(name, "")
    if len(value) > MAX_FIELD_CHARS:
        abort(400, description=f"The field {name!r} is too long.")
    if required and not value.strip():
        abort(400, description=f"The field {name!r} is missing.")
    return value.strip()


def integer(name: str, default: int | None = None) -> int:
    raw = request.form.get(name, "").strip()
    if not raw and default is not None:
        return default
    if not raw.isdecimal() or len(raw) > 4:
        abort(400, description=f"The field {name!r} must be a whole number.")
    return int(raw)
