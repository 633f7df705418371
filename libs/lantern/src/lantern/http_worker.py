"""A gunicorn worker that reads each request whole before a thread serves it.

Stock ``gthread`` hands a connection to one of its few threads as soon as the first byte
arrives, and the thread then blocks reading the rest. Forty clients sending their headers a byte
a second hold forty threads, and ``/healthz`` waits behind them until Kubernetes restarts a
healthy pod. There is no proxy in front to buffer requests (none in compose, ``make run`` or the
cluster's own probes), so this worker does it itself: its event loop reads requests without
blocking, and a thread gets a connection only once the request line, the headers and a body of
declared length have arrived. Threads never wait on a client, so slow clients cost a socket and
a buffer each, not a thread.

A client has ``WEB_READ_TIMEOUT`` seconds from connecting (or from its previous response, on a
kept-alive connection) to send its request; after that it is answered 408 and closed. Only what
this worker cannot know the end of stays with a thread: a body over ``MAX_BUFFERED_BYTES``
(the apps refuse those with 413 before reading them) and one sent after ``Expect: 100-continue``.
"""

from __future__ import annotations

import os
import selectors
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from lantern.orders import MAX_BODY_BYTES
from lantern.settings import web_read_timeout

# Largest request (head and body) buffered here; a larger one's rest is read by its thread.
MAX_BUFFERED_BYTES = MAX_BODY_BYTES + 16 * 1024
HEAD_END = b"\r\n\r\n"
TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


def request_complete(data: bytes) -> bool:
    """Whether ``data`` holds a whole HTTP/1.x request, or as much of one as is buffered here.

    Anything malformed counts as complete: the thread's parser then refuses it with a 400.
    """
    head_end = data.find(HEAD_END)
    if head_end < 0:
        return len(data) >= MAX_BUFFERED_BYTES
    headers = _headers(data[:head_end])
    body = data[head_end + len(HEAD_END) :]
    if headers.get("expect", "").lower() == "100-continue":
        return True  # the client waits for "100 Continue", which the thread sends
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return len(data) >= MAX_BUFFERED_BYTES or _chunks_complete(body)
    length = headers.get("content-length", "0")
    if not length.isdigit():
        return True
    return len(body) >= min(int(length), MAX_BUFFERED_BYTES - head_end)


def _headers(head: bytes) -> dict[str, str]:
    """The head's header fields by lower-case name (the first of a repeated one)."""
    fields: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            fields.setdefault(
                name.strip().lower().decode("latin-1"), value.strip().decode("latin-1")
            )
    return fields


def _chunks_complete(body: bytes) -> bool:
    """Whether a chunked body has arrived up to its last chunk and trailer section."""
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return False
        size_field = body[position:line_end].split(b";")[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return True
        if size == 0:  # the last chunk: whole once the (possibly empty) trailers have ended
            return HEAD_END in body[line_end:]
        position = line_end + 2 + size + 2
        if position > len(body):
            return False


@dataclass
class _Arriving:
    """A connection whose request is still arriving."""

    deadline: float
    data: bytearray = field(default_factory=bytearray)


class BufferingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """``gthread`` with requests read by the event loop (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = web_read_timeout(os.environ)
        self._arriving: dict[Any, _Arriving] = {}

    def enqueue_req(self, conn: Any) -> None:
        """Every path to a thread (new, kept-alive, pipelined) waits for a whole request first."""
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        arriving = _Arriving(time.monotonic() + self.read_timeout, bytearray(held))
        conn.sock.setblocking(False)
        self._arriving[conn] = arriving
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_data, conn))
        # Most requests are already here (or held from a pipelined read): no loop turn for them.
        self._on_data(conn, conn.sock, receive=not held)

    def _on_data(self, conn: Any, _sock: Any, receive: bool = True) -> None:
        arriving = self._arriving[conn]
        if receive:
            try:
                chunk = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                chunk = b""
            if not chunk:  # the client went away before its request was whole
                self._forget(conn)
                self._close(conn)
                return
            arriving.data += chunk
        if request_complete(bytes(arriving.data)):
            self._forget(conn)
            conn.lantern_request = bytes(arriving.data)
            super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """In the thread: the parser starts from the buffered request, never waits for one."""
        request = conn.__dict__.pop("lantern_request", b"")
        conn.data_ready = True
        conn.sock.setblocking(True)
        conn.init()
        conn.parser.unreader.unread(request)
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Also close connections whose request did not arrive in time (all idle ones once
        stopping): a 408 for a request begun, silence for none."""
        super().murder_pending()
        now = time.monotonic()
        for conn, arriving in list(self._arriving.items()):
            stopping_idle = not self.alive and not arriving.data
            if arriving.deadline <= now or stopping_idle:
                self._forget(conn)
                if arriving.data:
                    try:
                        conn.sock.send(TIMED_OUT)
                    except OSError:
                        pass
                self._close(conn)

    def _forget(self, conn: Any) -> None:
        del self._arriving[conn]
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()
