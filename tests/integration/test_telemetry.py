"""Telemetry on the wire: the producer (2 gunicorn workers) and the consumer export to receivers
this module owns, and every test judges what arrived.

One scenario runs once for the module (it takes a few seconds): orders, a client-traced order, an
idempotent order and its replay, bad requests, a poison message, a redelivery, every API route,
and an uncaught error. The stack is stopped before the tests look, so every span is flushed and
every log line is in. The last tests hold ``docs/telemetry.md`` against what was emitted.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lantern.catalog import load_catalog
from lantern.envelope import encode_order
from lantern.orders import build_order
from tests.conftest import make_shop
from tests.support.catalog import CATALOG, catalog_tables, services_of, ticked
from tests.support.net import http, wait_for
from tests.support.receivers import OtlpReceiver, Span, StatsdListener
from tests.support.shop import Shop, order_payload

pytestmark = pytest.mark.integration

N_ORDERS = 20
MAX_RECEIVE_COUNT = 2  # the poison message fails twice, then moves to the DLQ
SCRAPES = 6
CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN_ID = "00f067aa0ba902b7"
CLIENT_TRACESTATE = "lantern=workshop"

# (reason, body, headers, status): every request here must be refused and counted.
BAD_REQUESTS: list[tuple[str, bytes | dict[str, Any], dict[str, str], int]] = [
    ("invalid_json", b"{not json", {"Content-Type": "application/json"}, 400),
    ("invalid_json", b"[1, 2", {"Content-Type": "application/json"}, 400),
    ("unsupported_media_type", b"order please", {"Content-Type": "text/plain"}, 415),
    ("unknown_sku", order_payload(("NOPE-404", 1)), {}, 422),
    ("missing_field", {"items": [{"sku": "LNT-001", "quantity": 1}]}, {}, 422),
    (
        "payload_too_large",
        b'{"pad":"' + b"x" * 70_000 + b'"}',
        {"Content-Type": "application/json"},
        413,
    ),
    ("invalid_idempotency_key", order_payload(), {"Idempotency-Key": "not a key!"}, 400),
]


@dataclass
class Run:
    """Everything the scenario did and everything the receivers and scrapes saw."""

    shop: Shop
    spans: list[Span]
    statsd: StatsdListener
    lines: dict[str, list[str]]
    scrapes: dict[str, list[str]]
    orders: list[str]  # plain orders, placed concurrently
    traced_order: str  # placed with the client's traceparent/tracestate/baggage
    idempotent_order: str  # placed twice with one Idempotency-Key
    redelivered_order: str  # fulfilled, then its message sent again
    xray_order: str  # sent straight to SQS with only an AWSTraceHeader
    xray_context: tuple[str, str]  # (trace id, parent span id) in that header
    producer_requests: int  # requests sent to the producer, probes and scrapes excluded
    started_at: float

    @property
    def server(self) -> dict[str, Any]:
        """server.address and server.port of the SQS endpoint the services use."""
        url = urlsplit(self.shop.stack.config.endpoint_url)
        return {"server.address": url.hostname, "server.port": url.port}

    @property
    def fulfilled(self) -> list[str]:
        """Orders the producer accepted (each fulfilled once)."""
        return [*self.orders, self.traced_order, self.idempotent_order]

    @property
    def consumed(self) -> list[str]:
        """Orders the consumer fulfilled: the producer's and the X-Ray-only one."""
        return [*self.fulfilled, self.xray_order]

    @property
    def handled(self) -> int:
        """Messages the consumer processed: fulfilled, one redelivery, the poison attempts."""
        return len(self.consumed) + 1 + MAX_RECEIVE_COUNT

    def logs(self, service: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines[service]]

    def events(self, service: str, event: str) -> list[dict[str, Any]]:
        return [record for record in self.logs(service) if record.get("event") == event]

    def spans_named(self, name: str, service: str) -> list[Span]:
        return [s for s in self.spans if s.name == name and s.service == service]

    def by_id(self) -> dict[str, Span]:
        return {span.span_id: span for span in self.spans}

    def send_span(self, order_id: str) -> Span:
        found = [
            s
            for s in self.spans_named(f"send {self.shop.queue_name}", "producer")
            if s.attributes.get("lantern.order.id") == order_id
        ]
        assert len(found) == 1, f"{len(found)} send spans for {order_id}"
        return found[0]

    def process_spans(self, order_id: str) -> list[Span]:
        return [
            s
            for s in self.spans_named(f"process {self.shop.queue_name}", "consumer")
            if s.attributes.get("lantern.order.id") == order_id
        ]

    def process_span(self, order_id: str) -> Span:
        """The one span that fulfilled ``order_id``."""
        found = [
            s
            for s in self.process_spans(order_id)
            if s.attributes.get("lantern.outcome") == "fulfilled"
        ]
        assert len(found) == 1, f"{len(found)} fulfilling process spans for {order_id}"
        return found[0]

    def metric(self, service: str, scrape: int, name: str, **labels: str) -> float:
        """The value of one sample in one scrape; 0.0 when absent."""
        for family in text_string_to_metric_families(self.scrapes[service][scrape]):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0


