"""A StatsD client that can never block or break a request.

``statsd.StatsClient`` resolves its host once, in its constructor, and raises if the name does
not resolve yet (a collector that starts after us). This wrapper resolves once when it is built
(process start, never a request) and, while the name does not resolve, retries from a background
thread every few seconds and drops metrics meanwhile. Requests never resolve names, and UDP sends
never wait for an agent.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import statsd

from lantern.logs import get_logger

log = get_logger(__name__)
RESOLVE_RETRY_SECONDS = 10.0


class SafeStatsd:
    def __init__(self, host: str | None, port: int, prefix: str) -> None:
        self._host, self._port, self._prefix = host, port, prefix
        self._client: statsd.StatsClient | None = None
        if host is not None and not self._connect():
            threading.Thread(target=self._retry, name="statsd-resolve", daemon=True).start()

    @property
    def enabled(self) -> bool:
        return self._host is not None

    def _connect(self, first: bool = True) -> bool:
        try:
            self._client = statsd.StatsClient(self._host, self._port, prefix=self._prefix)
        except OSError as exc:
            # Once, loudly: a name that never resolves is a setting to fix, not news every 10 s.
            log.log(
                logging.WARNING if first else logging.DEBUG,
                "statsd host not resolvable",
                host=self._host,
                error=str(exc),
            )
            return False
        return True

    def _retry(self) -> None:
        while True:
            time.sleep(RESOLVE_RETRY_SECONDS)
            if self._connect(first=False):
                return

    def _get(self) -> statsd.StatsClient | None:
        return self._client

    def _send(self, method: str, *args: Any) -> None:
        client = self._get()
        if client is None:
            return
        try:
            getattr(client, method)(*args)
        except Exception:
            log.debug("statsd send failed", exc_info=True)

    def incr(self, name: str, count: int = 1) -> None:
        self._send("incr", name, count)

    def timing(self, name: str, seconds: float) -> None:
        self._send("timing", name, seconds * 1000.0)

    def gauge(self, name: str, value: float) -> None:
        self._send("gauge", name, value)

    def timer(self, name: str) -> AbstractContextManager[Any]:
        client = self._get()
        return client.timer(name) if client is not None else nullcontext()
