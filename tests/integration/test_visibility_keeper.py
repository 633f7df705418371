"""A batch that outlives its visibility timeout, on a real SQS endpoint (moto over HTTP): the
keeper extends it while a second poller waits for anything that reappears, and the order is
fulfilled once. A control message nobody extends shows the endpoint does expire visibility."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from consumer.processing import OrderProcessor
from consumer.signals import ConsumerSignals
from consumer.sqs import OrderMessages
from consumer.store import OrderStore
from consumer.worker import Worker
from lantern.aws import dynamodb_client, sqs_client
from lantern.catalog import load_catalog
from lantern.envelope import encode_order
from lantern.orders import Order, build_order
from lantern.settings import AwsSettings
from lantern.telemetry.messaging import NoopMessagingTracer
from lantern.telemetry.statsd import SafeStatsd
from provision import provision
from tests.support.net import wait_for
from tests.support.units import moto_endpoint

VISIBILITY = 6  # the keeper extends at 2-3 s (sweeps every 1 s): 3 s of margin before the timeout
WORK_SECONDS = 7.5  # longer than the whole timeout, not only half of it

pytestmark = pytest.mark.integration


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsSettings]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with moto_endpoint() as url:
        suffix = uuid.uuid4().hex[:8]
        settings = AwsSettings.from_env(
            {
                "AWS_ENDPOINT_URL": url,
                "AWS_DEFAULT_REGION": "us-east-1",
                "ORDERS_QUEUE_NAME": f"orders-{suffix}",
                "ORDERS_DLQ_NAME": f"orders-dlq-{suffix}",
                "ORDERS_TABLE_NAME": f"orders-{suffix}",
            }
        )
        provision(settings, visibility_seconds=VISIBILITY)
        yield settings


def order() -> Order:
    payload = {
        "customer": {"name": "Slow Sam", "email": "sam@example.com"},
        "items": [{"sku": "LNT-002", "quantity": 1}],
    }
    return build_order(payload, load_catalog())


def test_a_batch_longer_than_its_visibility_timeout_is_extended_and_fulfilled_once(
    aws: AwsSettings,
) -> None:
    sqs = sqs_client(aws)
    messages = OrderMessages(sqs_client(aws, long_poll=True), aws)
    store = OrderStore(dynamodb_client(aws), aws.table_name)
    signals = ConsumerSignals(CollectorRegistry(), SafeStatsd(None, 8125, "consumer"))
    attempts: list[float] = []

    def slow(work_order: Order) -> None:
        attempts.append(time.monotonic())
        time.sleep(WORK_SECONDS)

    processor = OrderProcessor(
        store, NoopMessagingTracer(), signals, aws.queue_name, slow, messages.max_receive_count
    )
    worker = Worker(
        messages,
        processor,
        NoopMessagingTracer(),
        queue_name=aws.queue_name,
        concurrency=2,  # one works, the other polls for anything that becomes visible again
        batch_size=10,
        wait_seconds=1,
        visibility_seconds=VISIBILITY,
        retry_base_seconds=1.0,
    )
    control = sqs.create_queue(QueueName=f"control-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=control, MessageBody="nobody extends me")
    received = sqs.receive_message(QueueUrl=control, VisibilityTimeout=VISIBILITY)["Messages"]
    placed = order()
    sqs.send_message(QueueUrl=messages.url(), MessageBody=encode_order(placed))

    worker.start()
    try:
        wait_for(lambda: store.get(placed.order_id), 60, interval=0.5, what="the slow order")
        wait_for(lambda: messages.depth(aws.queue_name) == (0, 0), 30, what="the queue empty")
    finally:
        worker.stop(timeout=30)

    assert len(attempts) == 1, "the message reappeared while it was being worked on"
    assert worker.keeper.extended >= 1
    counts = {
        outcome: signals.registry.get_sample_value("orders_processed_total", {"outcome": outcome})
        for outcome in ("fulfilled", "redelivered", "failed")
    }
    assert counts == {"fulfilled": 1.0, "redelivered": 0.0, "failed": 0.0}
    # The control: the same endpoint did expire a message that nobody extended.
    again = sqs.receive_message(QueueUrl=control, AttributeNames=["ApproximateReceiveCount"])
    assert [m["MessageId"] for m in again.get("Messages", [])] == [received[0]["MessageId"]]
