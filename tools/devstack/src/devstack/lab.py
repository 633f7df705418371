"""The scaling lab's timeline, computed from its settings: ``python -m devstack.lab``.

docs/labs.md prints this module's output for the blog scenario (orders arrive at 1/s, each
consumer replica takes one message per 5 s, KEDA adds a replica per 30 messages of backlog up to
10, an alarm fires at 8 replicas), and a test holds the two together and the settings to the
manifests, so the page cannot drift from what the cluster will do.

The simulation steps one second at a time: orders arrive, ready replicas work the backlog, the
HPA re-decides every 15 s (:mod:`devstack.scaling`), a new replica consumes after
``replica_start_seconds``, messages leave oldest first, and each alarm is judged on one-minute
maxima as CloudWatch judges them: the running replica count (Container Insights'
``service_number_of_running_pods``) and the oldest message's age (SQS's
``ApproximateAgeOfOldestMessage``).
"""

from __future__ import annotations

import sys
from collections import deque
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
    """A CloudWatch alarm on one-minute values of ``metric``: ALARM after ``datapoints``
    breaching minutes in a row (evaluationPeriods = datapointsToAlarm), OK after one that is not."""

    name: str
    metric: str  # "replicas" (running consumer pods, Maximum) or "age" (oldest message, Maximum)
    threshold: float
    inclusive: bool  # GreaterThanOrEqualToThreshold, else GreaterThanThreshold
    datapoints: int
    period: float = 60.0

    def breached(self, value: float) -> bool:
        return value >= self.threshold if self.inclusive else value > self.threshold


REPLICAS_ALARM = Alarm("replicas alarm", "replicas", 8, inclusive=True, datapoints=5)
AGE_ALARM = Alarm("oldest-message alarm", "age", 120, inclusive=False, datapoints=3)


@dataclass(frozen=True)
class Lab:
    phases: tuple[Phase, ...]
    policy: ScalingPolicy
    concurrency: int = 1
    work_ms: int = 5000
    replica_start_seconds: float = 30.0
    alarms: tuple[Alarm, ...] = (REPLICAS_ALARM, AGE_ALARM)
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
    age: int  # seconds the oldest message has waited
    what: str


@dataclass
class _Judge:
    alarm: Alarm
    worst: float = 0.0  # this minute's maximum
    breaches: list[bool] = field(default_factory=list)
    state: str = "OK"

    def end_of_minute(self) -> str | None:
        """The new state when it changes."""
        keep = self.alarm.datapoints
        self.breaches = [*self.breaches, self.alarm.breached(self.worst)][-keep:]
        self.worst = 0.0
        new = "ALARM" if len(self.breaches) == keep and all(self.breaches) else "OK"
        changed, self.state = new != self.state, new
        return new if changed else None


@dataclass
class _State:
    queue: deque[float] = field(default_factory=deque)  # arrival time of each message not deleted
    arriving: float = 0.0  # fractions of an order carried to the next second
    working: float = 0.0  # fractions of a finished order carried likewise
    replicas: int = 1  # the count the HPA asked for
    starting: list[float] = field(default_factory=list)  # when each starting replica is ready

    @property
    def ready(self) -> int:
        return self.replicas - len(self.starting)

    def age(self, now: float) -> float:
        return now - self.queue[0] if self.queue else 0.0

    def second(self, now: float, rate: float, per_replica: float) -> None:
        """One second: orders arrive, then the ready replicas finish what they can, oldest first."""
        self.arriving += rate
        while self.arriving >= 1:
            self.queue.append(now)
            self.arriving -= 1
        self.working += self.ready * per_replica
        while self.working >= 1 and self.queue:
            self.queue.popleft()
            self.working -= 1
        if not self.queue:
            self.working = 0.0  # idle capacity is not saved up


def simulate(lab: Lab) -> Iterator[Event]:
    """The lab's notable moments: phases, each scaling step, alarm changes, an empty queue."""
    scaler, state = Autoscaler(lab.policy), _State(replicas=lab.policy.min_replicas)
    judges = [_Judge(alarm) for alarm in lab.alarms]
    phases = sorted(lab.phases, key=lambda p: p.at)
    rate, drained = 0.0, True
    for second in range(int(lab.end) + 1):
        now = float(second)
        for phase in (p for p in phases if p.at == now):
            rate = phase.orders_per_second
            yield _event(now, state, phase.what)
        state.starting = [t for t in state.starting if t > now]
        state.second(now, rate, lab.per_replica_rate)
        if second and second % SYNC_SECONDS == 0:
            yield from _rescale(lab, scaler, state, now)
        for judge in judges:
            if second and second % judge.alarm.period == 0:
                new = judge.end_of_minute()
                if new is not None:
                    yield _event(now, state, f"{judge.alarm.name} → {new}")
            value = state.ready if judge.alarm.metric == "replicas" else state.age(now)
            judge.worst = max(judge.worst, value)
        if (not state.queue) != drained:
            drained = not state.queue
            if drained:
                yield _event(now, state, "queue empty")


def _rescale(lab: Lab, scaler: Autoscaler, state: _State, now: float) -> Iterator[Event]:
    target = scaler.decide(now, len(state.queue), state.replicas)
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
    noun = "replica" if target == 1 else "replicas"
    yield _event(now, state, f"{word}: {before} → {target} {noun}")


def _event(now: float, state: _State, what: str) -> Event:
    return Event(now, state.replicas, len(state.queue), round(state.age(now)), what)


def timeline_table(lab: Lab) -> str:
    """The events as the Markdown table docs/labs.md shows."""
    rows = [
        "| time | backlog | oldest waits | replicas | what happens |",
        "|---:|---:|---:|---:|---|",
    ]
    for event in simulate(lab):
        minutes, seconds = divmod(int(event.at), 60)
        clock = f"{minutes}:{seconds:02d}"
        cells = [clock, str(event.backlog), f"{event.age} s", str(event.replicas), event.what]
        rows.append(f"| {' | '.join(cells)} |")
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