def start_shop(aws_port: int, env: dict[str, str]) -> Shop:
    """Like ``shop_factory``, but for a whole module."""
    return make_shop(aws_port, env=env, max_receive_count=MAX_RECEIVE_COUNT)


def _place_traced(shop: Shop) -> str:
    headers = {
        "traceparent": f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01",
        "tracestate": CLIENT_TRACESTATE,
        "baggage": "lantern.tenant=workshop",
    }
    return shop.place(order_payload(("LNT-002", 1)), **headers)


def _place_idempotent(shop: Shop) -> str:
    key = f"telemetry-{uuid.uuid4().hex}"
    first = shop.place(order_payload(("LNT-003", 2)), **{"Idempotency-Key": key})
    status, headers, body = http(
        "POST", f"{shop.producer}/orders", order_payload(("LNT-003", 2)), {"Idempotency-Key": key}
    )
    assert (status, json.loads(body)["order_id"]) == (202, first)
    assert headers.get("Idempotent-Replayed") == "true"
    return first


def _send_raw(shop: Shop, body: str, **extra: Any) -> None:
    sqs = shop.client("sqs")
    url = sqs.get_queue_url(QueueName=shop.queue_name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body, **extra)


def _send_with_xray_header_only(shop: Shop) -> tuple[str, tuple[str, str]]:
    """What an X-Ray-mode producer or an AWS integration sends: no traceparent at all."""
    trace_id = f"{int(time.time()):08x}{uuid.uuid4().hex[:24]}"
    parent = uuid.uuid4().hex[:16]
    header = f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={parent};Sampled=1"
    order = build_order(order_payload(("LNT-004", 1)), load_catalog())
    system = {"AWSTraceHeader": {"DataType": "String", "StringValue": header}}
    _send_raw(shop, encode_order(order), MessageSystemAttributes=system)
    return order.order_id, (trace_id, parent)


def _dlq_visible(shop: Shop) -> bool:
    _, _, body = http("GET", f"{shop.consumer}/queues")
    return bool(json.loads(body).get(shop.dlq_name, {}).get("visible") == 1)


