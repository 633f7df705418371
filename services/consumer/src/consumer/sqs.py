"""The SQS adapter for the consumer: receive, settle in batches, keep messages hidden."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry.instrumentation.utils import suppress_instrumentation

from consumer.ports import Message
from lantern.aws import queue_url
from lantern.envelope import TRACE_ATTRIBUTES
from lantern.settings import AwsSettings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class OrderMessages:
    def __init__(self, sqs: SQSClient, settings: AwsSettings) -> None:
        self._sqs, self._settings = sqs, settings
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()
        self._max_receive: int | None = None

    def url(self, name: str | None = None) -> str:
        name = name or self._settings.queue_name
        if name not in self._urls:
            with self._lock:
                if name not in self._urls:
                    is_main = name == self._settings.queue_name
                    self._urls[name] = queue_url(
                        self._sqs, self._settings, None if is_main else name
                    )
        return self._urls[name]

    def receive(self, batch: int, wait: int, visibility: int) -> list[Message]:
        response = self._sqs.receive_message(
            QueueUrl=self.url(),
            MaxNumberOfMessages=batch,
            WaitTimeSeconds=wait,
            VisibilityTimeout=visibility,
            MessageAttributeNames=[*TRACE_ATTRIBUTES, "order_id"],
            MessageSystemAttributeNames=[
                "SentTimestamp",
                "ApproximateFirstReceiveTimestamp",  # for the order's journey
                "ApproximateReceiveCount",
                "AWSTraceHeader",
            ],
        )
        return list(response.get("Messages", []))

    def delete(self, messages: Sequence[Message]) -> list[str]:
        """Delete in one call; return the ids of entries SQS refused."""
        if not messages:
            return []
        response = self._sqs.delete_message_batch(
            QueueUrl=self.url(),
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        return [entry["Id"] for entry in response.get("Failed", [])]

    def change_visibility(self, handles: Sequence[str], seconds: int) -> list[str]:
        """Ten handles a call; return the handles SQS refused (deleted or received again)."""
        refused: list[str] = []
        for start in range(0, len(handles), 10):
            chunk = handles[start : start + 10]
            response = self._sqs.change_message_visibility_batch(
                QueueUrl=self.url(),
                Entries=[
                    {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": seconds}
                    for i, h in enumerate(chunk)
                ],
            )
            refused += [chunk[int(entry["Id"])] for entry in response.get("Failed", [])]
        return refused

    def depth(self, name: str) -> tuple[int, int]:
        """(visible, in flight) approximate message counts of a queue."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.url(name),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes.get("ApproximateNumberOfMessages", 0)),
            int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    def check(self) -> None:
        """Readiness: the orders queue answers."""
        self.depth(self._settings.queue_name)

    def max_receive_count(self) -> int | None:
        """The redrive policy's maxReceiveCount (read once), or None without a DLQ."""
        if self._max_receive is None:
            with suppress_instrumentation():  # a one-off lookup, not part of any order's story
                attributes = self._sqs.get_queue_attributes(
                    QueueUrl=self.url(), AttributeNames=["RedrivePolicy"]
                )["Attributes"]
            policy = attributes.get("RedrivePolicy")
            self._max_receive = int(json.loads(policy)["maxReceiveCount"]) if policy else 0
        return self._max_receive or None
