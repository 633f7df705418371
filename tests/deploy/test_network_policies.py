"""The NetworkPolicies of each overlay allow exactly the architecture's flows: the arrows of
docs/deployment.md, plus DNS, telemetry and the way out to AWS (or the emulators)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.deploy.policy import Flow, allowed_flows
from tests.deploy.support import OVERLAYS, SERVICES, default_port, named, pod_template

Rendered = dict[str, list[dict[str, Any]]]
DNS = "ns:kube-system/k8s-app=kube-dns"
COLLECTOR_PORTS = ((4317, "TCP"), (4318, "TCP"), (8125, "UDP"), (2000, "UDP"))


def architecture(overlay: str) -> set[Flow]:
    """The flows each overlay must allow, written from the architecture, not from the YAML."""
    port = {s: default_port(s) for s in SERVICES}
    flows = {
        Flow("any", "frontend", port["frontend"]),  # shoppers
        Flow("frontend", "producer", port["producer"]),  # POST /orders
        Flow("frontend", "consumer", port["consumer"]),  # GET /orders/<id>, pipeline page
        # hey's targets; the load job counts its orders in the table, never asks the consumer
        Flow("load", "frontend", port["frontend"]),
        Flow("load", "producer", port["producer"]),
        *(Flow(s, "otel-collector", p, proto) for s in SERVICES for p, proto in COLLECTOR_PORTS),
        *(Flow("otel-collector", s, port[s]) for s in SERVICES),  # /metrics scrape
    }
    workloads = {*SERVICES, "otel-collector", "load"}
    if overlay == "eks":
        for client in ("producer", "consumer", "load", "otel-collector"):
            flows |= {
                Flow(client, "cidr:0.0.0.0/0", 443),  # SQS, DynamoDB, X-Ray, CloudWatch, API
                Flow(client, "cidr:169.254.170.23/32", 80),  # EKS Pod Identity agent
            }
    else:
        workloads |= {"elasticmq", "dynamodb", "jaeger"}
        flows |= {
            *(Flow(s, "elasticmq", 9324) for s in ("producer", "consumer")),
            *(Flow(s, "dynamodb", 8000) for s in ("producer", "consumer", "load")),
            Flow("otel-collector", "jaeger", 4317),
            Flow("frontend", "jaeger", 16686),  # the order page's journey reads its trace
            Flow("otel-collector", "cidr:0.0.0.0/0", 443),  # Kubernetes API (pod discovery)
            Flow("otel-collector", "cidr:0.0.0.0/0", 6443),
        }
    if overlay == "local-full":
        flows.add(Flow("ns:keda", "elasticmq", 9324))  # KEDA reads the queue depth
        flows |= {Flow("ns:monitoring", s, port[s]) for s in SERVICES}  # Prometheus scrape
    for workload in workloads:
        flows |= {Flow(workload, DNS, 53, "UDP"), Flow(workload, DNS, 53, "TCP")}
    return flows


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_exactly_the_architecture(rendered: Rendered, overlay: str) -> None:
    allowed, expected = allowed_flows(rendered[overlay]), architecture(overlay)
    assert sorted(allowed - expected) == [], "allowed but not in the architecture"
    assert sorted(expected - allowed) == [], "in the architecture but blocked"


def test_flow_analysis_sees_a_policy_that_opens_too_much(rendered: Rendered) -> None:
    objects = copy.deepcopy(rendered["eks"])
    # Someone "fixes" a connection problem by letting the producer talk to anything.
    named(objects, "NetworkPolicy", "aws-egress")["spec"]["egress"].append({})
    extra = allowed_flows(objects) - architecture("eks")
    assert Flow("producer", "frontend", default_port("frontend")) in extra
    assert Flow("producer", "any", 0, "*") in extra


def test_flow_analysis_sees_pods_without_egress_rules(rendered: Rendered) -> None:
    # Without the default deny and the namespace-wide DNS policy, Jaeger's egress is open.
    dropped = {"default-deny-all", "allow-dns"}
    objects = [o for o in rendered["local"] if o["metadata"]["name"] not in dropped]
    assert Flow("jaeger", "frontend", default_port("frontend")) in allowed_flows(objects)


def test_flow_analysis_sees_a_broken_selector(rendered: Rendered) -> None:
    objects = copy.deepcopy(rendered["local"])
    template = pod_template(named(objects, "Deployment", "consumer"))
    assert template is not None
    template["metadata"]["labels"]["app.kubernetes.io/name"] = "consumer-v2"
    missing = architecture("local") - allowed_flows(objects)
    assert Flow("frontend", "consumer", default_port("consumer")) in missing
