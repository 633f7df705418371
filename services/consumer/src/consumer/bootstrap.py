"""The consumer's composition root: per-process setup and the real AWS adapters.

Call :func:`bootstrap` once per process (after the gunicorn fork): it starts telemetry, loads the
scenario flags, and builds the SQS and DynamoDB adapters from settings.
:func:`consumer.app.create_app` only wires the :class:`Dependencies` it is given; given none, it
asks this module. Tests build a :class:`Dependencies` from fakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from consumer.ports import Clock, Messages, Store
from consumer.settings import SERVICE, ConsumerSettings
from consumer.signals import ConsumerSignals
from consumer.sqs import OrderMessages
from consumer.store import OrderStore
from lantern.aws import dynamodb_client, sqs_client
from lantern.flags import (
    CONSUMER_FAILURE_RATE,
    CONSUMER_WORK_MS,
    ScenarioFailure,
    Scenarios,
    init_scenarios,
)
from lantern.orders import Order
from lantern.telemetry import Telemetry, init_telemetry

Work = Callable[[Order], None]  # the "fulfilment" of one order; raises to fail it


@dataclass(frozen=True)
class Dependencies:
    """What the worker and the read API are wired from."""

    telemetry: Telemetry
    signals: ConsumerSignals
    messages: Messages
    store: Store
    work: Work
    clock: Clock = time.monotonic  # the visibility keeper's


def bootstrap(settings: ConsumerSettings) -> Dependencies:
    """This process's telemetry, metrics, flags and real adapters."""
    telemetry = init_telemetry(settings.telemetry)
    sqs = sqs_client(settings.aws, long_poll=True)
    # Messaging spans name the endpoint this client talks to (server.address, server.port).
    telemetry = telemetry.for_endpoint(sqs.meta.endpoint_url)
    scenarios = init_scenarios(SERVICE, settings.flag_file)
    return Dependencies(
        telemetry,
        ConsumerSignals(CollectorRegistry(), telemetry.statsd),
        OrderMessages(sqs, settings.aws),
        OrderStore(dynamodb_client(settings.aws), settings.aws.table_name),
        simulated_work(settings.work_ms, scenarios),
    )


def simulated_work(work_ms: int, scenarios: Scenarios) -> Work:
    """Sleep, and fail when a scenario says so.

    The ``consumer-work-ms`` flag, when above 0, replaces ``CONSUMER_WORK_MS`` at runtime.
    """

    def work(order: Order) -> None:
        delay_ms = scenarios.number(CONSUMER_WORK_MS) or work_ms
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if scenarios.roll(CONSUMER_FAILURE_RATE):
            raise ScenarioFailure("injected by the consumer-failure-rate flag")

    return work
