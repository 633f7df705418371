"""The embedded AWS endpoint: moto server, made as consistent under concurrency as AWS is.

moto keeps a queue as a Python list and a table as a dict, and its handlers change them without a
lock while its server answers requests on many threads. Measured here (four consumers receiving
and deleting a 2,000-message queue, nothing else running): 3 messages were handed out twice
after their delete (two deletes rebuilding the list at once resurrect each other's messages),
and receives came back empty while 1,163 messages were still visible. A conditional ``PutItem``
is a read and a write that two threads can interleave. Real SQS and DynamoDB do none of this,
and a demo that counts redeliveries must not measure its emulator's races. And for every message
it hands out, moto's receive recomputed all of the queue's attributes (its message counts
included) to read the retention period: on a 2,000-message backlog one receive took a second
of CPU, so a consumer fell further behind the longer the queue got. Every send, receive and
count asks each message whether it is visible, and moto read its clock through two datetime
conversions for each: 12 µs a message, half a second a call on a 40,000-message history.

So every SQS call that reads or changes queues runs under one lock, a long poll waits *outside*
it (woken by any change, or every 0.2 s for messages whose visibility ran out), and DynamoDB
writes run under another. moto is one process on one interpreter lock anyway: serialising its
calls costs it nothing measurable. The retention check reads the queue's one attribute, and a
message compares its times with ``time.time()`` (the same epoch milliseconds moto computes).

``python -m devstack.endpoint -H 127.0.0.1 -p 4566`` runs the server; tests that run moto
in-process call :func:`make_consistent` first.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

_SQS = threading.Condition(threading.RLock())
_DYNAMODB = threading.RLock()
_TICK_SECONDS = 0.2  # how late a long poll may notice a message whose visibility ran out
_SQS_CALLS = (
    "create_queue", "delete_queue", "get_queue_attributes", "set_queue_attributes",
    "send_message", "send_message_batch", "delete_message", "delete_message_batch",
    "change_message_visibility", "change_message_visibility_batch", "purge_queue",
)  # fmt: skip
_DYNAMODB_WRITES = (
    "put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item",
)  # fmt: skip


def make_consistent() -> None:
    """Patch moto's SQS and DynamoDB backends in this process (once; later calls do nothing)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import Message, SQSBackend

    if getattr(SQSBackend, "_lantern_consistent", False):
        return
    for name in _SQS_CALLS:
        setattr(SQSBackend, name, _under(_SQS, getattr(SQSBackend, name), notify=True))
    receive = _long_poll_outside_the_lock(SQSBackend.receive_message)
    setattr(SQSBackend, "receive_message", receive)  # noqa: B010 - patching a class
    setattr(SQSBackend, "is_message_valid_based_on_retention_period", within_retention)  # noqa: B010
    setattr(Message, "visible", property(_visible))  # noqa: B010
    setattr(Message, "delayed", property(_delayed))  # noqa: B010
    for name in _DYNAMODB_WRITES:
        setattr(DynamoDBBackend, name, _under(_DYNAMODB, getattr(DynamoDBBackend, name)))
    setattr(SQSBackend, "_lantern_consistent", True)  # noqa: B010


def _under(lock: Any, method: Callable[..., Any], notify: bool = False) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            try:
                return method(*args, **kwargs)
            finally:
                if notify:
                    lock.notify_all()  # a long poll may now find something

    return call


def _long_poll_outside_the_lock(receive: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(receive)
    def call(
        backend: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        with _SQS:
            while True:
                # moto's own receive, never waiting: atomic under the lock
                found = receive(
                    backend, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                _SQS.wait(min(left, _TICK_SECONDS))  # releases the lock while waiting

    return call


def within_retention(backend: Any, queue_name: str, message: Any) -> bool:
    """moto's check, reading the one attribute instead of computing them all."""
    from moto.core.utils import unix_time

    retention = int(backend.get_queue(queue_name).message_retention_period)
    return bool(message.sent_timestamp / 1000 + retention > unix_time())


def _visible(message: Any) -> bool:
    return bool(time.time() * 1000 > message.visible_at)


def _delayed(message: Any) -> bool:
    return bool(time.time() * 1000 < message.delayed_until)


def main(argv: list[str] | None = None) -> None:
    make_consistent()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
