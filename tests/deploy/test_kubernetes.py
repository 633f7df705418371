"""Every overlay renders, validates against the Kubernetes and custom-resource schemas of a
pinned version, and passes the hardening and consistency policies."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy import policy
from tests.deploy.support import (
    DEPLOY,
    K8S,
    KUBERNETES_VERSION,
    OVERLAYS,
    ROOT,
    SERVICES,
    by_kind,
    containers,
    default_port,
    named,
    pod_template,
)

Rendered = dict[str, list[dict[str, Any]]]
SCHEMAS = K8S / "schemas"
CORE_GROUPS = {
    "v1",
    "apps/v1",
    "batch/v1",
    "policy/v1",
    "autoscaling/v2",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
}


def custom_schema(obj: dict[str, Any]) -> dict[str, Any]:
    group_version = obj["apiVersion"].replace("/", "_")
    path = SCHEMAS / f"{group_version}_{obj['kind']}.json"
    if not path.exists():
        raise AssertionError(f"no schema {path.name} for {obj['apiVersion']} {obj['kind']}")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def schema_errors(obj: dict[str, Any]) -> list[str]:
    """Validation errors against the Kubernetes (strict) or the repository's CR schemas."""
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    if obj["apiVersion"] in CORE_GROUPS:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            return [f"{where}: {exc.message} at {'/'.join(map(str, exc.path))}"]
        return []
    validator = jsonschema.Draft202012Validator(custom_schema(obj))
    return [f"{where}: {e.message} at {e.json_path}" for e in validator.iter_errors(obj)]


def test_every_overlay_renders_the_objects_it_promises(rendered: Rendered) -> None:
    kinds = {name: {o["kind"] for o in objects} for name, objects in rendered.items()}
    assert {"Deployment", "Service", "NetworkPolicy", "HorizontalPodAutoscaler"} <= kinds["local"]
    assert {"ScaledObject", "TriggerAuthentication", "MetricAlarm"} <= kinds["eks"]
    assert {"Queue", "Table", "Topic", "FieldExport"} <= kinds["eks"]
    assert {"ScaledObject", "PrometheusRule", "PodMonitor"} <= kinds["local-full"]
    assert "MetricAlarm" not in kinds["local-full"]  # no CloudWatch on a local cluster
    for objects in rendered.values():
        assert {d["metadata"]["name"] for d in by_kind(objects, "Deployment")} >= {
            *SERVICES,
            "otel-collector",
        }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_objects_match_their_schemas(rendered: Rendered, overlay: str) -> None:
    errors = [e for obj in rendered[overlay] for e in schema_errors(obj)]
    assert errors == []


def test_schema_validation_rejects_broken_objects(rendered: Rendered) -> None:
    deployment = copy.deepcopy(named(rendered["eks"], "Deployment", "producer"))
    deployment["spec"]["template"]["spec"]["containers"][0]["resoures"] = {}  # typo
    scaled = copy.deepcopy(named(rendered["eks"], "ScaledObject", "consumer"))
    scaled["spec"]["triggers"][0]["metadata"]["queueLength"] = 20  # KEDA wants strings
    alarm = copy.deepcopy(named(rendered["eks"], "MetricAlarm", "orders-dlq-not-empty"))
    alarm["spec"]["comparisonOperator"] = "GreaterThan"
    rule = copy.deepcopy(named(rendered["local-full"], "PrometheusRule", "lantern-shop"))
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    for broken in (deployment, scaled, alarm, rule):
        assert schema_errors(broken), broken["kind"]


