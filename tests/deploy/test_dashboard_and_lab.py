"""The CloudWatch dashboard (components/dashboard) and the blog's scaling lab (overlays/eks-lab).

The dashboard validates against the Dashboard schema and the body schema, names only metrics
that exist (AWS's own, listed below with their source; the shop's, derived from the collector
config, the services' code and the telemetry catalog), lists exactly the alarms the overlay
creates, gets account, region and cluster from params.env, and round-trips through CloudWatch's
PutDashboard/GetDashboard on a moto server. The lab overlay has the blog's settings.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
import yaml

from tests.deploy.policy import allowed_flows
from tests.deploy.support import K8S, by_kind, named, render, statsd_name_patterns
from tests.support.catalog import CATALOG, catalog_tables, ticked
from tests.support.units import moto_endpoint

# --- the blog's lab, in numbers ----------------------------------------------------------------
GENERATOR_ORDERS_PER_SECOND = 1  # per order-generator replica; the rush is 2 replicas
RUSH_REPLICAS = 2
CONSUMER_CONCURRENCY = 1  # messages a consumer pod works on at once
CONSUMER_WORK_MS = 5000  # one message per 5 s per pod
KEDA_QUEUE_LENGTH = 30  # messages (waiting or in flight) per consumer replica
KEDA_MAX_REPLICAS = 10
ALARM_THRESHOLD = 8  # consumer-replicas-near-max: 8 pods or more
ALARM_OPERATOR = "GreaterThanOrEqualToThreshold"
ALARM_TOPIC = "lantern-shop-alarms"

# --- AWS's metrics the dashboard may use -------------------------------------------------------
# Amazon SQS Developer Guide, "Available CloudWatch metrics for Amazon SQS" (dimension QueueName).
SQS_METRICS = {
    name: {"QueueName"}
    for name in (
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesVisible",
        "NumberOfEmptyReceives",
        "NumberOfMessagesDeleted",
        "NumberOfMessagesReceived",
        "NumberOfMessagesSent",
        "SentMessageSize",
    )
}
# CloudWatch User Guide, "Amazon EKS and Kubernetes Container Insights metrics" (the
# amazon-cloudwatch-observability add-on; the same dimensions as the consumer-replicas alarm).
CONTAINER_INSIGHTS_METRICS = {
    "service_number_of_running_pods": {"ClusterName", "Namespace", "Service"}
}
AWS_METRICS = {"AWS/SQS": SQS_METRICS, "ContainerInsights": CONTAINER_INSIGHTS_METRICS}
SHOP_NAMESPACE = "LanternShop"

SCHEMAS = K8S / "schemas"
Objects = list[dict[str, Any]]
LAB_PARAMS = {
    "AWS_REGION": "eu-central-1",
    "AWS_ACCOUNT_ID": "444455556666",
    "CLUSTER_NAME": "blue",
}


def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return schema


DASHBOARD_SCHEMA = load_schema("cloudwatch.services.k8s.aws_v1alpha1_Dashboard.json")
BODY_SCHEMA = load_schema("cloudwatch.services.k8s.aws_v1alpha1_Dashboard.dashboardBody.json")


@pytest.fixture(scope="module")
def eks() -> Objects:
    return render(K8S / "overlays" / "eks")


@pytest.fixture(scope="module")
def lab() -> Objects:
    return render(K8S / "overlays" / "eks-lab")


@pytest.fixture(scope="module")
def renders(eks: Objects, lab: Objects) -> dict[str, Objects]:
    return {"eks": eks, "eks-lab": lab}


def body(objects: Objects) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(
        named(objects, "Dashboard", "lantern-shop")["spec"]["dashboardBody"]
    )
    return parsed


def widgets(dashboard: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [w for w in dashboard["widgets"] if w["type"] == kind]


def errors(schema: dict[str, Any], document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{e.message} at {e.json_path}" for e in validator.iter_errors(document)]


# --- metric arrays ---------------------------------------------------------------------------


def metric_entries(widget: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of each single metric of a metric widget, with the
    '.' shorthand resolved; dimension names and values must come in pairs."""
    previous: list[str] = []
    for entry in widget["properties"].get("metrics", []):
        if isinstance(entry[0], dict):
            continue  # an expression
        strings = [s for s in entry if isinstance(s, str)]
        assert all(isinstance(s, str) for s in entry[: len(strings)]), f"object not last: {entry}"
        resolved = [previous[i] if s == "." else s for i, s in enumerate(strings)]
        assert len(resolved) % 2 == 0, f"dimension without a value: {entry}"
        previous = resolved
        yield resolved[0], resolved[1], dict(zip(resolved[2::2], resolved[3::2], strict=True))


