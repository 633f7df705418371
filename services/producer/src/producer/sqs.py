"""The SQS adapter: send one order with its trace context."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from lantern.aws import proves_not_sent, queue_url
from lantern.envelope import MessageAttributes, encode_order, string_attribute
from lantern.flags import PRODUCER_POISON_RATE, PRODUCER_SQS_LATENCY_MS, Scenarios
from lantern.orders import Order
from lantern.settings import AwsSettings
from lantern.telemetry.messaging import MessageSpan, MessagingTracer
from producer.ports import SendOutcomeUnknown
from producer.signals import ProducerSignals

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def poison(order: Order) -> str:
    """A message body no consumer can decode, for the poison-message lab (it ends in the DLQ)."""
    return json.dumps({"schema": "lantern.order/v1", "order": {"order_id": order.order_id}})


class _Attempts(threading.local):
    """Per request thread: whether an attempt of the current send may have reached SQS."""

    maybe_sent = False


class OrderQueue:
    def __init__(
        self,
        sqs: SQSClient,
        settings: AwsSettings,
        messaging: MessagingTracer,
        signals: ProducerSignals,
        scenarios: Scenarios | None = None,
    ) -> None:
        self._sqs, self._settings = sqs, settings
        self._messaging, self._signals = messaging, signals
        self._scenarios = scenarios or Scenarios()
        self._url: str | None = None
        self._lock = threading.Lock()
        # botocore retries a failed attempt on its own; a send whose last attempt was refused
        # may still have been enqueued by an earlier one that timed out. Every attempt is seen.
        self._attempts = _Attempts()
        sqs.meta.events.register("needs-retry.sqs.SendMessage", self._observe_attempt)

    def _observe_attempt(
        self, response: Any = None, caught_exception: BaseException | None = None, **_: Any
    ) -> None:
        failed_unclearly = caught_exception is not None and not proves_not_sent(caught_exception)
        answered_5xx = response is not None and response[0].status_code >= 500
        if failed_unclearly or answered_5xx:
            self._attempts.maybe_sent = True

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
        body = encode_order(order)
        if self._scenarios.roll(PRODUCER_POISON_RATE):
            body, attributes["scenario"] = poison(order), string_attribute("poison")
        with self._messaging.send(queue, attributes, system_attributes) as span:
            span.set_attribute("lantern.order.id", order.order_id)
            started = time.perf_counter()
            self._injected_latency(span)
            self._attempts.maybe_sent = False
            try:
                response = self._sqs.send_message(
                    QueueUrl=self.url(),
                    MessageBody=body,
                    MessageAttributes=attributes,  # type: ignore[arg-type]
                    MessageSystemAttributes=system_attributes,  # type: ignore[arg-type]
                )
            except (BotoCoreError, ClientError) as exc:
                if self._attempts.maybe_sent or not proves_not_sent(exc):
                    raise SendOutcomeUnknown(str(exc)) from exc
                raise
            finally:
                self._signals.sent(time.perf_counter() - started)
            span.set_attribute("messaging.message.id", response["MessageId"])
        return response["MessageId"]

    def _injected_latency(self, span: MessageSpan) -> None:
        delay_ms = self._scenarios.number(PRODUCER_SQS_LATENCY_MS)
        if delay_ms > 0:
            span.set_attribute("lantern.scenario.latency_ms", delay_ms)
            time.sleep(delay_ms / 1000.0)

    def check(self) -> None:
        """Readiness: the queue answers."""
        self._sqs.get_queue_attributes(QueueUrl=self.url(), AttributeNames=["QueueArn"])