def _scenario(shop: Shop) -> dict[str, Any]:
    with ThreadPoolExecutor(4) as pool:
        orders = list(pool.map(lambda _: shop.place(), range(N_ORDERS)))
    traced = _place_traced(shop)
    idempotent = _place_idempotent(shop)
    for reason, body, headers, status in BAD_REQUESTS:
        got, _, answer = http("POST", f"{shop.producer}/orders", body, headers)
        assert (got, json.loads(answer)["error"]) == (status, reason)
    for path in ("/products", "/products/LNT-001"):
        assert http("GET", f"{shop.producer}{path}")[0] == 200
    xray_order, xray_context = _send_with_xray_header_only(shop)
    for order_id in [*orders, traced, idempotent, xray_order]:
        shop.wait_fulfilled(order_id)

    # A redelivery of an order already fulfilled, and a poison message that ends in the DLQ.
    redelivered = orders[0]
    duplicate = build_order(order_payload(), load_catalog(), order_id=redelivered)
    _send_raw(shop, encode_order(duplicate))
    _send_raw(shop, "this is not an order")
    wait_for(lambda: shop.processed("redelivered") == 1, 15, what="the redelivery")
    wait_for(lambda: shop.processed("failed") == MAX_RECEIVE_COUNT, 15, what="poison failures")
    wait_for(lambda: _dlq_visible(shop), 15, what="the poison message in the DLQ")
    for path in ("/orders/recent", "/queues"):
        assert http("GET", f"{shop.consumer}{path}")[0] == 200

    # An uncaught error, for real: the table disappears under the read API.
    shop.client("dynamodb").delete_table(TableName=shop.table_name)
    status, _, body = http("GET", f"{shop.consumer}/orders/{orders[1]}")
    assert (status, json.loads(body)["error"]) == (500, "internal_error")

    requests = N_ORDERS + 1 + 2 + len(BAD_REQUESTS) + 2
    return {
        "orders": orders,
        "traced_order": traced,
        "idempotent_order": idempotent,
        "redelivered_order": redelivered,
        "xray_order": xray_order,
        "xray_context": xray_context,
        "producer_requests": requests,
    }


@pytest.fixture(scope="module")
def run(moto_port: int) -> Iterator[Run]:
    with OtlpReceiver() as otlp, StatsdListener() as statsd:
        env = {
            **otlp.env(),
            **statsd.env(),
            "OTEL_PYTHON_ID_GENERATOR": "xray",
            "WEB_CONCURRENCY": "2",
        }
        started_at = time.time()
        shop = start_shop(moto_port, env)
        try:
            done = _scenario(shop)
            scrapes = {
                service: [
                    http("GET", f"{shop.stack.config.url(service)}/metrics")[2].decode()
                    for _ in range(SCRAPES)
                ]
                for service in ("producer", "consumer")
            }
        finally:
            shop.stack.stop()  # flushes the span processors and ends the log streams
        time.sleep(0.3)  # the last UDP datagrams
        yield Run(
            shop=shop,
            spans=otlp.snapshot(),
            statsd=statsd,
            lines={name: list(proc.lines) for name, proc in shop.stack.services.items()},
            scrapes=scrapes,
            started_at=started_at,
            **done,
        )
        assert not otlp.errors, otlp.errors
        assert not statsd.errors, statsd.errors


# ------------------------------------------------------------------------------------ traces


def _ancestors(span: Span, index: dict[str, Span]) -> list[Span]:
    chain = []
    while span.parent_span_id in index:
        span = index[span.parent_span_id]
        chain.append(span)
    return chain


def test_every_order_is_one_trace_from_request_to_store_write(run: Run) -> None:
    index = run.by_id()
    for order_id in run.fulfilled:
        send = run.send_span(order_id)
        process = run.process_span(order_id)
        assert process.trace_id == send.trace_id, order_id

        server = [s for s in _ancestors(send, index) if s.kind == "SERVER"]
        assert [(s.service, s.name) for s in server] == [("producer", "POST /orders")]
        assert server[0].parent_span_id in (None, CLIENT_SPAN_ID)

        writes = [
            s for s in run.spans if s.parent_span_id == process.span_id and s.kind == "CLIENT"
        ]
        assert [(s.service, s.name) for s in writes] == [("consumer", "DynamoDB.PutItem")]
        sends = [s for s in run.spans if s.parent_span_id == send.span_id]
        assert [s.name for s in sends if s.name == "SQS.SendMessage"] == ["SQS.SendMessage"]


def test_process_span_is_a_child_of_the_send_span_and_links_to_it(run: Run) -> None:
    for order_id in run.fulfilled:
        send = run.send_span(order_id)
        process = run.process_span(order_id)
        assert (send.kind, process.kind) == ("PRODUCER", "CONSUMER")
        assert process.parent_span_id == send.span_id
        assert [(link.trace_id, link.span_id) for link in process.links] == [
            (send.trace_id, send.span_id)
        ]