def collector_declarations() -> list[tuple[list[re.Pattern[str]], list[set[str]]]]:
    """The awsemf exporter's metric_declarations: which names become CloudWatch metrics, with
    which dimension sets."""
    config = yaml.safe_load((K8S / "components/adot-collector/collector.yaml").read_text())
    emf = config["exporters"]["awsemf"]
    assert emf["namespace"] == SHOP_NAMESPACE
    return [
        ([re.compile(p) for p in d["metric_name_selectors"]], [set(s) for s in d["dimensions"]])
        for d in emf["metric_declarations"]
    ]


def catalog_statsd_patterns() -> list[re.Pattern[str]]:
    """The StatsD names of docs/telemetry.md; ``<reason>``-style parts match any word."""
    rows = catalog_tables(CATALOG.read_text())["StatsD metrics"]
    names = [ticked(row["Name"])[0] for row in rows]
    return [re.compile("^" + re.sub("<[a-z_]+>", "[a-z0-9_]+", re.escape(n)) + "$") for n in names]


def shop_metric_problem(name: str, dimensions: set[str]) -> str | None:
    if not any(p.match(name) for p in statsd_name_patterns()):
        return f"{name}: no service sends it (StatsD calls in the code)"
    if not any(p.match(name) for p in catalog_statsd_patterns()):
        return f"{name}: not in docs/telemetry.md's StatsD table"
    for selectors, dimension_sets in collector_declarations():
        if any(s.search(name) for s in selectors) and dimensions in dimension_sets:
            return None
    return f"{name} {sorted(dimensions)}: the collector's awsemf does not publish it so"


def metric_problems(dashboard: dict[str, Any]) -> list[str]:
    problems = []
    for widget in widgets(dashboard, "metric"):
        for namespace, name, dimensions in metric_entries(widget):
            where = f"{widget['properties'].get('title')}: {namespace} {name}"
            if namespace == SHOP_NAMESPACE:
                if problem := shop_metric_problem(name, set(dimensions)):
                    problems.append(f"{where}: {problem}")
            elif name not in AWS_METRICS.get(namespace, {}):
                problems.append(f"{where}: not a metric this test knows {namespace} to publish")
            elif set(dimensions) != AWS_METRICS[namespace][name]:
                problems.append(f"{where}: dimensions {sorted(dimensions)}")
    return problems


# --- the dashboard ---------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", ["eks", "eks-lab"])
def test_dashboard_matches_the_dashboard_and_body_schemas(
    renders: dict[str, Objects], overlay: str
) -> None:
    dashboard = named(renders[overlay], "Dashboard", "lantern-shop")
    assert dashboard["spec"]["dashboardName"] == "lantern-shop"  # the ACK IAM policy's name
    assert errors(DASHBOARD_SCHEMA, dashboard) == []
    assert errors(BODY_SCHEMA, body(renders[overlay])) == []


def test_schemas_refuse_what_cloudwatch_and_the_crd_refuse(eks: Objects) -> None:
    for schema in (DASHBOARD_SCHEMA, BODY_SCHEMA):
        jsonschema.Draft202012Validator.check_schema(schema)
    dashboard = named(eks, "Dashboard", "lantern-shop")
    broken_specs = [{"dashboardName": "lantern shop"}, {"tags": []}, {"dashboardBody": None}]
    for change in broken_specs:
        broken = copy.deepcopy(dashboard)
        broken["spec"].update(change)
        assert errors(DASHBOARD_SCHEMA, broken), change
    good = body(eks)
    mutations = {
        "unknown top-level field": lambda b: b.update(widget=[]),
        "widget without region": lambda b: widgets(b, "metric")[0]["properties"].pop("region"),
        "typo in a metric widget": lambda b: widgets(b, "metric")[0]["properties"].update(
            stats="Sum"
        ),
        "period not a minute multiple": lambda b: widgets(b, "metric")[0]["properties"].update(
            period=90
        ),
        "x beyond the grid": lambda b: b["widgets"][0].update(x=24),
        "alarm by name": lambda b: widgets(b, "alarm")[0]["properties"]["alarms"].append("x"),
        "two rendering objects": lambda b: widgets(b, "metric")[0]["properties"]["metrics"][
            0
        ].append({}),
        "pattern variable without pattern": lambda b: b["variables"][0].pop("pattern"),
    }
    for what, mutate in mutations.items():
        broken_body = copy.deepcopy(good)
        mutate(broken_body)
        assert errors(BODY_SCHEMA, broken_body), what


@pytest.mark.parametrize("overlay", ["eks", "eks-lab"])
def test_every_metric_on_the_dashboard_exists(renders: dict[str, Objects], overlay: str) -> None:
    assert metric_problems(body(renders[overlay])) == []


