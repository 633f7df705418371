"""The supervisor's decisions, on stand-in processes and a fake clock: backoff, the crash-loop
limit, a stable run resetting it, and giving up when the AWS endpoint dies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devstack.supervise import MAX_QUICK_CRASHES, STABLE_SECONDS, Supervisor
from tests.support.units import FakeClock


@dataclass
class Proc:
    returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


@dataclass
class Process:
    proc: Proc = field(default_factory=Proc)


@dataclass
class Config:
    def url(self, name: str) -> str:
        return f"http://127.0.0.1/{name}"


class CrashingStack:
    """Every (re)start of ``consumer`` gives a process that has already exited with 1."""

    def __init__(self) -> None:
        self.config = Config()
        self.endpoint: Process | None = Process()
        self.services: dict[str, Any] = {"producer": Process(), "consumer": Process(Proc(1))}
        self.starts = 0

    def start_service(self, name: str) -> Process:
        self.starts += 1
        started = Process(Proc(1))
        self.services[name] = started
        return started


@dataclass
class Watch:
    stack: CrashingStack = field(default_factory=CrashingStack)
    clock: FakeClock = field(default_factory=FakeClock)
    lines: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)

    def supervisor(self) -> Supervisor:
        return Supervisor(
            self.stack,  # type: ignore[arg-type]
            log=self.lines.append,
            sleep=self.sleep,
            clock=self.clock,
        )


def test_a_crash_loop_backs_off_then_gives_up() -> None:
    w = Watch()
    supervisor = w.supervisor()

    problems = [supervisor.check() for _ in range(MAX_QUICK_CRASHES + 1)]

    assert problems[:-1] == [None] * MAX_QUICK_CRASHES
    assert (
        problems[-1] == f"consumer exited {MAX_QUICK_CRASHES} times without staying up; giving up"
    )
    assert w.waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert w.stack.starts == MAX_QUICK_CRASHES
    assert w.lines[0] == "consumer exited with 1; restarting in 1s (restart 1)"


def test_a_service_that_stayed_up_starts_its_count_again() -> None:
    w = Watch()
    supervisor = w.supervisor()
    for _ in range(3):
        supervisor.check()
    w.clock.advance(STABLE_SECONDS)

    assert supervisor.check() is None
    assert w.waits[-1] == 1.0  # back to the first, shortest wait


def test_the_endpoint_dying_cannot_be_recovered() -> None:
    w = Watch()
    w.stack.endpoint = Process(Proc(-9))
    problem = w.supervisor().check()
    assert problem is not None
    assert "AWS endpoint (moto) exited with -9" in problem
    assert w.stack.starts == 0
