"""The stub the consumer-capacity benchmark measures against (bench.consumer_capacity) speaks
enough SQS and DynamoDB for the real consumer service: a limited supply is drained exactly once,
every order written once and every message deleted once, so the benchmark's counts are orders
fulfilled, not requests answered."""

from __future__ import annotations

import time

import pytest

from bench.consumer_capacity import DEFAULT, order_stub, running_consumer
from tests.support.units import ENV

pytestmark = pytest.mark.integration

MESSAGES = 57  # not a multiple of the batch: the last receive takes what is left


def test_the_real_consumer_drains_the_stub_exactly_once() -> None:
    env = {**DEFAULT, **ENV, "CONSUMER_WORK_MS": "0", "LOG_LEVEL": "warning"}
    with order_stub("orders-capacity-test", limit=MESSAGES) as stub:
        supply = stub.supply
        with running_consumer(stub, env):
            deadline = time.monotonic() + 30
            while supply.tally().deleted < MESSAGES and time.monotonic() < deadline:
                time.sleep(0.1)
        tally, written = supply.tally(), supply.written_ids()

    assert tally.deleted == MESSAGES, tally
    assert tally.received == MESSAGES  # nothing handed out twice
    assert tally.in_flight == 0
    assert tally.stale_deletes == 0
    assert sorted(written) == sorted(supply.made_ids)  # every order the stub made, none other
    assert set(written.values()) == {1}  # each written once
    assert sum(n for _, n in supply.settles) == MESSAGES
    assert {"ReceiveMessage", "PutItem", "DeleteMessageBatch"} <= set(supply.calls)
