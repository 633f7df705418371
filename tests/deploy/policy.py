"""Checks over rendered Kubernetes objects. Each returns a list of problems (empty = fine), so
the tests can run them on the real manifests and on deliberately broken ones alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.deploy.support import (
    by_kind,
    containers,
    env_name_problem,
    image_tag_problem,
    pod_template,
    selector_matches,
)

Objects = list[dict[str, Any]]
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")
# Created by hand, once per namespace (docs: `kubectl create secret generic frontend-session`):
# a signing key has no business in a repository.
MANUAL_SECRETS = frozenset({"frontend-session"})


def _label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def workload_problems(obj: dict[str, Any]) -> list[str]:
    """Hardening, probes, resources and pinned images of one workload."""
    template = pod_template(obj)
    if template is None:
        return []
    spec, where = template["spec"], _label(obj)
    problems: list[str] = []
    pod_sc = spec.get("securityContext") or {}
    if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: pod seccompProfile is not RuntimeDefault")
    if pod_sc.get("runAsUser") == 0:
        problems.append(f"{where}: pod runs as user 0")
    for container in containers(template):
        name = f"{where}[{container['name']}]"
        sc = container.get("securityContext") or {}
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as user 0")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: root filesystem is writable")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
            problems.append(f"{name}: capabilities are not drop [ALL] with nothing added")
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (resources.get(kind) or {}):
                    problems.append(f"{name}: no {resource} {kind[:-1]}")
        if problem := image_tag_problem(container.get("image", "")):
            problems.append(f"{name}: {problem}")
    if obj["kind"] in LONG_RUNNING:
        for container in containers(template, init=False):
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    problems.append(f"{where}[{container['name']}]: no {probe}")
    return problems


def service_problems(objects: Objects) -> list[str]:
    """Every Service selects the pods of some workload, on a port those pods declare."""
    templates = [t for o in objects if (t := pod_template(o))]
    problems = []
    for service in by_kind(objects, "Service"):
        selector = service["spec"].get("selector") or {}
        matching = [t for t in templates if selector_matches({"matchLabels": selector}, _labels(t))]
        if not selector or not matching:
            problems.append(f"{_label(service)}: selects no pods ({selector})")
            continue
        declared = {
            (p.get("name"), p["containerPort"])
            for t in matching
            for c in containers(t, init=False)
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if not any(target in (name, number) for name, number in declared):
                problems.append(f"{_label(service)}: targetPort {target} is not a container port")
    return problems


def disruption_budget_problems(objects: Objects) -> list[str]:
    templates = [t for o in objects if (t := pod_template(o))]
    return [
        f"{_label(pdb)}: selects no pods"
        for pdb in by_kind(objects, "PodDisruptionBudget")
        if not any(selector_matches(pdb["spec"]["selector"], _labels(t)) for t in templates)
    ]


def scale_target_problems(objects: Objects) -> list[str]:
    """HPAs and ScaledObjects point at Deployments that exist, never both at the same one."""
    deployments = {d["metadata"]["name"] for d in by_kind(objects, "Deployment")}
    problems: list[str] = []
    targets: dict[str, str] = {}
    for scaler in by_kind(objects, "HorizontalPodAutoscaler") + by_kind(objects, "ScaledObject"):
        ref = scaler["spec"]["scaleTargetRef"]
        if ref.get("kind", "Deployment") != "Deployment" or ref["name"] not in deployments:
            problems.append(f"{_label(scaler)}: target {ref} does not exist")
        if ref["name"] in targets:
            problems.append(f"{_label(scaler)} and {targets[ref['name']]} both scale {ref['name']}")
        targets[ref["name"]] = _label(scaler)
    for so in by_kind(objects, "ScaledObject"):
        spec = so["spec"]
        if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
            problems.append(f"{_label(so)}: minReplicaCount > maxReplicaCount")
        for trigger in spec["triggers"]:
            ref = (trigger.get("authenticationRef") or {}).get("name")
            if ref and not any(
                t["metadata"]["name"] == ref for t in by_kind(objects, "TriggerAuthentication")
            ):
                problems.append(f"{_label(so)}: TriggerAuthentication {ref} does not exist")
    return problems


def reference_problems(objects: Objects) -> list[str]:
    """ConfigMaps, Secrets, ServiceAccounts and Roles that objects refer to exist."""
    names = {
        kind: {o["metadata"]["name"] for o in by_kind(objects, kind)}
        for kind in ("ConfigMap", "Secret", "ServiceAccount", "Role")
    }
    names["Secret"] |= MANUAL_SECRETS
    problems: list[str] = []

    def need(kind: str, name: str, where: str) -> None:
        if name not in names[kind]:
            problems.append(f"{where}: {kind} {name} does not exist")

    for obj in objects:
        template = pod_template(obj)
        if template:
            spec, where = template["spec"], _label(obj)
            if spec.get("serviceAccountName"):
                need("ServiceAccount", spec["serviceAccountName"], where)
            for volume in spec.get("volumes", []):
                if "configMap" in volume:
                    need("ConfigMap", volume["configMap"]["name"], where)
                if "secret" in volume:
                    need("Secret", volume["secret"]["secretName"], where)
            for container in containers(template):
                for source in container.get("envFrom", []):
                    if "configMapRef" in source:
                        need("ConfigMap", source["configMapRef"]["name"], where)
                    if "secretRef" in source:
                        need("Secret", source["secretRef"]["name"], where)
                for env in container.get("env", []):
                    ref = env.get("valueFrom") or {}
                    if "configMapKeyRef" in ref:
                        need("ConfigMap", ref["configMapKeyRef"]["name"], where)
                    if "secretKeyRef" in ref:
                        need("Secret", ref["secretKeyRef"]["name"], where)
        if obj["kind"] == "RoleBinding":
            need("Role", obj["roleRef"]["name"], _label(obj))
            for subject in obj["subjects"]:
                need("ServiceAccount", subject["name"], _label(obj))
        if obj["kind"] == "TriggerAuthentication":
            for ref in obj["spec"].get("secretTargetRef", []):
                need("Secret", ref["name"], _label(obj))
    return problems


def namespace_problems(objects: Objects, namespace: str) -> list[str]:
    problems = []
    if not any(o["metadata"]["name"] == namespace for o in by_kind(objects, "Namespace")):
        problems.append(f"Namespace {namespace} is not part of the output")
    for obj in objects:
        if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != namespace:
            problems.append(f"{_label(obj)}: namespace {obj['metadata'].get('namespace')}")
    return problems


def component_of(container: dict[str, Any]) -> str | None:
    """Which Lantern source a container runs, from its image name (None: third-party)."""
    image = container.get("image", "")
    for name in ("frontend", "producer", "consumer", "provision", "load"):
        if f"lantern-shop/{name}:" in image:
            return name
    return None


def writable_tmp_problems(objects: Objects) -> list[str]:
    """Lantern containers run with a read-only root, so they need a volume on /tmp (gunicorn's
    worker heartbeats and PROMETHEUS_MULTIPROC_DIR live there)."""
    problems = []
    for obj in objects:
        template = pod_template(obj)
        for container in containers(template) if template else []:
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            if component_of(container) and "/tmp" not in mounts:
                problems.append(f"{_label(obj)}[{container['name']}]: no writable /tmp")
    return problems


def env_problems(objects: Objects) -> list[str]:
    """Every variable a Lantern container gets (env, envFrom ConfigMaps) is one its code reads."""
    config_maps = {
        c["metadata"]["name"]: c.get("data") or {} for c in by_kind(objects, "ConfigMap")
    }
    problems = []
    for obj in objects:
        template = pod_template(obj)
        for container in containers(template) if template else []:
            component = component_of(container)
            if component is None:
                continue
            names = [e["name"] for e in container.get("env", [])]
            for source in container.get("envFrom", []):
                names += list(config_maps.get(source.get("configMapRef", {}).get("name"), {}))
            where = f"{_label(obj)}[{container['name']}]"
            problems += [f"{where}: {p}" for n in names if (p := env_name_problem(component, n))]
    return problems


# --- NetworkPolicy flow analysis -----------------------------------------------------------


@dataclass(frozen=True, order=True)
class Flow:
    """Traffic a set of NetworkPolicies allows. Peers are workload names (the
    app.kubernetes.io/name label) or outside endpoints: ``any``, ``ns:<namespace>[/<selector>]``
    or ``cidr:<block>``. ``port`` 0 means every port."""

    source: str
    destination: str
    port: int
    protocol: str = "TCP"


def _labels(template: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = (template.get("metadata") or {}).get("labels") or {}
    return labels


Port = tuple[int, str, str]  # number, protocol, name ("" when unnamed)


def _workloads(objects: Objects) -> dict[str, tuple[dict[str, str], set[Port]]]:
    found = {}
    for obj in objects:
        template = pod_template(obj)
        if template:
            labels = _labels(template)
            ports = {
                (p["containerPort"], p.get("protocol", "TCP"), p.get("name", ""))
                for c in containers(template, init=False)
                for p in c.get("ports", [])
            }
            found[labels.get("app.kubernetes.io/name", obj["metadata"]["name"])] = (labels, ports)
    return found


def _outside(peer: dict[str, Any]) -> str | None:
    """The name of a peer outside this namespace, or None for a pod selector in it."""
    if "ipBlock" in peer:
        return f"cidr:{peer['ipBlock']['cidr']}"
    if "namespaceSelector" in peer:
        ns = (peer["namespaceSelector"].get("matchLabels") or {}).get(
            "kubernetes.io/metadata.name", "*"
        )
        pods = peer.get("podSelector", {}).get("matchLabels") or {}
        suffix = ",".join(f"{k}={v}" for k, v in sorted(pods.items()))
        return f"ns:{ns}/{suffix}" if suffix else f"ns:{ns}"
    return None


def _ports(rule: dict[str, Any]) -> list[tuple[int | str, str]]:
    """(port number or name, protocol) pairs of a rule; (0, "*") when it names none."""
    if not rule.get("ports"):
        return [(0, "*")]
    return [(p.get("port", 0), p.get("protocol", "TCP")) for p in rule["ports"]]


def _port_allowed(rule_ports: list[tuple[int | str, str]], port: Port) -> bool:
    number, protocol, name = port
    return any(p in (0, number, name) and proto in ("*", protocol) for p, proto in rule_ports)


def _resolve(rule_ports: list[tuple[int | str, str]], ports: set[Port]) -> list[tuple[int, str]]:
    """Rule ports as numbers: a named port becomes the pod's number for it."""
    resolved: list[tuple[int, str]] = []
    for port, protocol in rule_ports:
        if isinstance(port, str):
            resolved += [(n, proto) for n, proto, name in ports if name == port]
        else:
            resolved.append((port, protocol))
    return resolved


