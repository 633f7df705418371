"""A StatsD client that can never block or break a request.

``statsd.StatsClient`` resolves its host once, in its constructor, and raises if the name does
not resolve yet (a collector that starts after us). This wrapper retries the resolution at most
every few seconds and drops metrics until it succeeds. UDP sends never wait for an agent.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import statsd

log = logging.getLogger(__name__)
RESOLVE_RETRY_SECONDS = 10.0


class SafeStatsd:
    def __init__(self, host: str | None, port: int, prefix: str) -> None:
        self._host, self._port, self._prefix = host, port, prefix
        self._client: statsd.StatsClient | None = None
        self._next_attempt = 0.0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._host is not None

    def _get(self) -> statsd.StatsClient | None:
        if self._client is not None or self._host is None:
            return self._client
        now = time.monotonic()
        if now < self._next_attempt:
            return None
        with self._lock:
            if self._client is None and now >= self._next_attempt:
                try:
                    self._client = statsd.StatsClient(self._host, self._port, prefix=self._prefix)
                except OSError as exc:
                    self._next_attempt = now + RESOLVE_RETRY_SECONDS
                    log.warning("statsd host %s not resolvable yet: %s", self._host, exc)
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
