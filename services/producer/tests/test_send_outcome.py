"""The SQS adapter tells "certainly not enqueued" from "may have been", over real sockets.

botocore retries on its own, so the answer depends on every attempt: a connection refused on
the last attempt after an earlier one timed out reading its answer is still "may have been".
No server here ever answers, so nothing depends on timing but botocore's own read timeout.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from lantern.catalog import load_catalog
from lantern.orders import build_order
from lantern.settings import AwsSettings
from lantern.telemetry.messaging import NoopMessagingTracer
from producer.ports import SendOutcomeUnknown
from producer.signals import ProducerSignals
from producer.sqs import OrderQueue
from tests.support.net import free_port

ORDER = build_order(
    {
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "items": [{"sku": "LNT-001", "quantity": 1}],
    },
    load_catalog(),
)


@contextmanager
def silent_server(*, connections: int | None) -> Iterator[int]:
    """Accepts connections (``connections`` of them, then stops listening) and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set() and (connections is None or len(held) < connections):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
        listener.close()  # from now on: connection refused

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        done.set()
        listener.close()
        for conn in held:
            conn.close()


def order_queue(port: int, signals: ProducerSignals) -> OrderQueue:
    endpoint = f"http://127.0.0.1:{port}"
    sqs = boto3.client(
        "sqs", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
        config=Config(connect_timeout=1, read_timeout=0.5,
                      retries={"max_attempts": 2, "mode": "standard"}),
    )  # fmt: skip
    settings = AwsSettings.from_env({"ORDERS_QUEUE_URL": f"{endpoint}/000000000000/orders"})
    return OrderQueue(sqs, settings, NoopMessagingTracer(), signals)


def test_nothing_listening_is_certainly_not_enqueued(signals: ProducerSignals) -> None:
    with pytest.raises(EndpointConnectionError):
        order_queue(free_port(), signals).send(ORDER)


def test_a_request_sent_and_never_answered_may_have_been_enqueued(
    signals: ProducerSignals,
) -> None:
    with silent_server(connections=None) as port, pytest.raises(SendOutcomeUnknown):
        order_queue(port, signals).send(ORDER)


def test_a_refusal_after_an_unanswered_attempt_still_may_have_been_enqueued(
    signals: ProducerSignals,
) -> None:
    """Attempt 1 reaches the server and times out; attempt 2 is refused. The last error alone
    says "not sent", which is what made refused orders appear in the soak."""
    with silent_server(connections=1) as port, pytest.raises(SendOutcomeUnknown) as unknown:
        order_queue(port, signals).send(ORDER)
    assert isinstance(unknown.value.__cause__, EndpointConnectionError)
