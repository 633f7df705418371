"""make run's AWS endpoint is as consistent as AWS under concurrency (devstack.endpoint).

Stock moto resurrects deleted messages when two deletes run at once (each rebuilds the queue's
list from the same old one): the control below shows it, in a fresh process so the patch cannot
leak into it. The patched endpoint then loses no delete, serves a long poll that a send wakes,
and reads the retention period without counting the queue.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devstack.endpoint import within_retention
from tests.support.units import moto_endpoint

DELETE_RACE = textwrap.dedent(
    """
    import sys, threading
    if sys.argv[1] == "patched":
        from devstack.endpoint import make_consistent
        make_consistent()
    from moto.sqs.models import sqs_backends
    backend = sqs_backends["123456789012"]["us-east-1"]
    backend.create_queue("q")
    for i in range(400):
        backend.send_message("q", f"m{i}")
    received = []
    while batch := backend.receive_message("q", 10, 0, 300):
        received += batch
    def delete(messages):
        for message in messages:
            backend.delete_message("q", message.receipt_handle)
    sys.setswitchinterval(1e-5)  # preempt as often as a loaded machine does
    threads = [threading.Thread(target=delete, args=(received[i::2],)) for i in (0, 1)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(len(received), len(backend.get_queue("q")._messages))
    """
)


def _after_concurrent_deletes(variant: str) -> tuple[int, int]:
    """(messages received, messages still in the queue after every one was deleted)."""
    done = subprocess.run(
        [sys.executable, "-c", DELETE_RACE, variant],
        capture_output=True, text=True, timeout=240, check=True,
    )  # fmt: skip
    received, left = done.stdout.split()
    return int(received), int(left)


def test_stock_moto_resurrects_messages_under_concurrent_deletes() -> None:
    assert _after_concurrent_deletes("stock")[1] > 0  # the race this module exists for


def test_the_endpoint_loses_no_concurrent_delete() -> None:
    assert _after_concurrent_deletes("patched") == (400, 0)


@pytest.fixture
def sqs() -> Iterator[Any]:
    with moto_endpoint() as url:
        yield boto3.client(
            "sqs", region_name="us-east-1", endpoint_url=url,
            aws_access_key_id="x", aws_secret_access_key="x",
        )  # fmt: skip


def test_a_long_poll_waits_outside_the_lock_and_a_send_wakes_it(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    answers: list[list[dict[str, str]]] = []

    def poll() -> None:
        answers.append(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", []))

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)  # the poll is waiting; a send must still get through
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    poller.join(15)

    assert not poller.is_alive(), "the long poll was not woken by the send"
    assert [m["Body"] for m in answers[0]] == ["wake up"]


def test_a_message_within_its_retention_is_handed_out(sqs: Any) -> None:
    """The retention check reads the attribute it needs (a 60 s period, not the default)."""
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})
    sqs.send_message(QueueUrl=url["QueueUrl"], MessageBody="fresh")
    got = sqs.receive_message(QueueUrl=url["QueueUrl"]).get("Messages", [])
    assert [m["Body"] for m in got] == ["fresh"]


def test_a_message_past_its_retention_is_not() -> None:
    class Queue:
        message_retention_period = 60

    class Backend:
        def get_queue(self, name: str) -> Queue:
            return Queue()

    class Message:
        def __init__(self, age: float) -> None:
            self.sent_timestamp = (time.time() - age) * 1000

    assert within_retention(Backend(), "q", Message(age=59))
    assert not within_retention(Backend(), "q", Message(age=61))
