"""When the buffering worker considers a request whole (and hands it to a thread)."""

from __future__ import annotations

import pytest

from lantern.http_worker import MAX_BUFFERED_BYTES, request_complete

HEAD = b"POST /orders HTTP/1.1\r\nHost: shop\r\n"


def test_a_request_without_a_body_is_whole_at_the_blank_line() -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: shop\r\nAccept: */*\r\n\r\n"
    assert request_complete(request)
    for cut in range(len(request)):  # every prefix, as a byte-a-second client sends it
        assert not request_complete(request[:cut]), request[:cut]


def test_a_declared_body_must_have_arrived() -> None:
    request = (
        HEAD + b"Content-Type: application/json\r\ncontent-length: 11\r\n\r\n" + b'{"a": [1]} '
    )
    assert request_complete(request)
    assert not request_complete(request[:-1])
    assert not request_complete(request.split(b"\r\n\r\n")[0] + b"\r\n\r\n")


def test_a_chunked_body_is_whole_at_its_last_chunk_and_trailers() -> None:
    head = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
    body = b"4\r\nabcd\r\n3;ext=1\r\nxyz\r\n0\r\n\r\n"
    assert request_complete(head + body)
    assert request_complete(head + b"4\r\nabcd\r\n0\r\nX-Sum: 1\r\n\r\n")
    for cut in range(len(body)):
        assert not request_complete(head + body[:cut]), body[:cut]


@pytest.mark.parametrize(
    "request_bytes",
    [
        HEAD + b"Content-Length: nine\r\n\r\n",  # the parser answers 400
        HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",  # likewise
        HEAD + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n",  # waits for 100 Continue
        HEAD + b"Content-Length: 10000000\r\n\r\n" + b"x" * MAX_BUFFERED_BYTES,  # 413 unread
        b"GET /" + b"a" * MAX_BUFFERED_BYTES,  # no end of head in sight: 414/431 from the parser
    ],
    ids=["bad-length", "bad-chunk", "expect-continue", "over-the-buffer", "endless-head"],
)
def test_what_only_the_thread_can_finish_goes_to_it(request_bytes: bytes) -> None:
    assert request_complete(request_bytes)
