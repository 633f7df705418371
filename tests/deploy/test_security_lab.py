"""docs/security.md's claims about the manifests, checked on the rendered eks overlay: each
refusal the page promises follows from a setting that is really there. (Section 2's container
answers run under Docker in tests/containers/test_security_lab.py; the API server's, the VPC
CNI's and IAM's own words cannot be produced here.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.policy import Flow, allowed_flows
from tests.deploy.support import K8S, ROOT, by_kind, named, pod_template, render

PAGE = (ROOT / "docs" / "security.md").read_text()
SHOP = ("frontend", "producer", "consumer")


@pytest.fixture(scope="module")
def eks() -> list[dict[str, Any]]:
    return render(K8S / "overlays" / "eks")


def test_the_namespace_enforces_the_restricted_standard_the_page_quotes(
    eks: list[dict[str, Any]],
) -> None:
    labels = named(eks, "Namespace", "lantern")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    version = labels["pod-security.kubernetes.io/enforce-version"]
    assert f'violates PodSecurity "restricted:{version}"' in PAGE


@pytest.mark.parametrize("service", SHOP)
def test_each_pod_runs_as_the_container_test_ran_it(
    eks: list[dict[str, Any]], service: str
) -> None:
    """The Docker run of section 2 used the local overlay; eks must harden the same way."""
    local = render(K8S / "overlays" / "local")
    for objects in (eks, local):
        template = pod_template(named(objects, "Deployment", service))
        assert template is not None
        container = template["spec"]["containers"][0]
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }


def test_no_shop_pod_carries_an_api_token_and_the_collector_role_is_pods_only(
    eks: list[dict[str, Any]],
) -> None:
    accounts = {a["metadata"]["name"]: a for a in by_kind(eks, "ServiceAccount")}
    for name in (*SHOP, "load"):
        assert accounts[name]["automountServiceAccountToken"] is False
    (role,) = [r for r in by_kind(eks, "Role") if r["metadata"]["name"] == "otel-collector"]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    ]
    assert not by_kind(eks, "ClusterRole")
    assert not by_kind(eks, "ClusterRoleBinding")


def test_the_network_answers_follow_from_the_policies(eks: list[dict[str, Any]]) -> None:
    flows = allowed_flows(eks)
    assert Flow("frontend", "consumer", 8082) in flows  # "connected"
    assert not any(f.source == "producer" and f.destination == "consumer" for f in flows)
    assert not any(f.source == "frontend" and f.destination.startswith("cidr:") for f in flows)
    assert "socket.create_connection(('consumer', 8082)" in PAGE


def test_the_producer_may_send_but_not_purge() -> None:
    policy = json.loads((K8S / "iam" / "lantern-producer.json").read_text())
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert "sqs:SendMessage" in actions
    assert not {a for a in actions if a.lower() in ("sqs:purgequeue", "sqs:*", "*")}
    assert "sqs:purgequeue" in PAGE