def allowed_flows(objects: Objects) -> set[Flow]:
    """Every flow the NetworkPolicies allow, into and out of the namespace's workloads."""
    workloads = _workloads(objects)
    policies = by_kind(objects, "NetworkPolicy")

    def applies(policy: dict[str, Any], labels: dict[str, str]) -> bool:
        return selector_matches(policy["spec"].get("podSelector") or {}, labels)

    def isolated(labels: dict[str, str], direction: str) -> bool:
        return any(
            direction in p["spec"].get("policyTypes", ["Ingress"]) and applies(p, labels)
            for p in policies
        )

    def rules(labels: dict[str, str], direction: str) -> Iterable[dict[str, Any]]:
        key = "ingress" if direction == "Ingress" else "egress"
        for p in policies:
            if applies(p, labels) and direction in p["spec"].get("policyTypes", ["Ingress"]):
                yield from p["spec"].get(key) or []

    def permits(labels: dict[str, str], direction: str, peer: dict[str, str], port: Port) -> bool:
        if not isolated(labels, direction):
            return True
        field = "from" if direction == "Ingress" else "to"
        for rule in rules(labels, direction):
            peers = rule.get(field)
            pod_peers = [x for x in peers or [] if _outside(x) is None]
            peer_ok = peers is None or any(
                selector_matches(x.get("podSelector") or {}, peer) for x in pod_peers
            )
            if peer_ok and _port_allowed(_ports(rule), port):
                return True
        return False

    flows: set[Flow] = set()
    for src, (src_labels, _) in workloads.items():
        for dst, (dst_labels, dst_ports) in workloads.items():
            for dst_port in dst_ports:
                if permits(src_labels, "Egress", dst_labels, dst_port) and permits(
                    dst_labels, "Ingress", src_labels, dst_port
                ):
                    flows.add(Flow(src, dst, dst_port[0], dst_port[1]))
    for name, (labels, ports) in workloads.items():
        for direction in ("Ingress", "Egress"):
            field = "from" if direction == "Ingress" else "to"
            for rule in rules(labels, direction):
                peers = rule.get(field)
                outside = ["any"] if peers is None else [o for x in peers if (o := _outside(x))]
                for other in outside:
                    for port, protocol in _resolve(_ports(rule), ports):
                        pair = (other, name) if direction == "Ingress" else (name, other)
                        flows.add(Flow(*pair, port, protocol))
    return flows
