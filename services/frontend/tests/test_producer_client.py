"""The producer client says "nothing was ordered" (Unavailable) only when it knows it, over real
sockets: refused, or the producer's own 503 queue_unavailable. A request sent and never
answered, a 504 outcome_unknown or another 5xx is Unconfirmed: it may have been placed."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from frontend.clients import ProducerClient, Unavailable, Unconfirmed
from tests.support.net import free_port

ORDER = {"customer": {"name": "Ada", "email": "ada@example.com"}, "items": []}


@contextmanager
def answering(status: int, error: str) -> Iterator[str]:
    """A producer stand-in that answers every POST with ``status`` and ``{"error": error}``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"error": error, "detail": error}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def never_answering() -> Iterator[str]:
    """Accepts the connection, reads the request, never answers (a stalled producer)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        try:
            held.append(listener.accept()[0])
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for conn in held:
            conn.close()


def test_nothing_listening_means_nothing_was_ordered() -> None:
    with pytest.raises(Unavailable):
        ProducerClient(f"http://127.0.0.1:{free_port()}", 2.0, None).place(ORDER, "k")


def test_a_request_that_is_never_answered_is_unconfirmed() -> None:
    with never_answering() as url, pytest.raises(Unconfirmed):
        ProducerClient(url, 0.5, None).place(ORDER, "k")


@pytest.mark.parametrize(
    ("status", "error", "raised"),
    [
        (503, "queue_unavailable", Unavailable),
        (504, "outcome_unknown", Unconfirmed),
        (500, "internal_error", Unconfirmed),
        (502, "bad_gateway", Unconfirmed),
    ],
)
def test_a_5xx_is_nothing_ordered_only_when_the_producer_says_so(
    status: int, error: str, raised: type[Exception]
) -> None:
    with answering(status, error) as url, pytest.raises(raised):
        ProducerClient(url, 2.0, None).place(ORDER, "k")
