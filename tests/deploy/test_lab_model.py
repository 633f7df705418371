"""The scaling lab's model (devstack.lab.BLOG, whose timeline docs/labs.md prints) has the
settings the eks-lab overlay deploys: consumer work, KEDA's target and limits, the HPA's
scale-down behaviour, the replicas alarm and the generator's rate. Change one side without the
other and the documented timeline would describe a different lab: this test fails instead."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.__main__ import LABS
from devstack.lab import BLOG, Alarm
from tests.deploy.support import K8S, named, render


@pytest.fixture(scope="module")
def lab() -> list[dict[str, Any]]:
    return render(K8S / "overlays" / "eks-lab")


def test_the_consumer_works_as_the_model_says(lab: list[dict[str, Any]]) -> None:
    config = named(lab, "ConfigMap", "consumer-config")["data"]
    assert int(config["CONSUMER_CONCURRENCY"]) == BLOG.concurrency
    assert int(config["CONSUMER_WORK_MS"]) == BLOG.work_ms
    # make run's LAB=blog runs the same consumer
    assert LABS["blog"]["CONSUMER_CONCURRENCY"] == config["CONSUMER_CONCURRENCY"]
    assert LABS["blog"]["CONSUMER_WORK_MS"] == config["CONSUMER_WORK_MS"]
    assert LABS["blog"]["CONSUMER_BATCH_SIZE"] == config["CONSUMER_BATCH_SIZE"]


def test_keda_scales_as_the_model_says(lab: list[dict[str, Any]]) -> None:
    spec = named(lab, "ScaledObject", "consumer")["spec"]
    (trigger,) = spec["triggers"]
    policy = BLOG.policy
    assert int(trigger["metadata"]["queueLength"]) == policy.queue_length
    assert trigger["metadata"]["scaleOnInFlight"] == "true"  # the model counts in-flight too
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (
        policy.min_replicas,
        policy.max_replicas,
    )
    assert LABS["blog"]["CONSUMER_QUEUE_LENGTH"] == str(policy.queue_length)
    assert LABS["blog"]["CONSUMER_MAX_REPLICAS"] == str(policy.max_replicas)
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert "scaleUp" not in behavior  # the model uses the HPA's default scale-up
    down = behavior["scaleDown"]
    assert down["stabilizationWindowSeconds"] == policy.scale_down_stabilization
    (rule,) = down["policies"]
    assert (rule["type"], rule["value"], rule["periodSeconds"]) == (
        "Pods",
        policy.scale_down_pods,
        policy.scale_down_period,
    )


ALARMS = {  # the model's metric -> the MetricAlarm and the CloudWatch metric it watches
    "replicas": ("consumer-replicas-near-max", "service_number_of_running_pods"),
    "age": ("orders-oldest-message-age", "ApproximateAgeOfOldestMessage"),
}


@pytest.mark.parametrize("alarm", BLOG.alarms, ids=lambda a: a.metric)
def test_each_alarm_is_judged_as_the_model_says(lab: list[dict[str, Any]], alarm: Alarm) -> None:
    name, metric = ALARMS[alarm.metric]
    spec = named(lab, "MetricAlarm", name)["spec"]
    assert spec["metricName"] == metric
    assert spec["threshold"] == alarm.threshold
    operator = "GreaterThanOrEqualToThreshold" if alarm.inclusive else "GreaterThanThreshold"
    assert spec["comparisonOperator"] == operator
    assert spec["statistic"] == "Maximum"  # the model's one-minute maxima
    assert spec["period"] == alarm.period
    assert spec["evaluationPeriods"] == spec["datapointsToAlarm"] == alarm.datapoints


def test_the_generator_sends_what_the_model_assumes(lab: list[dict[str, Any]]) -> None:
    generator = named(lab, "Deployment", "order-generator")
    (container,) = generator["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    per_replica = float(env["LOAD_RATE"]) * int(env["LOAD_CONCURRENCY"])  # hey -q is per worker
    rates = [phase.orders_per_second for phase in BLOG.phases]
    assert generator["spec"]["replicas"] * per_replica == rates[0]
    assert max(rates) % per_replica == 0  # the rush is a whole number of replicas
