"""How responses travel: gzip when the browser takes it, and cache headers for static files."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from frontend.assets import IMMUTABLE, REVALIDATE
from frontend.compression import MIN_BYTES

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
_STYLESHEET = re.compile(r'href="(/static/css/site\.css\?v=[0-9a-f]{10})"')


def stylesheet_url(client: FlaskClient) -> str:
    match = _STYLESHEET.search(client.get("/").get_data(as_text=True))
    assert match, "the home page links no fingerprinted stylesheet"
    return match.group(1)


def vary(response: TestResponse) -> set[str]:
    header = response.headers.get("Vary", "")
    return {part.strip() for part in header.split(",") if part.strip()}


def test_pages_are_gzipped_for_a_browser_that_accepts_it(client: FlaskClient) -> None:
    plain = client.get("/products/LNT-001")
    packed = client.get("/products/LNT-001", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in vary(packed)
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    assert gzip.decompress(packed.get_data()) == plain.get_data()


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "br", "*;q=0"])
def test_no_gzip_unless_asked_for_but_the_answer_still_varies(
    client: FlaskClient, accept: str | None
) -> None:
    headers = {"Accept-Encoding": accept} if accept else {}
    response = client.get("/", headers=headers)
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in vary(response)
    assert b"Light for long evenings" in response.get_data()


def test_a_wildcard_accepts_gzip(client: FlaskClient) -> None:
    assert client.get("/", headers={"Accept-Encoding": "*"}).headers["Content-Encoding"] == "gzip"


def test_a_tiny_body_is_sent_as_it_is(client: FlaskClient) -> None:
    response = client.get("/healthz", headers=GZIP)
    assert response.status_code == 200
    assert len(response.get_data()) < MIN_BYTES
    assert "Content-Encoding" not in response.headers


def test_head_says_what_get_would_send_without_a_body(client: FlaskClient) -> None:
    got = client.get("/cart", headers=GZIP)
    head = client.head("/cart", headers=GZIP)
    assert head.status_code == 200
    assert head.get_data() == b""
    assert head.headers["Content-Encoding"] == "gzip"
    assert head.headers["Content-Length"] == got.headers["Content-Length"]


def test_error_pages_and_json_are_compressed_too(client: FlaskClient) -> None:
    missing = client.get("/no-such-page", headers=GZIP)
    assert missing.status_code == 404
    assert missing.headers["Content-Encoding"] == "gzip"
    assert b"We could not find that page" in gzip.decompress(missing.get_data())


@pytest.fixture
def odd_routes(app: Flask) -> Flask:
    """Routes whose answers must pass through untouched."""
    body = b"x" * (4 * MIN_BYTES)

    @app.get("/test/png")
    def png() -> Response:
        return Response(body, mimetype="image/png")

    @app.get("/test/stream")
    def stream() -> Response:
        def chunks() -> Iterator[bytes]:
            yield b"<p>" + body
            yield b"</p>"

        return Response(chunks(), mimetype="text/html")

    @app.get("/test/encoded")
    def encoded() -> Response:
        return Response(
            gzip.compress(body), mimetype="text/html", headers={"Content-Encoding": "gzip"}
        )

    @app.get("/test/no-transform")
    def no_transform() -> Response:
        return Response(body, mimetype="text/html", headers={"Cache-Control": "no-transform"})

    return app


@pytest.mark.parametrize("path", ["/test/png", "/test/stream", "/test/no-transform"])
def test_binary_streamed_and_no_transform_answers_are_not_compressed(
    odd_routes: Flask, path: str
) -> None:
    response = odd_routes.test_client().get(path, headers=GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert b"x" * 100 in response.get_data()


def test_an_encoded_answer_is_not_compressed_twice(odd_routes: Flask) -> None:
    response = odd_routes.test_client().get("/test/encoded", headers=GZIP)
    assert gzip.decompress(response.get_data()) == b"x" * (4 * MIN_BYTES)


def test_fingerprinted_static_files_are_immutable_for_a_year(client: FlaskClient) -> None:
    response = client.get(stylesheet_url(client), headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert "Expires" not in response.headers
    assert response.headers["Content-Encoding"] == "gzip"
    assert b".site-header" in gzip.decompress(response.get_data())


@pytest.mark.parametrize("query", ["", "?v=0123456789", "?v="])
def test_static_urls_without_the_current_hash_are_revalidated(
    client: FlaskClient, query: str
) -> None:
    response = client.get(f"/static/css/site.css{query}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == REVALIDATE
    assert response.headers.get("ETag")


def test_a_compressed_static_file_revalidates_to_304(client: FlaskClient) -> None:
    url = stylesheet_url(client)
    first = client.get(url, headers=GZIP)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')  # the gzip variant's bytes differ from the file's
    again = client.get(url, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert "Content-Encoding" not in again.headers
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == IMMUTABLE
    assert "Accept-Encoding" in vary(again)


def test_an_uncompressed_static_file_keeps_its_strong_etag_and_304(client: FlaskClient) -> None:
    first = client.get("/static/css/site.css")
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")
    assert client.get("/static/css/site.css", headers={"If-None-Match": etag}).status_code == 304


def test_static_range_requests_are_answered_uncompressed(client: FlaskClient) -> None:
    response = client.get("/static/css/site.css", headers={**GZIP, "Range": "bytes=0-99"})
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert len(response.get_data()) == 100


def test_svg_images_are_compressed_and_the_same_bytes_each_time(client: FlaskClient) -> None:
    first = client.get("/static/img/hero.svg", headers=GZIP)
    second = client.get("/static/img/hero.svg", headers=GZIP)
    assert first.headers["Content-Encoding"] == "gzip"
    assert first.get_data() == second.get_data()
    assert gzip.decompress(first.get_data()).startswith(b"<svg")


def test_pages_stay_out_of_shared_caches(client: FlaskClient) -> None:
    assert client.get("/", headers=GZIP).headers["Cache-Control"] == "no-store"