def test_messaging_attributes_follow_the_semantic_conventions(run: Run) -> None:
    processed = {
        r["order_id"]: r
        for r in run.events("consumer", "order processed")
        if r["outcome"] == "fulfilled"
    }
    for order_id in run.fulfilled:
        send = run.send_span(order_id)
        process = run.process_span(order_id)
        message_id = processed[order_id]["message_id"]
        common = {
            "messaging.system": "aws_sqs",
            "messaging.destination.name": run.shop.queue_name,
            "messaging.message.id": message_id,
            "lantern.order.id": order_id,
            **run.server,
        }
        assert send.attributes == {
            **common,
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
        }
        assert process.attributes == {
            **common,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "lantern.outcome": "fulfilled",
        }
        assert process.status == "UNSET"
    receives = run.spans_named(f"receive {run.shop.queue_name}", "consumer")
    assert receives
    for receive in receives:
        count = receive.attributes["messaging.batch.message_count"]
        assert receive.attributes == {
            "messaging.system": "aws_sqs",
            "messaging.destination.name": run.shop.queue_name,
            "messaging.operation.type": "receive",
            "messaging.operation.name": "receive",
            "messaging.batch.message_count": count,
            **run.server,
        }


def test_one_messaging_system_value_across_the_trace(run: Run) -> None:
    """Ours and the botocore instrumentation's SQS spans both say aws_sqs (the conventions')."""
    systems = Counter(
        (s.scope, s.attributes["messaging.system"])
        for s in run.spans
        if "messaging.system" in s.attributes
    )
    assert {system for _, system in systems} == {"aws_sqs"}, systems
    assert {scope for scope, _ in systems} == {
        "lantern.messaging",
        "opentelemetry.instrumentation.botocore.sqs",
    }
    # And the instrumentation's SQS spans name the same server as ours.
    sends = [s for s in run.spans if s.name == "SQS.SendMessage"]
    assert {(s.attributes["server.address"], s.attributes["server.port"]) for s in sends} == {
        (run.server["server.address"], run.server["server.port"])
    }


def test_each_batch_delete_is_a_settle_span_linked_to_what_it_settles(run: Run) -> None:
    deletes = run.spans_named(f"delete {run.shop.queue_name}", "consumer")
    assert deletes
    for delete in deletes:
        count = delete.attributes["messaging.batch.message_count"]
        assert (delete.kind, delete.parent_span_id, delete.status) == ("CLIENT", None, "UNSET")
        assert delete.attributes == {
            "messaging.system": "aws_sqs",
            "messaging.destination.name": run.shop.queue_name,
            "messaging.operation.type": "settle",
            "messaging.operation.name": "delete",
            "messaging.batch.message_count": count,
            **run.server,
        }
        assert 1 <= count <= 10
        assert len(delete.links) <= count  # a message sent without trace context has no link
        [call] = [s for s in run.spans if s.parent_span_id == delete.span_id]
        assert (call.name, call.kind) == ("SQS.DeleteMessageBatch", "CLIENT")
    # Every settled message once: the consumed orders and the redelivery (the poison is not).
    assert (
        sum(d.attributes["messaging.batch.message_count"] for d in deletes) == len(run.consumed) + 1
    )
    # Links point at each message's creation context: the producer's send span, or the
    # AWSTraceHeader's parent for the X-Ray-only message; the bare redelivery has none.
    links = Counter((link.trace_id, link.span_id) for d in deletes for link in d.links)
    sends = {(run.send_span(o).trace_id, run.send_span(o).span_id) for o in run.fulfilled}
    assert links == Counter([*sends, run.xray_context])


def test_client_trace_context_and_tracestate_cross_the_queue(run: Run) -> None:
    send = run.send_span(run.traced_order)
    process = run.process_span(run.traced_order)
    [server] = [s for s in _ancestors(send, run.by_id()) if s.kind == "SERVER"]
    assert (server.trace_id, server.parent_span_id) == (CLIENT_TRACE_ID, CLIENT_SPAN_ID)
    assert process.trace_id == CLIENT_TRACE_ID
    assert process.trace_state == CLIENT_TRACESTATE


def test_consumer_continues_a_trace_from_aws_trace_header_alone(run: Run) -> None:
    trace_id, parent = run.xray_context
    process = run.process_span(run.xray_order)
    assert (process.trace_id, process.parent_span_id) == (trace_id, parent)
    assert [(link.trace_id, link.span_id) for link in process.links] == [(trace_id, parent)]
    [line] = [
        r for r in run.events("consumer", "order processed") if r.get("order_id") == run.xray_order
    ]
    assert line["trace_id"] == trace_id


