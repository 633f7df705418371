"""The SQS adapter: send one order with its trace context."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from lantern.aws import queue_url
from lantern.envelope import MessageAttributes, encode_order, string_attribute
from lantern.orders import Order
from lantern.settings import AwsSettings
from lantern.telemetry.messaging import MessagingTracer
from producer.signals import ProducerSignals

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class OrderQueue:
    def __init__(
        self,
        sqs: SQSClient,
        settings: AwsSettings,
        messaging: MessagingTracer,
        signals: ProducerSignals,
    ) -> None:
        self._sqs, self._settings = sqs, settings
        self._messaging, self._signals = messaging, signals
        self._url: str | None = None
        self._lock = threading.Lock()

    def url(self) -> str:
        """The queue URL, looked up once (lazily, so the service starts even if SQS is down)."""
        if self._url is None:
            with self._lock:
                self._url = self._url or queue_url(self._sqs, self._settings)
        return self._url

    def send(self, order: Order) -> str:
        """Enqueue ``order``; return the SQS message id. Raises botocore errors on failure."""
        attributes: MessageAttributes = {"order_id": string_attribute(order.order_id)}
        system_attributes: MessageAttributes = {}
        queue = self._settings.queue_name
        with self._messaging.send(queue, attributes, system_attributes) as span:
            span.set_attribute("lantern.order.id", order.order_id)
            started = time.perf_counter()
            try:
                response = self._sqs.send_message(
                    QueueUrl=self.url(),
                    MessageBody=encode_order(order),
                    MessageAttributes=attributes,  # type: ignore[arg-type]
                    MessageSystemAttributes=system_attributes,  # type: ignore[arg-type]
                )
            finally:
                self._signals.sent(time.perf_counter() - started)
            span.set_attribute("messaging.message.id", response["MessageId"])
        return response["MessageId"]

    def check(self) -> None:
        """Readiness: the queue answers."""
        self._sqs.get_queue_attributes(QueueUrl=self.url(), AttributeNames=["QueueArn"])
