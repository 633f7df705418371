"""Pipeline benchmarks: the producer and the consumer against bare boto3 loops on the same
endpoint, end-to-end latency at a fixed rate, and resident memory."""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from bench.harness import QUIET, aws_settings, names, process_tree_rss, stack
from devstack import ServiceProcess, Stack
from lantern.catalog import load_catalog
from lantern.envelope import decode_order, encode_order
from lantern.orders import build_order
from load.hey import run_hey
from load.store import count_run, scan
from tests.support.shop import queue_counts

CUSTOMER = "Bench Shopper"
ORDER = {
    "customer": {"name": CUSTOMER, "email": "bench@example.com"},
    "items": [{"sku": "LNT-001", "quantity": 1}, {"sku": "LNT-006", "quantity": 2}],
}


def _body_file() -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body:
        json.dump(ORDER, body)
    return Path(body.name)


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint)  # type: ignore[call-overload]


def _for(seconds: float, concurrency: int, step: Callable[[], None]) -> int:
    """Run ``step`` in ``concurrency`` threads for ``seconds``; return how many completed."""
    deadline = time.monotonic() + seconds
    counts = [0] * concurrency

    def loop(index: int) -> None:
        while time.monotonic() < deadline:
            step()
            counts[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def producer_vs_boto3(
    moto: ServiceProcess, telemetry_env: dict[str, str], seconds: int, concurrency: int
) -> dict[str, float]:
    """Accepted orders/s through the producer vs a bare SendMessage loop, same concurrency."""
    shop = stack(moto, ("producer",), {**QUIET, **telemetry_env, **names("producer")})
    try:
        body = _body_file()
        result = run_hey(
            f"{shop.config.url('producer')}/orders", f"{seconds}s", concurrency, 0, body
        )
        ours = result.statuses.get(202, 0) / seconds
        endpoint, queue = shop.config.endpoint_url, aws_settings(shop).queue_name
    finally:
        shop.stop()
    sqs = _client("sqs", endpoint)
    url = sqs.create_queue(QueueName=f"{queue}-peer")["QueueUrl"]
    message = encode_order(build_order(ORDER, load_catalog()))
    local = threading.local()

    def send() -> None:
        if not hasattr(local, "sqs"):
            local.sqs = _client("sqs", endpoint)
        local.sqs.send_message(QueueUrl=url, MessageBody=message)

    peer = _for(seconds, concurrency, send) / seconds
    return {"ours": ours, "peer": peer, "ratio": ours / peer if peer else 0.0}


def _preload(endpoint: str, queue_url: str, count: int) -> None:
    catalog = load_catalog()
    sqs = _client("sqs", endpoint)

    def batch(start: int) -> None:
        entries = [
            {"Id": str(i), "MessageBody": encode_order(build_order(ORDER, catalog))}
            for i in range(min(10, count - start))
        ]
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(batch, range(0, count, 10)))


def _drain_rate(records: list[dict[str, Any]]) -> float:
    times = sorted(float(r["recorded_at"]["N"]) for r in records)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def _scan(endpoint: str, table: str) -> list[dict[str, Any]]:
    return [
        i for i in scan(_client("dynamodb", endpoint), table) if i["pk"]["S"].startswith("ord_")
    ]


def _wait_count(check: Callable[[], int], target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while check() < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {check()} of {target} after {timeout:.0f}s")
        time.sleep(0.5)


def consumer_vs_boto3(
    moto: ServiceProcess, telemetry_env: dict[str, str], messages: int, concurrency: int
) -> dict[str, float]:
    """Orders/s drained by the consumer vs a bare receive/conditional put/batch delete loop."""
    env = {**QUIET, **telemetry_env, **names("consumer"), "CONSUMER_CONCURRENCY": "0"}
    shop = stack(moto, (), env)
    settings = aws_settings(shop)
    endpoint = shop.config.endpoint_url
    sqs = _client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=settings.queue_name)["QueueUrl"]
    _preload(endpoint, url, messages)
    shop.config.env.update({"CONSUMER_CONCURRENCY": str(concurrency), "CONSUMER_WAIT_SECONDS": "1"})
    try:
        shop.start_service("consumer")
        # While the consumer drains, only the queue's depth is polled (a table scan a second
        # would compete with the consumer it measures); then fulfilment is counted in the
        # table, by distinct order id, not from a counter.
        _wait_count(lambda: messages - sum(queue_counts(sqs, settings.queue_name)), messages, 300)
        fulfilled = count_run(_client("dynamodb", endpoint), settings.table_name, CUSTOMER)
        if len(fulfilled.fulfilled) != messages:
            raise RuntimeError(f"{len(fulfilled.fulfilled)} of {messages} orders fulfilled")
        ours = _drain_rate(_scan(endpoint, settings.table_name))
    finally:
        shop.stop()
    peer_url = sqs.create_queue(QueueName=f"{settings.queue_name}-peer")["QueueUrl"]
    _preload(endpoint, peer_url, messages)
    table = f"{settings.table_name}-peer"
    _create_table(endpoint, table)
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: _bare_consumer(endpoint, peer_url, table), range(concurrency)))
    peer = _drain_rate(_scan(endpoint, table))
    return {"ours": ours, "peer": peer, "ratio": ours / peer if peer else 0.0}


def _create_table(endpoint: str, table: str) -> None:
    dynamodb = _client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _bare_consumer(endpoint: str, url: str, table: str) -> None:
    """The peer: the same work with nothing around it (no spans, metrics, logs or backoff)."""
    sqs, dynamodb = _client("sqs", endpoint), _client("dynamodb", endpoint)
    empty = 0
    while empty < 3:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = batch.get("Messages", [])
        empty = 0 if messages else empty + 1
        done: list[dict[str, str]] = []
        for message in messages:
            order = decode_order(message["Body"])
            try:
                dynamodb.put_item(
                    TableName=table,
                    Item={
                        "pk": {"S": order.order_id},
                        "status": {"S": "fulfilled"},
                        "recorded_at": {"N": repr(time.time())},
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError:
                pass
            done.append({"Id": str(len(done)), "ReceiptHandle": message["ReceiptHandle"]})
        if done:
            sqs.delete_message_batch(QueueUrl=url, Entries=done)


def end_to_end(
    moto: ServiceProcess, telemetry_env: dict[str, str], rate: int, seconds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Accepted -> fulfilled latency at a fixed order rate; then each service's memory."""
    shop = stack(moto, ("producer", "consumer"), {**QUIET, **telemetry_env, **names("e2e")})
    try:
        workers = 4
        result = run_hey(
            f"{shop.config.url('producer')}/orders",
            f"{seconds}s",
            workers,
            rate / workers,
            _body_file(),
        )
        accepted = result.statuses.get(202, 0)
        settings = aws_settings(shop)
        endpoint = shop.config.endpoint_url
        _wait_count(lambda: len(_scan(endpoint, settings.table_name)), accepted, 120)
        records = _scan(endpoint, settings.table_name)
        latencies = sorted(
            (float(r["recorded_at"]["N"]) - float(r["accepted_at"]["N"])) * 1000 for r in records
        )
        memory = _memory(shop)
    finally:
        shop.stop()
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": cuts[49], "p99_ms": cuts[98], "orders": len(latencies)}, memory


def _memory(shop: Stack) -> dict[str, float]:
    """Largest process (a gunicorn worker) per service, in MiB."""
    return {
        name: max(process_tree_rss(process.pid).values()) for name, process in shop.services.items()
    }
