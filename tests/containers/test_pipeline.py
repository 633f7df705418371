"""The shop in containers, each started with the hardening its Kubernetes manifest declares.

Provisioning runs from its image with compose's command and environment; producer, consumer and
storefront run with the user, read-only root, emptyDir mounts, dropped capabilities, limits and
environment of the rendered ``k8s/overlays/local`` Deployments (tests/containers/specs.py), on the
host network against the session's moto endpoint and the test's OTLP receiver.
"""

from __future__ import annotations

import json
import re
import secrets as secrets_module
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.containers.conftest import FIGURES, Image
from tests.containers.engine import ROOT, Container, Engine
from tests.containers.specs import RunSpec, as_json, from_compose, from_deployment
from tests.containers.storefront import Customer
from tests.support.net import free_port, http, wait_for
from tests.support.receivers import OtlpReceiver
from tests.support.shop import order_payload, queue_counts

SERVICES = ("producer", "consumer", "frontend")
HEALTHY_WITHIN_SECONDS = 120  # the HEALTHCHECK's first probe comes after its 10 s interval


@dataclass
class ContainerShop:
    engine: Engine
    images: dict[str, Image]
    specs: dict[str, RunSpec]
    ports: dict[str, int]
    containers: dict[str, Container]
    otlp: OtlpReceiver
    endpoint: str

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, service: str, name: str | None = None, **env: str) -> Container:
        """Start ``service`` as its manifest says (plus ``env``), under a fresh container name."""
        spec = self.specs[service]
        container = self.engine.run(
            name or f"lantern-test-{service}-{uuid.uuid4().hex[:6]}",
            self.images[service].tag,
            spec.args(env),
            spec.command,
        )
        self.containers[container.name] = container
        return container

    def wait_healthy(self, container: Container) -> None:
        def healthy() -> bool:
            state = container.health()
            assert state != "unhealthy", container.logs()[-3000:]
            assert container.running(), container.logs()[-3000:]
            return state == "healthy"

        wait_for(healthy, HEALTHY_WITHIN_SECONDS, interval=1, what=f"{container.name} healthy")

    def aws(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service, region_name="us-east-1", endpoint_url=self.endpoint,
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The fulfilled order's record from the consumer's API (None while there is none)."""
        try:
            status, _, body = http("GET", f"{self.url('consumer')}/orders/{order_id}")
        except OSError:  # between two consumers nobody answers on the port
            return None
        record: dict[str, Any] | None = json.loads(body) if status == 200 else None
        return record if record and record.get("status") == "fulfilled" else None

    def wait_fulfilled(self, order_id: str, timeout: float = 90) -> dict[str, Any]:
        return wait_for(lambda: self.order(order_id), timeout, what=f"{order_id} fulfilled")

    def stored_order_ids(self, table: str) -> list[str]:
        items = self.aws("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
        return [i["pk"]["S"] for i in items if i["pk"]["S"].startswith("ord_")]

    def queue_counts(self, queue: str) -> tuple[int, int]:
        return queue_counts(self.aws("sqs"), queue)


def provision(engine: Engine, image: Image, compose: dict[str, Any], endpoint: str) -> None:
    """The compose provision job, from its image, against moto instead of the emulators."""
    spec = from_compose(compose, "provision", ROOT).relocate(
        {"AWS_ENDPOINT_URL_SQS": endpoint, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    )
    finished = engine.run_once(image.tag, spec.args(), spec.command)
    assert finished.returncode == 0, f"{as_json(spec)}\n{finished.stdout}\n{finished.stderr}"


@pytest.fixture(scope="module")
def shop(
    engine: Engine,
    images: dict[str, Image],
    k8s_local: list[dict[str, Any]],
    compose: dict[str, Any],
    moto_port: int,
) -> Iterator[ContainerShop]:
    endpoint = f"http://127.0.0.1:{moto_port}"
    provision(engine, images["provision"], compose, endpoint)
    ports = {service: free_port() for service in SERVICES}
    with OtlpReceiver() as otlp:
        addresses = {
            "AWS_ENDPOINT_URL_SQS": endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
            "STATSD_HOST": "127.0.0.1",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "PRODUCER_URL": f"http://127.0.0.1:{ports['producer']}",
            "CONSUMER_URL": f"http://127.0.0.1:{ports['consumer']}",
        }
        # What `kubectl create secret generic frontend-session ...` (docs/deployment.md) holds.
        secrets = {("frontend-session", "SECRET_KEY"): secrets_module.token_hex(32)}
        specs = {}
        for service in SERVICES:
            spec = from_deployment(k8s_local, service, secrets).relocate(addresses)
            spec.env["PORT"] = str(ports[service])  # one host network: a port each
            specs[service] = spec
        running = ContainerShop(engine, images, specs, ports, {}, otlp, endpoint)
        try:
            for service in SERVICES:
                running.start(service, name=f"lantern-test-{service}")
            for container in list(running.containers.values()):
                running.wait_healthy(container)
            yield running
        finally:
            for container in running.containers.values():
                container.remove()


def test_every_service_reaches_healthy_under_its_manifests_hardening(shop: ContainerShop) -> None:
    for service in SERVICES:
        container = shop.containers[f"lantern-test-{service}"]
        host = container.inspect()["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert "no-new-privileges" in host["SecurityOpt"]
        assert "/tmp" in host["Tmpfs"]
        # Inside: not root, nothing writable outside /tmp, no capabilities at all.
        probe = (
            "import os; print(os.getuid(), os.getgid());"
            "print([l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]);"
            "open('/tmp/ok', 'w').write('x')\n"
            "try:\n    open('/app/x', 'w')\nexcept OSError as e:\n    print('root-fs', e.errno)"
        )
        out = shop.engine.docker("exec", container.name, "python", "-c", probe).split()
        assert out[:2] == ["10001", "10001"], out
        assert int(out[2], 16) == 0, f"{service} has capabilities {out[2]}"
        assert out[3:] == ["root-fs", "30"], f"{service}: root filesystem is writable ({out})"


def test_checkouts_through_the_storefront_are_fulfilled_exactly_once(shop: ContainerShop) -> None:
    placed = []
    for index in range(20):
        customer = Customer(shop.url("frontend"))
        customer.add_to_cart("LNT-001", 1 + index % 3)
        placed.append(customer.check_out(f"Container Customer {index}", "ada@example.com"))
    assert len(set(placed)) == 20
    for order_id in placed:
        shop.wait_fulfilled(order_id)
    stored = shop.stored_order_ids("orders")
    assert sorted(o for o in stored if o in placed) == sorted(placed)
    assert len(stored) == len(set(stored))


def test_one_checkout_is_one_trace_from_the_containers(shop: ContainerShop) -> None:
    customer = Customer(shop.url("frontend"))
    customer.add_to_cart("LNT-002", 1)
    order_id = customer.check_out("Trace Customer", "ada@example.com")
    record = shop.wait_fulfilled(order_id)
    trace_id = record["trace_id"]

    def whole_trace() -> list[Any] | None:
        spans = [s for s in shop.otlp.snapshot() if s.trace_id == trace_id]
        services = {s.service for s in spans}
        return spans if services >= {"frontend", "producer", "consumer"} else None

    spans = wait_for(whole_trace, 30, what=f"spans of trace {trace_id} from all three services")
    names = {s.name for s in spans}
    assert {"send orders", "process orders"} <= names, names
    assert any(s.name == "POST /checkout" and s.service == "frontend" for s in spans), names


def test_the_load_image_drives_the_shop_with_hey(
    shop: ContainerShop, compose: dict[str, Any]
) -> None:
    """The load job as compose runs it (hardening, environment), briefly and gently."""
    spec = from_compose(compose, "load", ROOT).relocate(
        {
            "FRONTEND_URL": shop.url("frontend"),
            "PRODUCER_URL": shop.url("producer"),
            "AWS_ENDPOINT_URL_DYNAMODB": shop.endpoint,
            "LOAD_DURATION": "3s",  # 2 workers at 5 requests/s each: ~30 requests a target
            "LOAD_CONCURRENCY": "2",
            "LOAD_RATE": "5",
        }
    )
    before = len(shop.stored_order_ids("orders"))
    finished = shop.engine.run_once(shop.images["load"].tag, spec.args(), [], timeout=300)
    assert finished.returncode == 0, f"{finished.stdout}\n{finished.stderr}"
    # The driver's own verdict: the run's order ids in the table, against its 202 answers.
    verdict = re.search(
        r"accepted (\d+) +fulfilled (\d+) .* missing 0 +extra 0 +OK", finished.stdout
    )
    assert verdict is not None, finished.stdout
    accepted = int(verdict[1])
    assert accepted > 0
    assert int(verdict[2]) == accepted
    # and, counted here independently, the table holds exactly that many more orders
    assert len(shop.stored_order_ids("orders")) == before + accepted


def test_docker_stop_drains_in_flight_orders_and_an_idle_consumer_stops_at_once(
    shop: ContainerShop,
) -> None:
    # The fixture's consumer is idle now: docker stop must not wait out its 20 s long poll.
    idle = shop.containers["lantern-test-consumer"]
    seconds, exit_code = idle.stop(grace=30)
    FIGURES["idle_consumer_stop_s"] = round(seconds, 2)
    assert exit_code == 0, idle.logs()[-3000:]
    assert seconds < 5, f"an idle consumer took {seconds:.1f}s to stop"

    # 30 orders queued while no consumer runs, then a slow consumer stopped mid-work.
    ids = [shop_place(shop) for _ in range(30)]
    busy = shop.start("consumer", CONSUMER_WORK_MS="400")
    wait_for(lambda: any(shop.order(o) for o in ids), 90, what="a first order fulfilled")
    seconds, exit_code = busy.stop(grace=30)
    FIGURES["busy_consumer_stop_s"] = round(seconds, 2)
    logs = busy.logs()
    assert exit_code == 0, logs[-3000:]
    assert '"drained":true' in logs, logs[-3000:]

    # A fresh consumer finishes the rest: every order exactly once, nothing left anywhere.
    rest = shop.start("consumer")
    shop.wait_healthy(rest)
    for order_id in ids:
        shop.wait_fulfilled(order_id)
    stored = shop.stored_order_ids("orders")
    assert sorted(o for o in stored if o in ids) == sorted(ids)
    assert wait_for(lambda: shop.queue_counts("orders") == (0, 0) or None, 60, what="queue empty")
    assert shop.queue_counts("orders-dlq") == (0, 0)
    fulfilled = [
        line for c in (busy, rest) for line in c.logs().splitlines()
        if '"order processed"' in line and '"outcome":"fulfilled"' in line
    ]  # fmt: skip
    per_order = {o: sum(o in line for line in fulfilled) for o in ids}
    assert set(per_order.values()) == {1}, per_order


def shop_place(shop: ContainerShop) -> str:
    status, _, body = http("POST", f"{shop.url('producer')}/orders", order_payload())
    assert status == 202, body
    order_id: str = json.loads(body)["order_id"]
    return order_id
