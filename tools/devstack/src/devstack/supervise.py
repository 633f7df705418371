"""``make run`` keeps the shop up as Kubernetes or compose would: a service that exits is started
again, after 1 s, then 2, 4 ... up to 30 s between tries, with a line saying so. The AWS endpoint
(and every queued order and record it holds) stays up throughout, so an accepted order survives
its consumer's crash. The runner gives up, and exits 1, only when it cannot recover: the endpoint
itself died (its data went with it), or a service crashed five times without staying up 30 s.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devstack.stack import Stack

if TYPE_CHECKING:
    from devstack.scaler import LocalScaler

MAX_QUICK_CRASHES = 5
STABLE_SECONDS = 30.0  # up this long, a service's crash count starts again from zero
MAX_BACKOFF_SECONDS = 30.0


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class _Restarts:
    count: int = 0
    started: float = 0.0


class Supervisor:
    def __init__(
        self,
        stack: Stack,
        *,
        log: Callable[[str], None] = _to_stderr,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        scaler: LocalScaler | None = None,
    ) -> None:
        self._stack, self._log, self._sleep, self._clock = stack, log, sleep, clock
        self._scaler = scaler
        self._restarts = {name: _Restarts(started=clock()) for name in stack.services}
        self.restarted: list[str] = []  # every restart, in order (for tests and the summary)

    def run(self) -> int:
        """Watch until the stack cannot be recovered; then the exit code (Ctrl-C ends it too)."""
        while True:
            self._sleep(1.0)
            problem = self.check()
            if problem is not None:
                self._log(f"make run: {problem}")
                return 1
            if self._scaler is not None:
                self._scaler.tick()  # here, in the thread that started the stack

    def check(self) -> str | None:
        """One pass: restart what exited; say why not when it cannot be done."""
        endpoint = self._stack.endpoint
        if endpoint is not None and endpoint.proc is not None and endpoint.proc.poll() is not None:
            code = endpoint.proc.returncode
            return f"the AWS endpoint (moto) exited with {code}; its queues and table went with it"
        self._check_traces()
        for name, process in list(self._stack.services.items()):
            if process.proc is not None and process.proc.poll() is not None:
                problem = self._restart(name, process.proc.returncode)
                if problem is not None:
                    return problem
        return None

    def _check_traces(self) -> None:
        """The trace receiver is a convenience: when it exits it is started again (its traces
        are gone), and the shop never stops for it."""
        traces = getattr(self._stack, "traces", None)  # a stack may run without one
        if traces is None or traces.proc is None or traces.proc.poll() is None:
            return
        self._log(f"the trace viewer exited with {traces.proc.returncode}; starting it again")
        try:
            self._stack.start_traces()
        except (RuntimeError, TimeoutError, OSError) as exc:
            self._log(f"the trace viewer did not come back: {str(exc).splitlines()[0]}")
            self._stack.traces = None

    def _restart(self, name: str, code: int) -> str | None:
        restarts = self._restarts.setdefault(name, _Restarts())
        if self._clock() - restarts.started >= STABLE_SECONDS:
            restarts.count = 0
        restarts.count += 1
        if restarts.count > MAX_QUICK_CRASHES:
            return f"{name} exited {MAX_QUICK_CRASHES} times without staying up; giving up"
        delay = min(2.0 ** (restarts.count - 1), MAX_BACKOFF_SECONDS)
        self._log(
            f"{name} exited with {code}; restarting in {delay:.0f}s (restart {restarts.count})"
        )
        self._sleep(delay)
        restarts.started = self._clock()
        try:
            self._stack.start_service(name)
        except (RuntimeError, TimeoutError) as exc:
            self._log(f"{name} did not come back: {str(exc).splitlines()[0]}")
            return None  # the next pass sees it down and tries again, later
        self.restarted.append(name)
        self._log(f"{name} is back at {self._stack.config.url(name)}")
        return None
