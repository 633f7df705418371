"""The producer's composition root: per-process setup and the real AWS adapters.

Call :func:`bootstrap` once per process (after the gunicorn fork): it starts telemetry, loads the
scenario flags, and builds the SQS and DynamoDB adapters from settings.
:func:`producer.app.create_app` only wires the :class:`Dependencies` it is given; given none, it
asks this module. Tests build a :class:`Dependencies` from fakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from lantern.aws import dynamodb_client, sqs_client
from lantern.catalog import Catalog, load_catalog
from lantern.flags import Scenarios, init_scenarios
from lantern.telemetry import Telemetry, init_telemetry
from producer.idempotency import IdempotencyStore
from producer.ports import IdempotencyClaims, Queue
from producer.settings import SERVICE, ProducerSettings
from producer.signals import ProducerSignals
from producer.sqs import OrderQueue


@dataclass(frozen=True)
class Dependencies:
    """What the order API and its synthetic traffic are wired from."""

    telemetry: Telemetry
    signals: ProducerSignals
    queue: Queue
    idempotency: IdempotencyClaims
    catalog: Catalog
    scenarios: Scenarios = field(default_factory=Scenarios)


def bootstrap(settings: ProducerSettings) -> Dependencies:
    """This process's telemetry, metrics, flags and real adapters."""
    telemetry = init_telemetry(settings.telemetry)
    sqs = sqs_client(settings.aws)
    # Messaging spans name the endpoint this client talks to (server.address, server.port).
    telemetry = telemetry.for_endpoint(sqs.meta.endpoint_url)
    scenarios = init_scenarios(SERVICE, settings.flag_file)
    # The queue times its sends into these signals, so they exist before the app does.
    signals = ProducerSignals(CollectorRegistry(), telemetry.statsd)
    queue = OrderQueue(sqs, settings.aws, telemetry.messaging, signals, scenarios)
    idempotency = IdempotencyStore(
        dynamodb_client(settings.aws), settings.aws.table_name, settings.idempotency_ttl_seconds
    )
    return Dependencies(telemetry, signals, queue, idempotency, load_catalog(), scenarios)
