"""KEDA's target and the consumer it sizes agree: the capacity benchmark (bench.consumer_capacity,
whose rates docs/benchmarks.md turns into queueLength) measures the settings the manifests
deploy, and no overlay's queueLength is below what one busy replica holds in flight by itself
(threads x batch), or that replica's own batches would ask KEDA for more replicas."""

from __future__ import annotations

from typing import Any

import pytest

from bench.consumer_capacity import DEFAULT, WORKSHOP
from tests.deploy.support import K8S, named, render

SCALED = ("eks", "eks-lab", "local-full")  # the overlays with KEDA


@pytest.fixture(scope="module", params=SCALED)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(K8S / "overlays" / request.param)


def test_the_benchmark_measures_the_settings_the_overlays_deploy(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, objects = overlay
    config = named(objects, "ConfigMap", "consumer-config")["data"]
    measured = WORKSHOP if name == "eks-lab" else DEFAULT
    assert {key: config[key] for key in measured} == measured


def test_a_busy_replica_never_asks_for_another_by_itself(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    config = named(objects, "ConfigMap", "consumer-config")["data"]
    (trigger,) = named(objects, "ScaledObject", "consumer")["spec"]["triggers"]
    assert trigger["metadata"]["scaleOnInFlight"] == "true"
    held = int(config["CONSUMER_CONCURRENCY"]) * int(config["CONSUMER_BATCH_SIZE"])
    assert int(trigger["metadata"]["queueLength"]) >= held
