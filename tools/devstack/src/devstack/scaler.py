"""``make run``'s stand-in for KEDA: more consumer processes as the queue backs up.

Off unless ``CONSUMER_MAX_REPLICAS`` is above 1. Every 15 s (the HPA's sync period) it reads the
queue's visible and in-flight counts, as KEDA's aws-sqs-queue scaler does, and sizes the consumer
with the same arithmetic the scaling lab's timeline uses (:mod:`devstack.scaling`). Replicas are
extra ``consumer`` processes on free ports, named ``consumer-2``, ``consumer-3``...; the first
consumer, the one the storefront asks about orders, always stays. A replica scaled in gets
SIGTERM and finishes the messages it holds, as a pod would.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from devstack.scaling import SYNC_SECONDS, Autoscaler, ScalingPolicy
from devstack.stack import ServiceProcess, Stack

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType


class QueueDepth(Protocol):
    def __call__(self) -> int: ...


def sqs_backlog(stack: Stack) -> QueueDepth:
    """Visible plus in-flight messages of the orders queue (KEDA's ``scaleOnInFlight``)."""
    from lantern.aws import sqs_client
    from lantern.settings import AwsSettings

    settings = AwsSettings.from_env(stack.base_env())
    sqs = sqs_client(settings)
    url = sqs.get_queue_url(QueueName=settings.queue_name)["QueueUrl"]
    names: list[QueueAttributeNameType] = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    ]

    def depth() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, "0")) for name in names)

    return depth


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalScaler:
    """Sizes the consumer between 1 and ``policy.max_replicas`` processes; call :meth:`tick`."""

    def __init__(
        self,
        stack: Stack,
        policy: ScalingPolicy,
        backlog: QueueDepth,
        *,
        log: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stack, self._policy, self._backlog, self._log, self._clock = (
            stack,
            policy,
            backlog,
            log,
            clock,
        )
        self._autoscaler = Autoscaler(policy)
        self._next = clock() + SYNC_SECONDS
        self._retiring: list[ServiceProcess] = []

    @property
    def replicas(self) -> list[str]:
        """The consumer processes running now, the first one included."""
        return [name for name in self._stack.services if name.split("-")[0] == "consumer"]

    def tick(self) -> None:
        """One look, at most every :data:`SYNC_SECONDS`; call it from the thread that started
        the stack (the children die with that thread: see ``stack._die_with_parent``)."""
        self._retiring = [p for p in self._retiring if p.proc is not None and p.proc.poll() is None]
        now = self._clock()
        if now < self._next:
            return
        self._next = now + SYNC_SECONDS
        try:
            backlog = self._backlog()
        except (BotoCoreError, ClientError) as exc:
            self._log(f"scaler: cannot read the queue depth ({exc}); next look in 15 s")
            return
        current = len(self.replicas)
        target = self._autoscaler.decide(now, backlog, current)
        if target == current:
            return
        self._log(
            f"scaler: backlog {backlog} → {target} consumer replicas (was {current}; one per "
            f"{self._policy.queue_length} messages, at most {self._policy.max_replicas})"
        )
        for _ in range(target - current):
            self._add()
        for _ in range(current - target):
            self._retire()

    def _add(self) -> None:
        taken = set(self.replicas)
        name = next(f"consumer-{i}" for i in range(2, 1000) if f"consumer-{i}" not in taken)
        self._stack.config.extra_ports[name] = free_port(self._stack.config.host)
        self._stack.start_service(name)

    def _retire(self) -> None:
        name = max(self.replicas[1:], key=lambda n: int(n.split("-")[1]))
        process = self._stack.services.pop(name)  # off the Supervisor's watch: no restart
        self._stack.config.extra_ports.pop(name, None)
        if process.proc is not None:
            process.proc.terminate()  # the consumer drains what it holds, then exits
            self._retiring.append(process)

    def stop(self) -> None:
        for process in self._retiring:
            process.stop()