def test_failures_and_redeliveries_are_visible_on_the_process_span(run: Run) -> None:
    process = [s for s in run.spans if s.name == f"process {run.shop.queue_name}"]
    failed = [s for s in process if s.attributes.get("lantern.outcome") == "failed"]
    assert len(failed) == MAX_RECEIVE_COUNT
    for span in failed:
        assert span.status == "ERROR"
        assert span.attributes["error.type"] == "PoisonMessage"
        assert "exception" in span.events
        assert (span.parent_span_id, span.links) == (None, ())  # sent without trace context
    again = [s for s in run.process_spans(run.redelivered_order) if s.parent_span_id is None]
    assert [s.attributes["lantern.outcome"] for s in again] == ["redelivered"]


def test_xray_compatible_trace_ids_when_asked(run: Run) -> None:
    for order_id in run.orders:
        epoch = int(run.send_span(order_id).trace_id[:8], 16)
        assert run.started_at - 5 <= epoch <= time.time() + 5


def test_probes_and_scrapes_start_no_spans(run: Run) -> None:
    names = {s.name for s in run.spans}
    assert not {n for n in names if re.search(r"/(healthz|readyz|metrics)\b", n)}
    # The readiness checks' AWS calls (DescribeTable, GetQueueAttributes) are suppressed too.
    assert "DynamoDB.DescribeTable" not in names
    assert not [
        s for s in run.spans if s.name == "SQS.GetQueueAttributes" and s.service == "producer"
    ]


# -------------------------------------------------------------------------------- prometheus


def test_producer_runs_two_gunicorn_workers(run: Run) -> None:
    booted = [r for r in run.logs("producer") if r["event"].startswith("Booting worker")]
    assert len(booted) == 2


def test_orders_accepted_total_is_exact_whichever_worker_answers(run: Run) -> None:
    accepted = len(run.fulfilled)
    for scrape in range(SCRAPES):
        assert run.metric("producer", scrape, "orders_accepted_total") == accepted
        assert run.metric("producer", scrape, "sqs_send_duration_seconds_count") == accepted
        posted = run.metric(
            "producer",
            scrape,
            "http_server_request_duration_seconds_count",
            route="/orders",
            method="POST",
            status="202",
        )
        assert posted == accepted + 1  # and the idempotent replay


def test_orders_rejected_total_counts_each_reason(run: Run) -> None:
    expected = Counter(reason for reason, *_ in BAD_REQUESTS)
    for scrape in range(SCRAPES):
        for reason, count in expected.items():
            assert run.metric("producer", scrape, "orders_rejected_total", reason=reason) == count
        total = sum(
            s.value
            for f in text_string_to_metric_families(run.scrapes["producer"][scrape])
            for s in f.samples
            if s.name == "orders_rejected_total"
        )
        assert total == sum(expected.values())


def test_orders_processed_total_is_exact_by_outcome(run: Run) -> None:
    outcomes = {
        "fulfilled": len(run.consumed),
        "redelivered": 1,
        "failed": MAX_RECEIVE_COUNT,
    }
    handled = run.handled
    for scrape in range(SCRAPES):
        for outcome, count in outcomes.items():
            assert (
                run.metric("consumer", scrape, "orders_processed_total", outcome=outcome) == count
            )
        assert run.metric("consumer", scrape, "order_processing_duration_seconds_count") == handled
        assert run.metric("consumer", scrape, "order_message_age_seconds_count") == handled
        assert run.metric("consumer", scrape, "orders_in_flight") == 0
        dlq = {"queue": run.shop.dlq_name, "state": "visible"}
        assert run.metric("consumer", scrape, "sqs_queue_messages", **dlq) == 1


# ------------------------------------------------------------------------------------ statsd