def test_custom_schemas_are_valid_json_schemas() -> None:
    for path in sorted(SCHEMAS.glob("*.json")):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_schemas_reject_what_the_upstream_crds_refuse(rendered: Rendered) -> None:
    """Limits of the upstream CRDs (sources.yaml) that the documentation does not spell out."""
    scaled = copy.deepcopy(named(rendered["eks"], "ScaledObject", "consumer"))
    scaled["spec"]["scaleTargetRef"]["name"] = ""
    fallback = copy.deepcopy(named(rendered["eks"], "ScaledObject", "consumer"))
    fallback["spec"]["fallback"] = {"failureThreshold": 3, "replicas": 2, "behavior": "always"}
    monitor = copy.deepcopy(named(rendered["local-full"], "PodMonitor", "lantern-shop"))
    monitor["spec"]["podMetricsEndpoints"][0]["portNumber"] = 0
    rule = copy.deepcopy(named(rendered["local-full"], "PrometheusRule", "lantern-shop"))
    rule["spec"]["groups"][0]["partial_response_strategy"] = "retry"
    for broken in (scaled, fallback, monitor, rule):
        assert schema_errors(broken), broken["kind"]


# The k8s/eks/versions.env key of the Helm chart each project's CRDs come from: the versions
# k8s/eks/eks.sh installs. Every KEDA or ACK schema must name one (a project missing here fails).
CHART_VERSION_KEYS = {
    "KEDA": "KEDA_CHART_VERSION",
    "ACK cloudwatch-controller": "ACK_CLOUDWATCH_CHART_VERSION",
    "ACK sqs-controller": "ACK_SQS_CHART_VERSION",
    "ACK dynamodb-controller": "ACK_DYNAMODB_CHART_VERSION",
    "ACK sns-controller": "ACK_SNS_CHART_VERSION",
}


