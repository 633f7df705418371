"""Markup that is the same for every visitor, rendered once per process and reused.

A product's card, its page's details and its related products read only the catalog, which ships
with the process; rendering them on every view was half of a product page's CPU. Templates wrap
such markup in a call block::

    {% call fragment("card", product.sku) %} ... {% endcall %}

The block renders on the first use of its key (and the mount point, ``request.script_root``,
since its links are built with ``url_for``) and is kept. Its forms still carry the visitor's own
CSRF token: while a fragment renders, ``csrf_token()`` writes a marker instead, and each use
puts the visitor's token where the markers are. What differs per visitor (the cart badge, the
quantity a visitor may still add, flashed messages) stays outside the blocks.

Keys come from the catalog, so the cache holds at most a few entries per product.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextvars import ContextVar

from flask import Flask, request
from markupsafe import Markup, escape

from frontend.security import csrf_token

# Random per process: no catalog text can contain it by accident.
_MARKER = f"csrf-{secrets.token_hex(16)}"
_rendering: ContextVar[bool] = ContextVar("frontend_fragment_rendering", default=False)


def template_csrf_token() -> str:
    """The ``csrf_token()`` templates call: the marker inside a fragment, else the token."""
    return _MARKER if _rendering.get() else csrf_token()


class Fragments:
    """Rendered fragments by key, split at their CSRF markers."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, ...], list[Markup]] = {}

    def render(self, *key: str, caller: Callable[[], Markup]) -> Markup:
        full_key = (request.script_root, *key)
        parts = self._kept.get(full_key)
        if parts is None:
            parts = self._kept[full_key] = self._render_once(caller)
        if len(parts) == 1:
            return parts[0]
        # Inside an outer fragment's first render this is the marker again, not this visitor's
        # token: the outer fragment is kept for everyone.
        return escape(template_csrf_token()).join(parts)  # parts are markup; the token escaped

    @staticmethod
    def _render_once(caller: Callable[[], Markup]) -> list[Markup]:
        token = _rendering.set(True)
        try:
            # Two threads may render the same key at once: both results are equal.
            return caller().split(_MARKER)  # Markup: the templates autoescape
        finally:
            _rendering.reset(token)

    def __len__(self) -> int:
        return len(self._kept)


def init_fragments(app: Flask) -> Fragments:
    fragments = app.extensions["frontend.fragments"] = Fragments()
    app.jinja_env.globals["fragment"] = fragments.render
    app.jinja_env.globals["csrf_token"] = template_csrf_token
    return fragments
