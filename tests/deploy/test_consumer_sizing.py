"""KEDA's target and the consumer it sizes agree: the capacity benchmark (bench.consumer_capacity,
whose rates docs/benchmarks.md turns into queueLength) measures the settings the manifests
deploy; and with the default settings, one saturated replica (threads x batch in flight) asks
KEDA for more by itself, before any queue builds: the benchmark found that a replica below its
capacity shows only a few messages, so a target above what a saturated one holds would be met
only by a growing queue."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from bench.consumer_capacity import DEFAULT, WORKSHOP
from tests.deploy.support import K8S, named, render

SCALED = ("eks", "eks-lab", "local-full")  # the overlays with KEDA
WORKSHOP_OVERLAY = "eks-lab"


@functools.cache
def rendered(overlay: str) -> list[dict[str, Any]]:
    return render(K8S / "overlays" / overlay)


@pytest.mark.parametrize("overlay", SCALED)
def test_the_benchmark_measures_the_settings_the_overlays_deploy(overlay: str) -> None:
    config = named(rendered(overlay), "ConfigMap", "consumer-config")["data"]
    measured = WORKSHOP if overlay == WORKSHOP_OVERLAY else DEFAULT
    assert {key: config[key] for key in measured} == measured


# Not the workshop: it keeps a real queue on purpose (Lab 4, 150 s of waiting per order).
@pytest.mark.parametrize("overlay", [o for o in SCALED if o != WORKSHOP_OVERLAY])
def test_a_saturated_default_replica_asks_for_more_by_itself(overlay: str) -> None:
    objects = rendered(overlay)
    config = named(objects, "ConfigMap", "consumer-config")["data"]
    (trigger,) = named(objects, "ScaledObject", "consumer")["spec"]["triggers"]
    assert trigger["metadata"]["scaleOnInFlight"] == "true"
    held = int(config["CONSUMER_CONCURRENCY"]) * int(config["CONSUMER_BATCH_SIZE"])
    # Past the HPA's 10 % tolerance: KEDA asks for a second replica on in-flight alone.
    assert held > 1.1 * int(trigger["metadata"]["queueLength"])
