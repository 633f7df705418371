"""The scaling lab's timeline, computed from its settings: ``python -m devstack.lab``.

docs/labs.md prints this module's output for the blog scenario (orders arrive at 1/s, each
consumer replica takes one message per 5 s, KEDA adds a replica per 30 messages of backlog up to
10, an alarm fires at 8 replicas), and a test holds the two together and the settings to the
manifests, so the page cannot drift from what the cluster will do.

The simulation steps one second at a time: orders arrive, ready replicas work the backlog, the
HPA re-decides every 15 s (:mod:`devstack.scaling`), a new replica consumes after
``replica_start_seconds``, and the replicas alarm is judged on one-minute maxima of the running
replica count, as CloudWatch judges Container Insights' ``service_number_of_running_pods``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from devstack.scaling import SYNC_SECONDS, Autoscaler, ScalingPolicy


@dataclass(frozen=True)
class Phase:
    at: float  # seconds from the start
    orders_per_second: float
    what: str


@dataclass(frozen=True)
class Alarm:
    threshold: int = 8  # replicas, GreaterThanOrEqualToThreshold
    period: float = 60.0
    datapoints: int = 5  # out of as many evaluation periods


@dataclass(frozen=True)
class Lab:
    phases: tuple[Phase, ...]
    policy: ScalingPolicy
    concurrency: int = 1
    work_ms: int = 5000
    replica_start_seconds: float = 30.0
    alarm: Alarm = field(default_factory=Alarm)
    end: float = 3600.0

    @property
    def per_replica_rate(self) -> float:
        """Orders a replica finishes per second: its threads over the work time."""
        return self.concurrency * 1000.0 / self.work_ms


BLOG = Lab(
    phases=(
        Phase(0, 1.0, "generator on: 1 order/s"),
        Phase(900, 2.0, "rush: a second generator, 2 orders/s"),
        Phase(1500, 1.0, "rush over: back to 1 order/s"),
        Phase(2100, 0.0, "generator off"),
    ),
    policy=ScalingPolicy(queue_length=30, min_replicas=1, max_replicas=10),
)


@dataclass(frozen=True)
class Event:
    at: float
    replicas: int
    backlog: int
    what: str


@dataclass
class _State:
    backlog: float = 0.0
    replicas: int = 1  # the count the HPA asked for
    starting: list[float] = field(default_factory=list)  # when each starting replica is ready
    minute_max: int = 1
    breaches: list[bool] = field(default_factory=list)
    alarm: str = "OK"

    @property
    def ready(self) -> int:
        return self.replicas - len(self.starting)


def simulate(lab: Lab) -> Iterator[Event]:
    """The lab's notable moments: phases, each scaling step, alarm changes, an empty queue."""
    scaler, state = Autoscaler(lab.policy), _State(replicas=lab.policy.min_replicas)
    phases = sorted(lab.phases, key=lambda p: p.at)
    rate, drained = 0.0, True
    for second in range(int(lab.end) + 1):
        now = float(second)
        for phase in (p for p in phases if p.at == now):
            rate = phase.orders_per_second
            yield _event(now, state, phase.what)
        state.starting = [t for t in state.starting if t > now]
        state.backlog += rate
        state.backlog -= min(state.backlog, state.ready * lab.per_replica_rate)
        if second and second % SYNC_SECONDS == 0:
            yield from _rescale(lab, scaler, state, now)
        if second and second % lab.alarm.period == 0:
            yield from _judge_alarm(lab.alarm, state, now)
        state.minute_max = max(state.minute_max, state.replicas)
        if (state.backlog < 1) != drained:
            drained = state.backlog < 1
            if drained:
                yield _event(now, state, "queue empty")


def _rescale(lab: Lab, scaler: Autoscaler, state: _State, now: float) -> Iterator[Event]:
    target = scaler.decide(now, state.backlog, state.replicas)
    if target > state.replicas:
        state.starting += [now + lab.replica_start_seconds] * (target - state.replicas)
        word = "KEDA scales out"
    elif target < state.replicas:
        stopping = state.replicas - target  # the starting replicas go first
        state.starting = state.starting[: max(len(state.starting) - stopping, 0)]
        word = "scale-in"
    else:
        return
    before, state.replicas = state.replicas, target
    yield _event(now, state, f"{word}: {before} → {target} replicas")


def _judge_alarm(alarm: Alarm, state: _State, now: float) -> Iterator[Event]:
    state.breaches = [*state.breaches, state.minute_max >= alarm.threshold][-alarm.datapoints :]
    state.minute_max = state.replicas
    firing = len(state.breaches) == alarm.datapoints and all(state.breaches)
    new = "ALARM" if firing else "OK"
    if new != state.alarm:
        state.alarm = new
        yield _event(now, state, f"replicas alarm → {new}")


def _event(now: float, state: _State, what: str) -> Event:
    return Event(now, state.replicas, math.ceil(state.backlog), what)


def timeline_table(lab: Lab) -> str:
    """The events as the Markdown table docs/labs.md shows."""
    rows = ["| time | backlog | replicas | what happens |", "|---:|---:|---:|---|"]
    for event in simulate(lab):
        minutes, seconds = divmod(int(event.at), 60)
        clock = f"{minutes}:{seconds:02d}"
        rows.append(f"| {clock} | {event.backlog} | {event.replicas} | {event.what} |")
    return "\n".join(rows)


def main() -> int:
    lab = BLOG
    print(
        f"{lab.per_replica_rate:g} orders/s per replica ({lab.concurrency} thread x "
        f"{lab.work_ms} ms), one replica per {lab.policy.queue_length} messages of backlog, "
        f"{lab.policy.min_replicas} to {lab.policy.max_replicas} replicas, a new replica consumes "
        f"{lab.replica_start_seconds:g} s after KEDA asks for it\n"
    )
    print(timeline_table(lab))
    return 0


if __name__ == "__main__":
    sys.exit(main())
