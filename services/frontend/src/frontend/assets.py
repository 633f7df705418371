"""Static files: fingerprinted URLs and how long a browser may keep what they return.

Templates link every file as ``/static/<file>?v=<hash of its bytes>`` (the ``asset`` global).
Such a URL always means the same bytes, so a browser may keep the answer for a year without
asking again (``immutable``). A request without the current hash (a hand-typed URL, a stale
page after a deploy) is answered ``no-cache``: stored, but revalidated with its ETag every time.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, request, url_for

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_EXTENSION = "frontend.assets"


class Fingerprints:
    """A short hash of each static file's bytes, read once per process (files ship with it)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder.resolve()
        self.of = cache(self._hash)

    def _hash(self, filename: str) -> str:
        path = (self._folder / filename).resolve()
        if not path.is_file() or not path.is_relative_to(self._folder):
            return "0"
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def fingerprints(app: Flask) -> Fingerprints:
    found: Fingerprints = app.extensions[_EXTENSION]
    return found


def init_assets(app: Flask) -> None:
    """Add the ``asset(filename)`` template global and the static files' cache headers."""
    prints = Fingerprints(Path(app.static_folder or ""))
    app.extensions[_EXTENSION] = prints

    @cache
    def asset_url(script_root: str, filename: str) -> str:
        return url_for("static", filename=filename, v=prints.of(filename))

    def asset(filename: str) -> str:
        # Built once per mount point and file: a page links a dozen assets on every view.
        return asset_url(request.script_root, filename)

    app.jinja_env.globals["asset"] = asset

    @app.after_request
    def cache_headers(response: Response) -> Response:
        if request.endpoint != "static" or not request.view_args:
            return response
        filename = str(request.view_args.get("filename", ""))
        current = prints.of(filename)
        hashed = current != "0" and request.args.get("v") == current
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        response.headers.pop("Expires", None)
        return response
