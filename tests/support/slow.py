"""Slow clients for loopback tests: connections that send their request a byte at a time.

Each connection sends a request line and a first header at once, then one more byte of an
endless header every ``interval`` seconds, so it never completes a request and, on a server that
gives a thread to each connection, holds that thread for as long as it lives.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

from tests.support.net import http

START = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class SlowClients:
    def __init__(self, port: int, count: int, interval: float = 0.5) -> None:
        self._port, self._count, self._interval = port, count, interval
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self._count):
            sock = socket.create_connection(("127.0.0.1", self._port), timeout=5)
            sock.sendall(START)
            sock.setblocking(False)
            self._sockets.append(sock)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self._sockets:
            sock.close()

    def still_held(self) -> int:
        """How many connections the server has neither answered nor closed."""
        held = 0
        for sock in self._sockets:
            try:
                sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                held += 1
            except OSError:
                pass
        return held

    def _trickle(self) -> None:
        while not self._stop.wait(self._interval):
            for sock in self._sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    pass  # answered and closed by the server: nothing more to send


def timed_get(url: str, timeout: float) -> tuple[int, float]:
    """GET ``url`` on a fresh connection; (status, seconds taken). Raises on a timeout."""
    started = time.monotonic()
    status, _, _ = http("GET", url, timeout=timeout)
    return status, time.monotonic() - started
