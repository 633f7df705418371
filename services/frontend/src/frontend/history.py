"""The pipeline's recent past, kept by the storefront process: one reader, a bounded ring.

Every storefront worker process holds one :class:`PipelineHistory`. Its thread takes a reading
every ``idle_seconds`` from the moment the worker starts, watched or not, and keeps the last
``keep_seconds``; pages that ask (:meth:`PipelineHistory.current`) share one reading per
``fresh_seconds`` however many are open. So a reload, or a second screen answered by another
worker or another replica, draws the same ten minutes: every ring was filled from the same
sources over the same time, at most ``idle_seconds`` apart. (A worker that started later has
a shorter past; a restart begins it again.)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

Reading = dict[str, Any]
Read = Callable[[bool], Reading]  # watched -> one reading (see frontend.pipeline.snapshot)
KEEP_SECONDS = 600.0


def point(reading: Reading) -> list[float | None]:
    """What a chart needs of a reading: ``[at, accepted, done, queue visible, dlq total]``."""
    queue, dlq = reading.get("queue") or {}, reading.get("dlq") or {}
    return [
        reading["at"],
        reading["producer"].get("accepted"),
        reading["consumer"].get("done"),
        queue.get("visible"),
        dlq.get("total"),
    ]


class PipelineHistory:
    def __init__(
        self,
        read: Read,
        *,
        clock: Callable[[], float] = time.time,
        fresh_seconds: float = 0.5,
        idle_seconds: float = 2.0,
        keep_seconds: float = KEEP_SECONDS,
        watch_seconds: float = 10.0,
    ) -> None:
        self._read, self._clock = read, clock
        self._fresh, self._idle = fresh_seconds, idle_seconds
        self._keep, self._watch = keep_seconds, watch_seconds
        self._points: deque[list[float | None]] = deque(
            maxlen=int(keep_seconds / min(fresh_seconds, idle_seconds)) + 1
        )
        self._latest: Reading | None = None
        self._watched_at = float("-inf")
        self._lock = threading.Lock()  # the ring and the latest reading
        self._reading = threading.Lock()  # one reading at a time
        self._stop = threading.Event()

    def current(self) -> Reading:
        """A reading at most ``fresh_seconds`` old, taken now if none is; counts as watching."""
        with self._lock:
            self._watched_at = self._clock()
        return self._fresh_reading(self._fresh, watched=True)

    def points(self, since: float | None = None) -> list[list[float | None]]:
        """The ring's points, oldest first (only those after ``since`` when given)."""
        with self._lock:
            return [p for p in self._points if since is None or (p[0] or 0) > since]

    def tick(self) -> float:
        """The background step: a reading when the last is ``idle_seconds`` old; returns the
        seconds until the next is due."""
        with self._lock:
            watched = self._clock() - self._watched_at <= self._watch
        reading = self._fresh_reading(self._idle, watched=watched)
        return max(0.0, float(reading["at"]) + self._idle - self._clock())

    def start(self) -> None:
        threading.Thread(target=self._run, name="pipeline-history", daemon=True).start()

    def stop(self, timeout: float) -> None:
        self._stop.set()

    def _fresh_reading(self, max_age: float, *, watched: bool) -> Reading:
        latest = self._latest
        if latest is not None and self._clock() - latest["at"] < max_age:
            return latest
        with self._reading:  # the others wait, then use what the first one read
            latest = self._latest
            if latest is not None and self._clock() - latest["at"] < max_age:
                return latest
            reading = self._read(watched)
            self._add(reading)
            return reading

    def _add(self, reading: Reading) -> None:
        with self._lock:
            self._latest = reading
            self._points.append(point(reading))
            horizon = reading["at"] - self._keep
            while self._points and (self._points[0][0] or 0) < horizon:
                self._points.popleft()

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.wait(delay):
            try:
                delay = self.tick()
            except Exception:  # noqa: BLE001 - a bad reading must not end the history
                delay = self._idle