def test_metric_check_sees_names_that_do_not_exist(eks: Objects) -> None:
    broken = body(eks)
    metrics = widgets(broken, "metric")[0]["properties"]["metrics"]
    metrics.append(["AWS/SQS", "ApproximateNumberOfMessages", "QueueName", "orders"])
    metrics.append(["LanternShop", "consumer.orders.done"])
    metrics.append(["LanternShop", "producer.orders.accepted", "job", "producer"])
    metrics.append(["ContainerInsights", "service_number_of_running_pods", "Service", "consumer"])
    assert len(metric_problems(broken)) == 4


@pytest.mark.parametrize("overlay", ["eks", "eks-lab"])
def test_alarm_widget_lists_exactly_the_overlays_alarms(
    renders: dict[str, Objects], overlay: str
) -> None:
    dashboard = body(renders[overlay])
    (widget,) = widgets(dashboard, "alarm")
    listed = [arn.split(":alarm:")[1] for arn in widget["properties"]["alarms"]]
    created = [a["spec"]["name"] for a in by_kind(renders[overlay], "MetricAlarm")]
    assert sorted(listed) == sorted(created)


@pytest.mark.parametrize("overlay", ["eks", "eks-lab"])
def test_thresholds_drawn_on_the_dashboard_are_the_alarms_and_kedas(
    renders: dict[str, Objects], overlay: str
) -> None:
    objects = renders[overlay]
    thresholds = {
        a["spec"]["name"]: a["spec"]["threshold"] for a in by_kind(objects, "MetricAlarm")
    }
    thresholds["KEDA maxReplicaCount"] = named(objects, "ScaledObject", "consumer")["spec"][
        "maxReplicaCount"
    ]
    drawn = {
        line["label"]: line["value"]
        for widget in widgets(body(objects), "metric")
        for line in widget["properties"].get("annotations", {}).get("horizontal", [])
    }
    assert drawn
    assert {label: thresholds[label] for label in drawn} == drawn


def render_with_params(tmp_path: Path, overlay: str, params: dict[str, str]) -> Objects:
    """Render ``overlay`` from a copy of k8s/ whose eks params.env has ``params`` instead."""
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    env = tree / "overlays/eks/params.env"
    lines = [
        f"{key}={params[key]}" if (key := line.partition("=")[0]) in params else line
        for line in env.read_text().splitlines()
    ]
    env.write_text("\n".join(lines) + "\n")
    return render(tree / "overlays" / overlay)


def test_account_region_and_cluster_come_from_the_params(tmp_path: Path) -> None:
    dashboard = body(render_with_params(tmp_path, "eks", LAB_PARAMS))
    variables = {v["id"]: v for v in dashboard["variables"]}
    wanted = {"region": "AWS_REGION", "account": "AWS_ACCOUNT_ID", "cluster": "CLUSTER_NAME"}
    assert {i: v["defaultValue"] for i, v in variables.items()} == {
        i: LAB_PARAMS[key] for i, key in wanted.items()
    }
    # What the patterns stand for is where the widgets have it, so the console swaps it all.
    patterns = {i: v["pattern"] for i, v in variables.items()}
    for variable in variables.values():  # a regex, here one that matches only its own text
        assert variable["type"] == "pattern"
        assert re.fullmatch(variable["pattern"], variable["pattern"])
    for widget in widgets(dashboard, "metric"):
        assert widget["properties"]["region"] == patterns["region"]
        for namespace, _, dimensions in metric_entries(widget):
            if "ClusterName" in dimensions:
                assert dimensions["ClusterName"] == patterns["cluster"], namespace
    for arn in widgets(dashboard, "alarm")[0]["properties"]["alarms"]:
        assert arn.split(":")[3:5] == [patterns["region"], patterns["account"]], arn
    text = json.dumps(dashboard["widgets"])
    assert all(value not in text for value in LAB_PARAMS.values())  # nothing half-replaced