def test_statsd_counters_count_the_same_events(run: Run) -> None:
    statsd = run.statsd
    assert statsd.count("producer.orders.accepted") == len(run.fulfilled)
    for reason, count in Counter(reason for reason, *_ in BAD_REQUESTS).items():
        assert statsd.count(f"producer.orders.rejected.{reason}") == count
    assert statsd.count("consumer.orders.processed.fulfilled") == len(run.consumed)
    assert statsd.count("consumer.orders.processed.redelivered") == 1
    assert statsd.count("consumer.orders.processed.failed") == MAX_RECEIVE_COUNT


def test_statsd_timers_and_gauges_arrive(run: Run) -> None:
    statsd = run.statsd
    handled = run.handled
    assert len(statsd.values("producer.sqs.send", "ms")) == len(run.fulfilled)
    assert len(statsd.values("consumer.orders.processing", "ms")) == handled
    assert len(statsd.values("consumer.orders.message_age", "ms")) == handled
    assert all(v >= 0 for v in statsd.values("consumer.orders.message_age"))
    assert statsd.values(f"consumer.queue.{run.shop.queue_name}.visible", "g")
    assert statsd.values(f"consumer.queue.{run.shop.dlq_name}.visible", "g")[-1] == 1
    assert {"producer.http.2xx", "producer.http.4xx", "consumer.http.5xx"} <= statsd.names()


# -------------------------------------------------------------------------------------- logs


def test_every_output_line_of_every_service_is_a_json_object(run: Run) -> None:
    for service, lines in run.lines.items():
        assert lines, service
        for line in lines:
            record = json.loads(line)
            assert isinstance(record, dict), line
            assert {"timestamp", "level", "service", "logger", "event"} <= record.keys(), line
            assert record["service"] == service
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])


def test_order_processed_line_carries_the_orders_trace_id(run: Run) -> None:
    processed = run.events("consumer", "order processed")
    by_order = {r["order_id"]: r for r in processed if r["outcome"] == "fulfilled"}
    for order_id in run.fulfilled:
        process = run.process_span(order_id)
        line = by_order[order_id]
        assert (line["trace_id"], line["span_id"]) == (process.trace_id, process.span_id)
        trace_id = process.trace_id
        assert line["xray_trace_id"] == f"1-{trace_id[:8]}-{trace_id[8:]}"
        assert line["message_id"] == process.attributes["messaging.message.id"]
    assert len(processed) == run.handled  # one line per processed message
    failed = [r for r in processed if r["outcome"] == "failed"]
    assert [(r["level"], r["reason"]) for r in failed] == [
        ("warning", "poison")
    ] * MAX_RECEIVE_COUNT


def test_request_line_carries_order_id_and_trace_id(run: Run) -> None:
    requests = run.events("producer", "request")
    assert len(requests) == run.producer_requests  # one line per request, no chatter
    accepted = [r for r in requests if r["status"] == 202]
    by_order = {r["order_id"]: r for r in accepted if r["replayed"] is False}
    assert [r["order_id"] for r in accepted if r["replayed"]] == [run.idempotent_order]
    for order_id in run.fulfilled:
        send = run.send_span(order_id)
        line = by_order[order_id]
        assert line["trace_id"] == send.trace_id
        assert line["span_id"] == send.parent_span_id  # the POST /orders server span
        assert (line["route"], line["method"]) == ("/orders", "POST")
    rejected = Counter(r.get("rejected") for r in requests if r["status"] >= 400)
    assert rejected == Counter(reason for reason, *_ in BAD_REQUESTS)


def test_uncaught_error_is_logged_once_with_its_stack(run: Run) -> None:
    logs = run.logs("consumer")
    [error] = [r for r in logs if r["event"] == "unhandled error"]
    assert error["level"] == "error"
    assert error["path"] == f"/orders/{run.orders[1]}"
    assert error["exception"].startswith("Traceback (most recent call last)")
    assert "ResourceNotFoundException" in error["exception"]
    assert sum("Traceback" in line for line in run.lines["consumer"]) == 1
    [request] = [r for r in logs if r["event"] == "request" and r["status"] == 500]
    assert request["trace_id"] == error["trace_id"]


# ------------------------------------------------------------------------------ the catalog


def pattern(name: str, placeholder: str) -> re.Pattern[str]:
    parts = re.split(placeholder, name)
    return re.compile(".+".join(re.escape(part) for part in parts))


