"""How KEDA and the HorizontalPodAutoscaler size the consumer on queue depth, as plain arithmetic.

One model serves two purposes: ``make run``'s local scaler (:mod:`devstack.scaler`) sizes the
consumer with it, and :mod:`devstack.lab` replays a lab's timeline with it, so the numbers in
docs/labs.md are computed from the same settings the manifests carry.

What is modelled, from the Kubernetes HPA algorithm and KEDA's aws-sqs-queue scaler:

- the metric is the backlog, visible plus in-flight messages (``scaleOnInFlight: "true"``), and
  the target is ``queueLength`` messages per replica, so the wanted count is
  ``ceil(backlog / queueLength)`` clamped to [min, max];
- the HPA ignores a ratio within 10 % of its target (its default tolerance);
- scale-up: at most max(4 pods, 100 %) more per 15 s period, with no stabilization (the HPA's
  default behaviour, which the ScaledObject leaves alone);
- scale-down: the highest wish of the last ``stabilization`` seconds, and at most ``pods`` fewer
  per ``period`` seconds (the ScaledObject's ``behavior.scaleDown``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

TOLERANCE = 0.1  # the HPA's --horizontal-pod-autoscaler-tolerance default
SYNC_SECONDS = 15.0  # how often the HPA controller re-evaluates (kube-controller-manager default)
SCALE_UP_PODS, SCALE_UP_PERCENT, SCALE_UP_PERIOD = 4, 100, 15.0  # the HPA's default scaleUp


@dataclass(frozen=True)
class ScalingPolicy:
    """The ScaledObject's numbers (k8s/components/keda/scaledobject.yaml and lab patches)."""

    queue_length: int = 10  # components/keda's queueLength (docs/benchmarks.md: why 10)
    min_replicas: int = 1
    max_replicas: int = 10
    scale_down_stabilization: float = 60.0
    scale_down_pods: int = 2
    scale_down_period: float = 30.0

    def wanted(self, backlog: float, current: int) -> int:
        """The replica count the HPA computes for this backlog, before its rate limits."""
        if current > 0:
            ratio = backlog / (current * self.queue_length)
            if abs(ratio - 1.0) <= TOLERANCE:
                return current
        wanted = math.ceil(backlog / self.queue_length)
        return min(max(wanted, self.min_replicas), self.max_replicas)


@dataclass
class Autoscaler:
    """The HPA's decision loop for one target, fed the backlog every :data:`SYNC_SECONDS`."""

    policy: ScalingPolicy
    _wishes: deque[tuple[float, int]] = field(default_factory=deque)
    _changes: deque[tuple[float, int]] = field(default_factory=deque)  # (when, +/- pods)

    def decide(self, now: float, backlog: float, current: int) -> int:
        """The new replica count at time ``now`` (seconds, any monotonic origin)."""
        wish = self.policy.wanted(backlog, current)
        self._remember(now, wish)
        if wish > current:
            target = min(wish, current + self._room_up(now, current))
        else:
            # Scale down only to the highest wish of the window, and no faster than the policy.
            target = max(max(w for _, w in self._wishes), current - self._room_down(now))
            target = min(target, current)
        if target != current:
            self._changes.append((now, target - current))
        return target

    def _remember(self, now: float, wish: int) -> None:
        self._wishes.append((now, wish))
        while self._wishes and self._wishes[0][0] < now - self.policy.scale_down_stabilization:
            self._wishes.popleft()

    def _recent(self, now: float, period: float, sign: int) -> int:
        return sum(abs(d) for t, d in self._changes if t > now - period and d * sign > 0)

    def _room_up(self, now: float, current: int) -> int:
        """Limits count from the replicas the period started with, as the HPA's do."""
        start = current - self._recent(now, SCALE_UP_PERIOD, +1)
        allowed = max(SCALE_UP_PODS, math.ceil(start * SCALE_UP_PERCENT / 100))
        return max(start + allowed - current, 0)

    def _room_down(self, now: float) -> int:
        used = self._recent(now, self.policy.scale_down_period, -1)
        return max(self.policy.scale_down_pods - used, 0)