def test_dashboard_body_round_trips_through_put_dashboard(eks: Objects) -> None:
    spec = named(eks, "Dashboard", "lantern-shop")["spec"]
    with moto_endpoint() as url:
        cloudwatch = boto3.client(
            "cloudwatch",
            region_name="us-west-2",
            endpoint_url=url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        put = cloudwatch.put_dashboard(
            DashboardName=spec["dashboardName"], DashboardBody=spec["dashboardBody"]
        )
        got = cloudwatch.get_dashboard(DashboardName=spec["dashboardName"])
        listed = cloudwatch.list_dashboards(DashboardNamePrefix="lantern-shop")
    assert put.get("DashboardValidationMessages", []) == []
    assert json.loads(got["DashboardBody"]) == json.loads(spec["dashboardBody"])
    assert got["DashboardArn"].endswith(":dashboard/lantern-shop")
    assert [d["DashboardName"] for d in listed["DashboardEntries"]] == ["lantern-shop"]


# --- the lab ---------------------------------------------------------------------------------


def env_of(objects: Objects, name: str) -> dict[str, str]:
    template = named(objects, "Deployment", name)["spec"]["template"]
    return {e["name"]: e["value"] for e in template["spec"]["containers"][0].get("env", [])}


def test_lab_generator_sends_one_order_a_second_per_replica_through_the_api(lab: Objects) -> None:
    generator = named(lab, "Deployment", "order-generator")
    env = env_of(lab, "order-generator")
    assert env["LOAD_TARGET"] == "orders"
    assert env["PRODUCER_URL"] == "http://producer:8081"
    # hey -c <concurrency> -q <rate per worker>
    per_replica = int(env["LOAD_CONCURRENCY"]) * float(env["LOAD_RATE"])
    assert per_replica == GENERATOR_ORDERS_PER_SECOND
    assert generator["spec"].get("replicas", 1) == 1
    # The load job's identity and image: its NetworkPolicies and IAM role, its registry.
    load_pod = named(lab, "CronJob", "load")["spec"]["jobTemplate"]["spec"]["template"]
    pod = generator["spec"]["template"]
    assert pod["spec"]["serviceAccountName"] == load_pod["spec"]["serviceAccountName"]
    name_label = "app.kubernetes.io/name"
    assert pod["metadata"]["labels"][name_label] == load_pod["metadata"]["labels"][name_label]
    assert pod["spec"]["containers"][0]["image"] == load_pod["spec"]["containers"][0]["image"]
    assert "/" in pod["spec"]["containers"][0]["image"].split("lantern-shop/load")[0]
    # The producer's own synthetic mode stays off: it would add a rate per worker and per pod.
    assert named(lab, "ConfigMap", "producer-config")["data"]["SYNTHETIC_ORDERS_PER_SECOND"] == "0"


def test_lab_generator_adds_no_network_flow(eks: Objects, lab: Objects) -> None:
    assert allowed_flows(lab) == allowed_flows(eks)


def test_lab_consumer_works_one_message_at_a_time_for_five_seconds(lab: Objects) -> None:
    config = named(lab, "ConfigMap", "consumer-config")["data"]
    assert int(config["CONSUMER_CONCURRENCY"]) == CONSUMER_CONCURRENCY
    assert int(config["CONSUMER_WORK_MS"]) == CONSUMER_WORK_MS
    # A received batch is worked through one message after another: the last one is hidden for
    # batch x work. The keeper extends it at a third of the timeout; the lab never needs that.
    hidden_seconds = int(config["CONSUMER_BATCH_SIZE"]) * CONSUMER_WORK_MS / 1000
    assert hidden_seconds < int(config["CONSUMER_VISIBILITY_SECONDS"]) / 3


def test_lab_keda_and_alarm_have_the_blogs_numbers(lab: Objects) -> None:
    scaled = named(lab, "ScaledObject", "consumer")["spec"]
    (trigger,) = [t for t in scaled["triggers"] if t["type"] == "aws-sqs-queue"]
    assert trigger["metadata"]["queueLength"] == str(KEDA_QUEUE_LENGTH)
    assert scaled["maxReplicaCount"] == KEDA_MAX_REPLICAS
    alarm = named(lab, "MetricAlarm", "consumer-replicas-near-max")["spec"]
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (ALARM_THRESHOLD, ALARM_OPERATOR)
    actions = alarm.get("alarmActions")
    if not actions:
        pytest.skip("the alarms have no actions yet (the SNS topic component has not landed)")
    assert [a.rsplit(":", 1)[1] for a in actions] == [ALARM_TOPIC]


def test_lab_numbers_tell_the_blogs_story() -> None:
    """Steady 1/s needs 5 consumers (no alarm); the rush needs all 10 (alarm)."""
    per_pod = CONSUMER_CONCURRENCY * 1000 / CONSUMER_WORK_MS  # orders/s one consumer fulfils
    steady = math.ceil(GENERATOR_ORDERS_PER_SECOND / per_pod)
    rush = math.ceil(RUSH_REPLICAS * GENERATOR_ORDERS_PER_SECOND / per_pod)
    assert (steady, rush) == (5, 10)
    assert steady < ALARM_THRESHOLD <= rush <= KEDA_MAX_REPLICAS
    # KEDA holds about queueLength messages per replica: ~150 queued at 1/s, ~300 in the rush.
    assert (
        steady * KEDA_QUEUE_LENGTH
        < rush * KEDA_QUEUE_LENGTH
        <= KEDA_MAX_REPLICAS * KEDA_QUEUE_LENGTH
    )


def test_lab_keeps_the_eks_overlays_object_order(lab: Objects) -> None:
    queues = [q["metadata"]["name"] for q in by_kind(lab, "Queue")]
    if not queues:
        pytest.skip("no ACK Queue objects in the eks overlay")
    assert queues.index("orders-dlq") < queues.index("orders")