@pytest.fixture(scope="module")
def catalog() -> dict[str, list[dict[str, str]]]:
    return catalog_tables(CATALOG.read_text())


OURS = {"producer", "consumer"}  # the frontend joins this check when it exists


def test_catalog_lists_exactly_the_prometheus_metrics(run: Run, catalog: Any) -> None:
    documented = {
        ticked(row["Metric"])[0]: (row["Type"], set(ticked(row["Labels"])), services_of(row))
        for row in catalog["Prometheus metrics"]
    }
    emitted: dict[str, tuple[str, set[str], set[str]]] = {}
    for service in sorted(OURS):
        for family in text_string_to_metric_families(run.scrapes[service][0]):
            name = family.name + ("_total" if family.type == "counter" else "")
            labels = {k for s in family.samples for k in s.labels if k != "le"}
            kind, seen, services = emitted.get(name, (family.type, set(), set()))
            emitted[name] = (kind, seen | labels, services | {service})
    assert set(emitted) - set(documented) == set(), "emitted but not documented"
    ours = {name for name, (_, _, services) in documented.items() if services & OURS}
    assert ours - set(emitted) == set(), "documented but never emitted"
    for name, (kind, labels, services) in emitted.items():
        assert documented[name][0] == kind, name
        assert documented[name][1] == labels, name
        assert services <= documented[name][2], name


def test_catalog_lists_exactly_the_spans(run: Run, catalog: Any) -> None:
    rows = catalog["Spans"]
    documented = [
        (pattern(ticked(row["Span"])[0], r"\{[a-z_]+\}"), row["Kind"], services_of(row))
        for row in rows
    ]
    emitted = {(s.service, s.name, s.kind) for s in run.spans}
    undocumented = {
        (service, name, kind)
        for service, name, kind in emitted
        if not any(
            p.fullmatch(name) and k == kind and service in services for p, k, services in documented
        )
    }
    assert undocumented == set(), "emitted but not documented"
    missing = [
        p.pattern
        for p, kind, services in documented
        if services & OURS and not any(p.fullmatch(name) and k == kind for _, name, k in emitted)
    ]
    assert missing == [], "documented but never emitted"


def test_catalog_lists_exactly_the_lantern_span_attributes(run: Run, catalog: Any) -> None:
    documented = {ticked(row["Attribute"])[0] for row in catalog["Span attributes set by Lantern"]}
    emitted = {key for s in run.spans if s.scope == "lantern.messaging" for key in s.attributes}
    assert emitted == documented


def test_catalog_lists_exactly_the_statsd_names(run: Run, catalog: Any) -> None:
    types = {"counter": "c", "timer": "ms", "gauge": "g"}
    documented = [
        (pattern(ticked(row["Name"])[0], r"<[a-z_]+>"), types[row["Type"]], services_of(row))
        for row in catalog["StatsD metrics"]
    ]
    emitted = {(name, kind) for name, kinds in run.statsd.types().items() for kind in kinds}
    undocumented = {
        (name, kind)
        for name, kind in emitted
        if not any(p.fullmatch(name) and k == kind for p, k, _ in documented)
    }
    assert undocumented == set(), "emitted but not documented"
    missing = [
        p.pattern
        for p, kind, services in documented
        if services & OURS and not any(p.fullmatch(n) and k == kind for n, k in emitted)
    ]
    assert missing == [], "documented but never emitted"


def test_catalog_lists_every_log_field_event_and_logger(run: Run, catalog: Any) -> None:
    fields = {ticked(row["Field"])[0] for row in catalog["Log fields"]}
    events = {(ticked(row["Event"])[0], ticked(row["Logger"])[0]) for row in catalog["Log events"]}
    libraries = {name for row in catalog["Library loggers"] for name in ticked(row["Logger"])}
    for service in sorted(OURS):
        for record in run.logs(service):
            assert set(record) <= fields, f"undocumented field in {record}"
            logger, event = record["logger"], record["event"]
            if logger.split(".")[0] in libraries or logger in libraries:
                continue
            assert (event, logger) in events, f"undocumented event {event!r} from {logger}"
