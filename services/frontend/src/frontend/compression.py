"""gzip for text responses, when the browser says it takes it.

Only the standard library: no brotli module ships with the storefront, so gzip (zlib) is the one
coding offered. A response is compressed when the request accepts ``gzip`` (q > 0), the body is a
text type (HTML, CSS, JavaScript, JSON, SVG, plain text) of at least :data:`MIN_BYTES`, it is a
complete 200-style answer (not 206/304/204, not a stream, not already encoded, not
``no-transform``). Every response of a compressible type says ``Vary: Accept-Encoding``, compressed
or not, so a shared cache never hands gzip to a client that did not ask for it.

Static files are compressed once per file version (its ETag) at the highest level and kept in
memory: they are a few dozen KB in all. The compressed variant gets the weak form of the file's
ETag, which still matches the file's own ETag for a conditional request (``304``).
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict

from flask import Flask, Response, request

MIN_BYTES = 1024  # below about one packet, the gzip header and a round of CPU buy nothing
PAGE_LEVEL = 6  # pages are rendered per request: a fast level
STATIC_LEVEL = 9  # static files are compressed once
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "text/plain",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    }
)
_NO_BODY = frozenset({204, 206, 304})
STATIC_VERSIONS_KEPT = 256


def gzip_bytes(data: bytes, level: int) -> bytes:
    """A gzip member with no file name and a zero timestamp: equal input, equal output."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


class StaticGzip:
    """Compressed static files by (path, ETag): each version is compressed once."""

    def __init__(self, most: int = STATIC_VERSIONS_KEPT) -> None:
        self._kept: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._most = most
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], data: bytes) -> bytes:
        with self._lock:
            packed = self._kept.get(key)
        if packed is not None:
            return packed
        packed = gzip_bytes(data, STATIC_LEVEL)
        with self._lock:
            self._kept[key] = packed
            while len(self._kept) > self._most:
                self._kept.popitem(last=False)
        return packed


def accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def _compressible(response: Response) -> bool:
    return response.mimetype in COMPRESSIBLE


def _eligible(response: Response) -> bool:
    return (
        response.status_code >= 200
        and response.status_code not in _NO_BODY
        and "Content-Encoding" not in response.headers
        and not response.cache_control.no_transform
    )


def _body(response: Response) -> bytes | None:
    """The whole body, or None for a stream that must stay one. A static file (sent through
    a file wrapper) is read: it is small and finite."""
    if response.direct_passthrough and request.endpoint == "static":
        response.direct_passthrough = False
        return response.get_data()
    if response.is_streamed:
        return None
    return response.get_data()


def compress(response: Response, static: StaticGzip) -> Response:
    """Gzip ``response`` in place when it should be."""
    if not _compressible(response):
        return response
    response.vary.add("Accept-Encoding")
    if not accepts_gzip() or not _eligible(response):
        if response.status_code == 304 and accepts_gzip():
            _weaken_etag(response)
        return response
    length = response.content_length
    if length is not None and length < MIN_BYTES:
        return response
    data = _body(response)
    if data is None or len(data) < MIN_BYTES:
        return response
    etag, _ = response.get_etag()
    if request.endpoint == "static" and etag:
        packed = static.get((request.path, etag), data)
    else:
        packed = gzip_bytes(data, PAGE_LEVEL)
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    _weaken_etag(response)
    return response


def _weaken_etag(response: Response) -> None:
    """The gzip variant is a different byte sequence with the same meaning: a weak validator."""
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)


def init_compression(app: Flask) -> None:
    static = StaticGzip()

    @app.after_request
    def gzip_response(response: Response) -> Response:
        return compress(response, static)