def pinned_chart_versions() -> dict[str, str]:
    """NAME_CHART_VERSION -> version, from k8s/eks/versions.env (``KEY=value`` lines)."""
    versions = {}
    for line in (K8S / "eks/versions.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            versions[key.strip()] = value.strip()
    return versions


def test_each_schema_records_its_upstream_crd_and_version() -> None:
    sources = yaml.safe_load((SCHEMAS / "sources.yaml").read_text())["schemas"]
    assert set(sources) == {path.name for path in SCHEMAS.glob("*.json")}
    pinned = pinned_chart_versions()
    for name, source in sources.items():
        assert {"project", "crd", "version"} <= set(source), name
        assert re.fullmatch(r"\d+\.\d+\.\d+", str(source["version"])), name
        project = source["project"]
        if project == "KEDA" or project.startswith("ACK "):
            key = CHART_VERSION_KEYS[project]
            assert pinned[key] == str(source["version"]), (name, "k8s/eks/versions.env", key)


def test_every_ack_chart_the_workshop_installs_has_its_schemas() -> None:
    sources = yaml.safe_load((SCHEMAS / "sources.yaml").read_text())["schemas"]
    projects = {source["project"] for source in sources.values()}
    keys = {CHART_VERSION_KEYS[p] for p in projects if p in CHART_VERSION_KEYS}
    assert keys == set(pinned_chart_versions())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_hardened_probed_bounded_and_pinned(rendered: Rendered, overlay: str) -> None:
    problems = [p for obj in rendered[overlay] for p in policy.workload_problems(obj)]
    assert problems == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_lantern_containers_have_a_writable_tmp(rendered: Rendered, overlay: str) -> None:
    assert policy.writable_tmp_problems(rendered[overlay]) == []
    broken = copy.deepcopy(named(rendered[overlay], "Deployment", "consumer"))
    broken["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = []
    assert policy.writable_tmp_problems([broken])


def test_hardening_policy_flags_each_weakness(rendered: Rendered) -> None:
    good = named(rendered["local"], "Deployment", "producer")
    assert policy.workload_problems(good) == []
    mutations = {
        "root user": ("securityContext", {"runAsUser": 0}),
        "privilege escalation": ("securityContext", {"allowPrivilegeEscalation": True}),
        "writable root": ("securityContext", {"readOnlyRootFilesystem": False}),
        "capabilities": ("securityContext", {"capabilities": {"drop": ["NET_RAW"]}}),
        "limits": ("resources", {"requests": {"cpu": "1", "memory": "1Gi"}}),
        "latest": ("image", "lantern-shop/producer:latest"),
        "untagged": ("image", "lantern-shop/producer"),
    }
    for name, (field, value) in mutations.items():
        broken = copy.deepcopy(good)
        container = broken["spec"]["template"]["spec"]["containers"][0]
        if isinstance(value, dict) and field == "securityContext":
            container[field] = {**container[field], **value}
        else:
            container[field] = value
        assert policy.workload_problems(broken), name
    unprobed = copy.deepcopy(good)
    del unprobed["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert policy.workload_problems(unprobed)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_budgets_and_scalers_point_at_real_pods(rendered: Rendered, overlay: str) -> None:
    objects = rendered[overlay]
    assert policy.service_problems(objects) == []
    assert policy.disruption_budget_problems(objects) == []
    assert policy.scale_target_problems(objects) == []


def test_target_checks_flag_dangling_references(rendered: Rendered) -> None:
    objects = copy.deepcopy(rendered["eks"])
    named(objects, "Service", "producer")["spec"]["selector"] = {"app.kubernetes.io/name": "nope"}
    named(objects, "ScaledObject", "consumer")["spec"]["scaleTargetRef"]["name"] = "frontend"
    named(objects, "PodDisruptionBudget", "consumer")["spec"]["selector"] = {
        "matchLabels": {"a": "b"}
    }
    assert policy.service_problems(objects)
    assert policy.disruption_budget_problems(objects)
    # frontend is now scaled by its HPA and by the ScaledObject at once
    assert any("both scale" in p for p in policy.scale_target_problems(objects))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_references_resolve_and_everything_is_namespaced(rendered: Rendered, overlay: str) -> None:
    assert policy.reference_problems(rendered[overlay]) == []
    assert policy.namespace_problems(rendered[overlay], "lantern") == []


def test_reference_check_flags_a_missing_config_map(rendered: Rendered) -> None:
    objects = [o for o in rendered["local-full"] if o["metadata"]["name"] != "keda-elasticmq"]
    assert any("keda-elasticmq" in p for p in policy.reference_problems(objects))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_container_environment_is_read_by_the_code(rendered: Rendered, overlay: str) -> None:
    assert policy.env_problems(rendered[overlay]) == []


def test_environment_check_flags_a_misspelled_variable(rendered: Rendered) -> None:
    objects = copy.deepcopy(rendered["eks"])
    named(objects, "ConfigMap", "consumer-config")["data"]["CONSUMER_WORKMS"] = "10"
    named(objects, "ConfigMap", "frontend-config")["data"]["OTEL_EXPORTER_OTLP_ENDPIONT"] = "x"
    problems = policy.env_problems(objects)
    assert any("CONSUMER_WORKMS" in p for p in problems)
    assert any("ENDPIONT" in p for p in problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_agree_with_the_services_defaults(rendered: Rendered, overlay: str) -> None:
    for service in SERVICES:
        template = pod_template(named(rendered[overlay], "Deployment", service))
        assert template is not None
        ports = [p["containerPort"] for c in containers(template, init=False) for p in c["ports"]]
        assert ports == [default_port(service)]
        assert named(rendered[overlay], "Service", service)["spec"]["ports"][0]["port"] == (
            default_port(service)
        )
    urls = named(rendered[overlay], "ConfigMap", "frontend-config")["data"]
    assert urls["PRODUCER_URL"] == f"http://producer:{default_port('producer')}"
    assert urls["CONSUMER_URL"] == f"http://consumer:{default_port('consumer')}"


def test_eks_overlay_uses_registry_images_and_real_aws(rendered: Rendered) -> None:
    objects = rendered["eks"]
    params = dict(
        line.split("=", 1)
        for line in (K8S / "overlays/eks/params.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for service in SERVICES:
        template = pod_template(named(objects, "Deployment", service))
        assert template is not None
        image = template["spec"]["containers"][0]["image"]
        assert image.startswith(params["IMAGE_REPOSITORY"] + f"/{service}:")
    config = named(objects, "ConfigMap", "lantern-config")["data"]
    assert config["AWS_REGION"] == params["AWS_REGION"]
    assert "ORDERS_QUEUE_URL" not in config  # from the FieldExport's ConfigMap instead
    assert not any(k.startswith("AWS_ENDPOINT_URL") or "SECRET" in k for k in config)
    trigger = named(objects, "ScaledObject", "consumer")["spec"]["triggers"][0]["metadata"]
    assert "queueURL" not in trigger
    assert trigger["queueURLFromEnv"] == "ORDERS_QUEUE_URL"
    assert trigger["awsRegion"] == params["AWS_REGION"]
    assert by_kind(objects, "TriggerAuthentication")[0]["spec"] == {
        "podIdentity": {"provider": "aws"}
    }
    assert not [
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "eks-params"
    ]


def test_load_job_counts_its_orders_in_the_table_the_consumer_writes(rendered: Rendered) -> None:
    template = pod_template(named(rendered["eks"], "CronJob", "load"))
    assert template is not None
    sources = [s["configMapRef"]["name"] for s in template["spec"]["containers"][0]["envFrom"]]
    consumer = named(rendered["eks"], "Deployment", "consumer")["spec"]["template"]
    consumer_sources = [
        s["configMapRef"]["name"] for s in consumer["spec"]["containers"][0]["envFrom"]
    ]
    assert sources == ["lantern-config"]
    assert "lantern-config" in consumer_sources  # where the table is, for both


def test_scenario_flags_are_the_repository_file_mounted_where_the_code_looks(
    rendered: Rendered,
) -> None:
    flags = named(rendered["eks"], "ConfigMap", "lantern-flags")["data"]
    assert flags == {"scenarios.flagd.json": (ROOT / "flags/scenarios.flagd.json").read_text()}
    path = named(rendered["eks"], "ConfigMap", "lantern-config")["data"][
        "FLAGD_OFFLINE_FLAG_SOURCE_PATH"
    ]
    folder, file = path.rsplit("/", 1)
    assert file in flags
    for service in SERVICES:
        template = pod_template(named(rendered["eks"], "Deployment", service))
        assert template is not None
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        mounts = {m["mountPath"]: m for m in template["spec"]["containers"][0]["volumeMounts"]}
        assert "subPath" not in mounts[folder], "a subPath mount never sees edits"
        assert volumes[mounts[folder]["name"]]["configMap"]["name"] == "lantern-flags"


def test_local_overlay_copies_the_compose_elasticmq_config(rendered: Rendered) -> None:
    local = (K8S / "overlays/local/elasticmq.conf").read_text()
    assert local == (DEPLOY / "elasticmq/elasticmq.conf").read_text()


def test_kubernetes_version_matches_the_eksctl_cluster() -> None:
    cluster = (K8S / "eks/cluster.yaml").read_text()
    assert f'version: "{KUBERNETES_VERSION.rsplit(".", 1)[0]}"' in cluster


# CloudWatch namespaces whose publisher guarantees that "no data" means "nothing wrong": SQS
# publishes ApproximateAgeOfOldestMessage only while a message waits, and a queue's metrics only
# while it is active (holds a message or was called within six hours). Everything else here comes
# from an agent in the cluster (Container Insights, the collector's EMF), whose failure is
# precisely no data: those alarms must not turn it into OK (notBreaching) or hide it (ignore).
NO_DATA_MEANS_HEALTHY = {"AWS/SQS"}


def alarm_namespaces(spec: dict[str, Any]) -> set[str]:
    if "namespace" in spec:
        return {spec["namespace"]}
    return {
        query["metricStat"]["metric"]["namespace"]
        for query in spec.get("metrics", [])
        if "metricStat" in query
    }


def missing_data_problems(alarms: list[dict[str, Any]]) -> list[str]:
    problems = []
    for alarm in alarms:
        spec = alarm["spec"]
        namespaces = alarm_namespaces(spec)
        assert namespaces, f"{spec['name']}: no metric namespace found"
        treat = spec.get("treatMissingData", "missing")
        if treat in ("notBreaching", "ignore") and not namespaces <= NO_DATA_MEANS_HEALTHY:
            problems.append(f"{spec['name']}: treatMissingData {treat} for {sorted(namespaces)}")
    return problems


def test_alarms_fed_by_cluster_agents_show_missing_data(rendered: Rendered) -> None:
    alarms = by_kind(rendered["eks"], "MetricAlarm")
    assert missing_data_problems(alarms) == []
    by_namespace = {ns: a["spec"] for a in alarms for ns in alarm_namespaces(a["spec"])}
    assert {"AWS/SQS", "ContainerInsights", "LanternShop"} <= set(by_namespace)
    assert by_namespace["ContainerInsights"]["treatMissingData"] == "missing"
    assert by_namespace["LanternShop"]["treatMissingData"] == "missing"


def test_missing_data_check_flags_an_agent_alarm_that_reads_no_data_as_ok(
    rendered: Rendered,
) -> None:
    alarm = copy.deepcopy(named(rendered["eks"], "MetricAlarm", "order-failure-rate"))
    alarm["spec"]["treatMissingData"] = "notBreaching"
    replicas = copy.deepcopy(named(rendered["eks"], "MetricAlarm", "consumer-replicas-near-max"))
    replicas["spec"]["treatMissingData"] = "ignore"
    dlq = named(rendered["eks"], "MetricAlarm", "orders-dlq-not-empty")
    problems = missing_data_problems([alarm, replicas, dlq])
    assert len(problems) == 2
    assert "LanternShop" in problems[0]
    assert "ContainerInsights" in problems[1]


def pull_policies(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Lantern container -> imagePullPolicy (unset on a tagged image means IfNotPresent)."""
    found = {}
    for obj in objects:
        template = pod_template(obj)
        for container in containers(template) if template else []:
            if policy.component_of(container):
                key = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
                found[key] = container.get("imagePullPolicy", "IfNotPresent")
    return found


def test_eks_pulls_a_rebuilt_image_and_local_clusters_use_the_loaded_one(
    rendered: Rendered,
) -> None:
    # EKS: the workshop pushes each rebuild under the same tag, so only Always picks it up.
    eks = pull_policies(rendered["eks"])
    assert len(eks) == 4  # frontend, producer, consumer, the load CronJob
    assert set(eks.values()) == {"Always"}, eks
    # kind/minikube: images are loaded into the node and exist in no registry, so Always
    # would make every pod fail to start.
    for overlay in ("local", "local-full"):
        assert "Always" not in pull_policies(rendered[overlay]).values(), overlay


def collector_config(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The configuration file the otel-collector Deployment starts with (its --config)."""
    template = pod_template(named(objects, "Deployment", "otel-collector"))
    assert template is not None
    [container] = containers(template, init=False)
    [path] = [a.removeprefix("--config=") for a in container["args"] if a.startswith("--config=")]
    folder, file = path.rsplit("/", 1)
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == folder]
    [volume] = [v for v in template["spec"]["volumes"] if v["name"] == mount["name"]]
    config_map = named(objects, "ConfigMap", volume["configMap"]["name"])
    loaded: dict[str, Any] = yaml.safe_load(config_map["data"][file])
    return loaded


def health_endpoint(config: dict[str, Any]) -> tuple[int, str]:
    """Port and path of the health extension the collector runs (health_check or its successor)."""
    extensions = config.get("extensions") or {}
    enabled = set(config["service"].get("extensions", []))
    if "healthcheckv2" in enabled:
        v2 = extensions["healthcheckv2"] or {}
        http = v2.get("http") or {}
        endpoint = http.get("endpoint", "localhost:13133")
        status = http.get("status") or {}
        path = status.get("path", "/status") if v2.get("use_v2") else v2.get("path", "/")
    else:
        assert "health_check" in enabled, "the collector runs no health extension"
        v1 = extensions["health_check"] or {}
        endpoint, path = v1.get("endpoint", "localhost:13133"), v1.get("path", "/")
    return int(endpoint.rsplit(":", 1)[1]), path


def probe_problems(objects: list[dict[str, Any]]) -> list[str]:
    port, path = health_endpoint(collector_config(objects))
    template = pod_template(named(objects, "Deployment", "otel-collector"))
    assert template is not None
    [container] = containers(template, init=False)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    problems = []
    for kind in ("livenessProbe", "readinessProbe"):
        probe = container[kind]["httpGet"]
        probe_port = ports.get(probe["port"], probe["port"])
        if (probe_port, probe["path"]) != (port, path):
            problems.append(
                f"{kind}: GET {probe['path']} on {probe_port}, health is {path} on {port}"
            )
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_collector_probes_ask_its_health_extension(rendered: Rendered, overlay: str) -> None:
    assert probe_problems(rendered[overlay]) == []


def test_probe_check_flags_a_path_the_extension_does_not_serve(rendered: Rendered) -> None:
    objects = copy.deepcopy(rendered["eks"])
    template = pod_template(named(objects, "Deployment", "otel-collector"))
    assert template is not None
    template["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] = "/status"
    assert [p for p in probe_problems(objects) if p.startswith("readinessProbe")]


def workshop_step(number: int) -> str:
    text = (ROOT / "docs/workshop.md").read_text()
    [section] = re.findall(rf"^## {number}\. .*?(?=^## |\Z)", text, re.M | re.S)
    return " ".join(section.split())


def scale_down_problems(spec: dict[str, Any], text: str) -> list[str]:
    """What a description of the consumer's scale-in gets wrong about this ScaledObject.

    KEDA's cooldownPeriod only delays the step from one replica to zero; between 1 and N the
    HPA KEDA generated scales in, by the behavior in ``advanced.horizontalPodAutoscalerConfig``.
    """
    problems = []
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    window = f"{behavior['stabilizationWindowSeconds']} s stabilization window"
    if window not in text:
        problems.append(f"does not name the HPA's {window}")
    for rule in behavior["policies"]:
        pace = f"at most {rule['value']} pods every {rule['periodSeconds']} s"
        if pace not in text:
            problems.append(f"does not name the pace, {pace}")
    for sentence in re.split(r"(?<=[.])\s+", text):
        wrong = "cooldown" in sentence.lower() and "zero" not in sentence
        if wrong and spec.get("minReplicaCount", 0) > 0:
            problems.append(f"credits scale-in between 1 and N to KEDA's cooldown: {sentence!r}")
    return problems


def test_workshop_describes_the_scale_in_that_applies(rendered: Rendered) -> None:
    spec = named(rendered["eks"], "ScaledObject", "consumer")["spec"]
    assert spec["minReplicaCount"] >= 1  # the consumer also serves the order status API
    assert scale_down_problems(spec, workshop_step(7)) == []  # the KEDA step


def test_scale_in_check_flags_the_cooldown_story(rendered: Rendered) -> None:
    spec = named(rendered["eks"], "ScaledObject", "consumer")["spec"]
    old = (
        "When the load stops the queue drains, and after the cooldown (2 minutes) KEDA scales back."
    )
    problems = "\n".join(scale_down_problems(spec, old))
    assert "cooldown" in problems
    assert "stabilization window" in problems


def unpinned_helm_installs(text: str) -> list[str]:
    """`helm install` / `helm upgrade --install` commands without --version (they take whatever
    the chart repository serves that day)."""
    joined = text.replace("\\\n", " ")
    commands = re.findall(r"helm (?:install|upgrade --install) [^\n]*", joined)
    return [c for c in commands if "--version" not in c]


def test_the_workshop_script_installs_pinned_chart_versions() -> None:
    text = (K8S / "eks" / "eks.sh").read_text()
    assert "helm upgrade --install" in text
    assert unpinned_helm_installs(text) == []
    assert "helm install" not in (ROOT / "docs/workshop.md").read_text()  # the script does it
    sample = "helm install kube-prometheus-stack prometheus-community/kube-prometheus-stack -n m"
    assert unpinned_helm_installs(sample) == [sample]
