"""The AWS side the eks overlay declares (components/aws-resources and the alarms) is what the
shop needs, and AWS accepts it: each ACK object's spec is replayed as the API call its controller
makes, against a moto server, and read back; the queues and the table are compared with what
tools/provision creates for ``make run``, compose and kind."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from string import Template
from typing import Any

import boto3
import pytest
import yaml

from lantern.settings import AwsSettings
from provision import provision
from tests.deploy.support import (
    K8S,
    by_kind,
    containers,
    load_yaml,
    named,
    pod_template,
    render,
)
from tests.deploy.test_kubernetes import schema_errors
from tests.support.units import moto_endpoint

Rendered = dict[str, list[dict[str, Any]]]
Objects = list[dict[str, Any]]
COMPONENT = K8S / "components/aws-resources"
PARAMS_FILE = K8S / "overlays/eks/params.env"
SUBSCRIPTION_TEMPLATE = COMPONENT / "alarm-email-subscription.yaml.tmpl"
# An SQS queue URL in any of its forms (regional, legacy, VPC endpoint names end the same).
QUEUE_URL = re.compile(r"https?://[^\s\"']*(sqs|queue)\.[^\s\"']*amazonaws\.com/\d{12}/", re.I)


def params() -> dict[str, str]:
    lines = PARAMS_FILE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def arn(service: str, resource: str) -> str:
    p = params()
    return f"arn:aws:{service}:{p['AWS_REGION']}:{p['AWS_ACCOUNT_ID']}:{resource}"


# Every overlay in the tree, including those the session fixture does not render (eks-lab).
EVERY_OVERLAY = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def every(rendered: Rendered) -> Rendered:
    """overlay name -> its objects, for every overlay directory."""
    return {name: rendered.get(name) or render(K8S / "overlays" / name) for name in EVERY_OVERLAY}


# --- what the overlay renders -------------------------------------------------------------


def test_eks_overlay_declares_the_queues_table_topic_and_queue_url_export(
    rendered: Rendered,
) -> None:
    objects = rendered["eks"]
    queues = {q["metadata"]["name"]: q["spec"] for q in by_kind(objects, "Queue")}
    assert set(queues) == {"orders", "orders-dlq"}
    settings = AwsSettings.from_env({})
    assert queues["orders"]["queueName"] == settings.queue_name
    assert queues["orders-dlq"]["queueName"] == settings.dlq_name
    redrive = json.loads(queues["orders"]["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": arn("sqs", settings.dlq_name), "maxReceiveCount": 5}
    [table] = by_kind(objects, "Table")
    assert table["spec"]["tableName"] == settings.table_name
    [topic] = by_kind(objects, "Topic")
    assert topic["spec"]["name"] == "lantern-shop-alarms"
    [export] = by_kind(objects, "FieldExport")
    assert export["spec"]["from"] == {
        "resource": {"group": "sqs.services.k8s.aws", "kind": "Queue", "name": "orders"},
        "path": ".status.queueURL",
    }
    assert export["spec"]["to"] == {
        "kind": "configmap",
        "name": "orders-queue",
        "key": "ORDERS_QUEUE_URL",
    }
    # The controller patches only a ConfigMap that exists; one with data would have kubectl
    # apply own (and reset) the exported key.
    target = named(objects, "ConfigMap", "orders-queue")
    assert "data" not in target
    assert "namespace" not in export["spec"]["to"]  # the export's own namespace


@pytest.mark.parametrize("overlay", EVERY_OVERLAY)
def test_the_dead_letter_queue_is_applied_before_the_queue_that_redrives_to_it(
    every: Rendered, overlay: str
) -> None:
    # SQS refuses a redrive policy naming a queue that does not exist, and the controller does
    # not retry that refusal: kubectl must create orders-dlq first (it applies in output order).
    order = [q["spec"]["queueName"] for q in by_kind(every[overlay], "Queue")]
    if overlay.startswith("eks"):
        assert order.index("orders-dlq") < order.index("orders")
    for queue in by_kind(every[overlay], "Queue"):
        if "redrivePolicy" in queue["spec"]:
            target = json.loads(queue["spec"]["redrivePolicy"])["deadLetterTargetArn"]
            assert order.index(target.rsplit(":", 1)[1]) < order.index(queue["spec"]["queueName"])


def test_every_alarm_notifies_the_alarm_topic(rendered: Rendered) -> None:
    alarms = by_kind(rendered["eks"], "MetricAlarm")
    assert alarms
    topic = arn("sns", named(rendered["eks"], "Topic", "lantern-shop-alarms")["spec"]["name"])
    for alarm in alarms:
        assert alarm["spec"]["alarmActions"] == [topic], alarm["metadata"]["name"]
        assert alarm["spec"]["oKActions"] == [topic], alarm["metadata"]["name"]


def test_no_queue_url_is_written_anywhere(every: Rendered) -> None:
    for overlay, objects in every.items():
        text = "\n".join(json.dumps(o) for o in objects)
        assert QUEUE_URL.findall(text) == [], overlay
    assert QUEUE_URL.findall(PARAMS_FILE.read_text()) == []
    assert "ORDERS_QUEUE_URL" not in params()
    assert QUEUE_URL.search("https://sqs.us-west-2.amazonaws.com/111122223333/orders")


def test_params_hold_exactly_the_keys_eks_sh_writes() -> None:
    keys = {"AWS_REGION", "AWS_ACCOUNT_ID", "CLUSTER_NAME", "IMAGE_REPOSITORY", "TRACE_UI_URL"}
    assert set(params()) == keys


def queue_url_sources(objects: Objects) -> dict[str, dict[str, Any]]:
    """workload/container -> where its ORDERS_QUEUE_URL comes from (its env entry)."""
    found = {}
    for obj in objects:
        template = pod_template(obj)
        for container in containers(template) if template else []:
            for env in container.get("env", []):
                if env["name"] == "ORDERS_QUEUE_URL":
                    found[f"{obj['metadata']['name']}/{container['name']}"] = env
    return found


def test_pods_wait_for_the_exported_queue_url(rendered: Rendered) -> None:
    export = by_kind(rendered["eks"], "FieldExport")[0]["spec"]["to"]
    sources = queue_url_sources(rendered["eks"])
    assert set(sources) == {"producer/producer", "consumer/consumer", "load/hey"}
    for where, env in sources.items():
        # Not optional: a pod started before the queue exists stays in CreateContainerConfigError
        # until the key appears, then the kubelet starts it. Optional would start it without one.
        assert env["valueFrom"] == {
            "configMapKeyRef": {"name": export["name"], "key": export["key"]}
        }, where


def test_keda_reads_the_queue_url_from_the_consumers_environment(rendered: Rendered) -> None:
    scaled = named(rendered["eks"], "ScaledObject", "consumer")
    [trigger] = scaled["spec"]["triggers"]
    variable = trigger["metadata"]["queueURLFromEnv"]
    template = pod_template(
        named(rendered["eks"], "Deployment", scaled["spec"]["scaleTargetRef"]["name"])
    )
    assert template is not None
    # KEDA resolves the variable in the target's first container unless told another.
    wanted = scaled["spec"]["scaleTargetRef"].get("envSourceContainerName")
    container = next(c for c in containers(template, init=False) if wanted in (None, c["name"]))
    assert variable in {e["name"] for e in container.get("env", [])}


def subscription(values: dict[str, str] | None = None) -> dict[str, Any]:
    """The e-mail subscription as k8s/eks/eks.sh applies it (envsubst)."""
    filled = {**params(), "ALARM_EMAIL": "ops@example.com", **(values or {})}
    text = Template(SUBSCRIPTION_TEMPLATE.read_text()).substitute(filled)
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def test_alarm_email_subscription_template_is_applied_apart_and_valid(rendered: Rendered) -> None:
    text = SUBSCRIPTION_TEMPLATE.read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= {"ALARM_EMAIL", "AWS_REGION", "AWS_ACCOUNT_ID"}
    assert "${ALARM_EMAIL}" in text
    kustomization = load_yaml(COMPONENT / "kustomization.yaml")
    assert SUBSCRIPTION_TEMPLATE.name not in json.dumps(kustomization["resources"])
    sub = subscription()
    assert schema_errors(sub) == []
    assert sub["metadata"]["namespace"] == "lantern"
    assert sub["spec"]["protocol"] == "email"
    assert sub["spec"]["endpoint"] == "ops@example.com"
    topic = sub["spec"]["topicRef"]["from"]["name"]
    assert named(rendered["eks"], "Topic", topic)


def test_schemas_refuse_broken_aws_objects(rendered: Rendered) -> None:
    objects = rendered["eks"]
    queue = copy.deepcopy(named(objects, "Queue", "orders"))
    queue["spec"]["visibilityTimeOut"] = "30"  # typo
    table = copy.deepcopy(named(objects, "Table", "orders"))
    table["spec"]["attributeDefinitions"][0]["attributeType"] = "STRING"
    topic = copy.deepcopy(named(objects, "Topic", "lantern-shop-alarms"))
    topic["spec"]["tracingConfig"] = "On"
    export = copy.deepcopy(by_kind(objects, "FieldExport")[0])
    export["spec"]["to"]["kind"] = "ConfigMap"  # the CRD's enum is lower case
    both = subscription()
    both["spec"]["topicARN"] = arn("sns", "lantern-shop-alarms")
    for broken in (queue, table, topic, export, both):
        assert schema_errors(broken), broken["kind"]


# --- replaying the specs against an AWS API -------------------------------------------------

# ACK spec field -> (API parameter, mapping of its members or None for a plain value). A field
# missing here fails the replay, so a new field cannot slip past it untested.
Mapping = dict[str, tuple[str, "Mapping | None"]]

DIMENSION: Mapping = {"name": ("Name", None), "value": ("Value", None)}
TAG: Mapping = {"key": ("Key", None), "value": ("Value", None)}
METRIC: Mapping = {
    "namespace": ("Namespace", None),
    "metricName": ("MetricName", None),
    "dimensions": ("Dimensions", DIMENSION),
}
METRIC_QUERY: Mapping = {
    "id": ("Id", None),
    "expression": ("Expression", None),
    "label": ("Label", None),
    "returnData": ("ReturnData", None),
    "period": ("Period", None),
    "accountID": ("AccountId", None),
    "metricStat": (
        "MetricStat",
        {
            "metric": ("Metric", METRIC),
            "period": ("Period", None),
            "stat": ("Stat", None),
            "unit": ("Unit", None),
        },
    ),
}
PUT_METRIC_ALARM: Mapping = {
    "name": ("AlarmName", None),
    "alarmDescription": ("AlarmDescription", None),
    "actionsEnabled": ("ActionsEnabled", None),
    "alarmActions": ("AlarmActions", None),
    "oKActions": ("OKActions", None),
    "insufficientDataActions": ("InsufficientDataActions", None),
    "comparisonOperator": ("ComparisonOperator", None),
    "datapointsToAlarm": ("DatapointsToAlarm", None),
    "dimensions": ("Dimensions", DIMENSION),
    "evaluateLowSampleCountPercentile": ("EvaluateLowSampleCountPercentile", None),
    "evaluationPeriods": ("EvaluationPeriods", None),
    "extendedStatistic": ("ExtendedStatistic", None),
    "metricName": ("MetricName", None),
    "metrics": ("Metrics", METRIC_QUERY),
    "namespace": ("Namespace", None),
    "period": ("Period", None),
    "statistic": ("Statistic", None),
    "tags": ("Tags", TAG),
    "threshold": ("Threshold", None),
    "thresholdMetricID": ("ThresholdMetricId", None),
    "treatMissingData": ("TreatMissingData", None),
    "unit": ("Unit", None),
}
# CreateQueue: QueueName, tags, and every other field an entry of its Attributes map.
QUEUE_ATTRIBUTES: Mapping = {
    "delaySeconds": ("DelaySeconds", None),
    "maximumMessageSize": ("MaximumMessageSize", None),
    "messageRetentionPeriod": ("MessageRetentionPeriod", None),
    "receiveMessageWaitTimeSeconds": ("ReceiveMessageWaitTimeSeconds", None),
    "visibilityTimeout": ("VisibilityTimeout", None),
    "redrivePolicy": ("RedrivePolicy", None),
    "redriveAllowPolicy": ("RedriveAllowPolicy", None),
    "policy": ("Policy", None),
    "kmsMasterKeyID": ("KmsMasterKeyId", None),
    "kmsDataKeyReusePeriodSeconds": ("KmsDataKeyReusePeriodSeconds", None),
    "sqsManagedSSEEnabled": ("SqsManagedSseEnabled", None),
    "fifoQueue": ("FifoQueue", None),
    "contentBasedDeduplication": ("ContentBasedDeduplication", None),
    "deduplicationScope": ("DeduplicationScope", None),
    "fifoThroughputLimit": ("FifoThroughputLimit", None),
}
KEY_SCHEMA: Mapping = {"attributeName": ("AttributeName", None), "keyType": ("KeyType", None)}
THROUGHPUT: Mapping = {
    "readCapacityUnits": ("ReadCapacityUnits", None),
    "writeCapacityUnits": ("WriteCapacityUnits", None),
}
PROJECTION: Mapping = {
    "projectionType": ("ProjectionType", None),
    "nonKeyAttributes": ("NonKeyAttributes", None),
}
CREATE_TABLE: Mapping = {
    "tableName": ("TableName", None),
    "attributeDefinitions": (
        "AttributeDefinitions",
        {"attributeName": ("AttributeName", None), "attributeType": ("AttributeType", None)},
    ),
    "keySchema": ("KeySchema", KEY_SCHEMA),
    "billingMode": ("BillingMode", None),
    "provisionedThroughput": ("ProvisionedThroughput", THROUGHPUT),
    "globalSecondaryIndexes": (
        "GlobalSecondaryIndexes",
        {
            "indexName": ("IndexName", None),
            "keySchema": ("KeySchema", KEY_SCHEMA),
            "projection": ("Projection", PROJECTION),
            "provisionedThroughput": ("ProvisionedThroughput", THROUGHPUT),
        },
    ),
    "localSecondaryIndexes": (
        "LocalSecondaryIndexes",
        {
            "indexName": ("IndexName", None),
            "keySchema": ("KeySchema", KEY_SCHEMA),
            "projection": ("Projection", PROJECTION),
        },
    ),
    "streamSpecification": (
        "StreamSpecification",
        {"streamEnabled": ("StreamEnabled", None), "streamViewType": ("StreamViewType", None)},
    ),
    "sseSpecification": (
        "SSESpecification",
        {
            "enabled": ("Enabled", None),
            "sseType": ("SSEType", None),
            "kmsMasterKeyID": ("KMSMasterKeyId", None),
        },
    ),
    "tableClass": ("TableClass", None),
    "deletionProtectionEnabled": ("DeletionProtectionEnabled", None),
    "tags": ("Tags", TAG),
}
# The controller sets the TTL with a call of its own once the table exists.
UPDATE_TIME_TO_LIVE: Mapping = {
    "attributeName": ("AttributeName", None),
    "enabled": ("Enabled", None),
}
TOPIC_ATTRIBUTES: Mapping = {
    "displayName": ("DisplayName", None),
    "policy": ("Policy", None),
    "deliveryPolicy": ("DeliveryPolicy", None),
    "kmsMasterKeyID": ("KmsMasterKeyId", None),
    "signatureVersion": ("SignatureVersion", None),
    "tracingConfig": ("TracingConfig", None),
    "fifoTopic": ("FifoTopic", None),
    "contentBasedDeduplication": ("ContentBasedDeduplication", None),
}


def translate(spec: dict[str, Any], mapping: Mapping, where: str) -> dict[str, Any]:
    """An ACK spec (camelCase) as API parameters; a field without a mapping is an error."""
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key not in mapping:
            raise AssertionError(
                f"{where}.{key}: no API parameter for it, the replay cannot test it"
            )
        name, members = mapping[key]
        if members is None:
            out[name] = value
        elif isinstance(value, list):
            out[name] = [translate(v, members, f"{where}.{key}[{i}]") for i, v in enumerate(value)]
        else:
            out[name] = translate(value, members, f"{where}.{key}")
    return out


def split(spec: dict[str, Any], *keys: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the named fields, the rest) of a spec."""
    return {k: v for k, v in spec.items() if k in keys}, {
        k: v for k, v in spec.items() if k not in keys
    }


def test_translation_refuses_a_field_it_has_no_parameter_for() -> None:
    with pytest.raises(AssertionError, match=r"Queue\.visibilityTimeOut"):
        translate({"visibilityTimeOut": "30"}, QUEUE_ATTRIBUTES, "Queue")
    with pytest.raises(AssertionError, match=r"metrics\[0\]\.metricStat\.stats"):
        translate({"metrics": [{"metricStat": {"stats": "Sum"}}]}, PUT_METRIC_ALARM, "m")


@pytest.fixture(scope="module")
def aws(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto endpoint (real HTTP, botocore's and moto's parameter checks)."""
    monkeypatch_module.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch_module.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with moto_endpoint() as url:
        yield url


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def client(url: str, service: str, region: str | None = None) -> Any:
    """A client of the moto endpoint, in the params' region unless told another."""
    make: Any = boto3.client  # typed per service name; these tests pick the service at runtime
    return make(service, region_name=region or params()["AWS_REGION"], endpoint_url=url)


def replay_queues(url: str, queues: Objects) -> dict[str, str]:
    """CreateQueue for each Queue, dead-letter targets first; queue name -> URL."""
    sqs = client(url, "sqs")
    created: dict[str, str] = {}
    pending = [q["spec"] for q in queues]
    while pending:
        spec = pending.pop(0)
        attributes = translate(split(spec, "queueName", "tags")[1], QUEUE_ATTRIBUTES, "Queue")
        if "RedrivePolicy" in attributes:
            redrive = json.loads(attributes["RedrivePolicy"])
            target = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
            if target not in created:
                assert any(q["queueName"] == target for q in pending), f"no queue {target}"
                pending.append(spec)
                continue
            # The ARN of the queue the replay made (moto's account), not the params' account.
            redrive["deadLetterTargetArn"] = queue_attributes(url, created[target])["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(redrive)
        request: dict[str, Any] = {"QueueName": spec["queueName"], "Attributes": attributes}
        if "tags" in spec:
            request["tags"] = spec["tags"]
        created[spec["queueName"]] = sqs.create_queue(**request)["QueueUrl"]
    return created


def queue_attributes(url: str, queue_url: str, region: str | None = None) -> dict[str, str]:
    sqs = client(url, "sqs", region)
    found: dict[str, str] = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    return found


def test_queue_specs_are_accepted_by_sqs_as_declared(aws: str, rendered: Rendered) -> None:
    queues = by_kind(rendered["eks"], "Queue")
    urls = replay_queues(aws, queues)
    for queue in queues:
        spec = queue["spec"]
        sent = translate(split(spec, "queueName", "tags")[1], QUEUE_ATTRIBUTES, "Queue")
        got = queue_attributes(aws, urls[spec["queueName"]])
        for name, value in sent.items():
            if name == "RedrivePolicy":
                policy, redrive = json.loads(got[name]), json.loads(value)
                target = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
                assert (
                    policy["deadLetterTargetArn"] == queue_attributes(aws, urls[target])["QueueArn"]
                )
                assert int(policy["maxReceiveCount"]) == redrive["maxReceiveCount"]
            else:
                assert got[name] == value, (spec["queueName"], name)


# Attributes SQS sets itself, different for every queue.
OWN_ATTRIBUTES = {"QueueArn", "CreatedTimestamp", "LastModifiedTimestamp"}


def comparable(attributes: dict[str, str]) -> dict[str, Any]:
    """A queue's attributes without its identity: the redrive target by queue name only."""
    shape: dict[str, Any] = {
        k: v
        for k, v in attributes.items()
        if k not in OWN_ATTRIBUTES and not k.startswith("Approximate")
    }
    if "RedrivePolicy" in shape:
        redrive = json.loads(shape["RedrivePolicy"])
        shape["RedrivePolicy"] = {
            "target": redrive["deadLetterTargetArn"].rsplit(":", 1)[1],
            "maxReceiveCount": int(redrive["maxReceiveCount"]),
        }
    return shape


def provisioned(url: str, region: str) -> AwsSettings:
    """What tools/provision makes, in a region of its own on the same endpoint."""
    settings = AwsSettings.from_env({"AWS_ENDPOINT_URL": url, "AWS_REGION": region})
    provision(settings)
    return settings


def test_queues_have_the_shape_tools_provision_creates(aws: str, rendered: Rendered) -> None:
    region = "eu-west-1"
    assert region != params()["AWS_REGION"]
    settings = provisioned(aws, region)
    urls = replay_queues(aws, by_kind(rendered["eks"], "Queue"))
    local_sqs = client(aws, "sqs", region)
    for name in (settings.queue_name, settings.dlq_name):
        local = local_sqs.get_queue_url(QueueName=name)["QueueUrl"]
        # Retention included: the DLQ keeps SQS's default, as provision leaves it.
        assert comparable(queue_attributes(aws, urls[name])) == comparable(
            queue_attributes(aws, local, region)
        ), name


def test_table_spec_is_accepted_by_dynamodb_and_matches_provision(
    aws: str, rendered: Rendered
) -> None:
    [table] = by_kind(rendered["eks"], "Table")
    ttl, rest = split(table["spec"], "timeToLive")
    dynamodb = client(aws, "dynamodb")
    dynamodb.create_table(**translate(rest, CREATE_TABLE, "Table"))
    name = rest["tableName"]
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification=translate(ttl["timeToLive"], UPDATE_TIME_TO_LIVE, "timeToLive"),
    )

    def shape(described: dict[str, Any], ttl: dict[str, Any]) -> dict[str, Any]:
        return {
            "KeySchema": described["KeySchema"],
            "AttributeDefinitions": described["AttributeDefinitions"],
            "BillingMode": described["BillingModeSummary"]["BillingMode"],
            "TTL": (ttl["TimeToLiveStatus"], ttl.get("AttributeName")),
        }

    ours = shape(
        dynamodb.describe_table(TableName=name)["Table"],
        dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
    )
    assert ours["TTL"] == ("ENABLED", ttl["timeToLive"]["attributeName"])
    region = "eu-central-1"
    settings = provisioned(aws, region)
    local = client(aws, "dynamodb", region)
    assert settings.table_name == name
    assert ours == shape(
        local.describe_table(TableName=name)["Table"],
        local.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
    )


def replay_topic(url: str, topic: dict[str, Any]) -> str:
    name_and_tags, rest = split(topic["spec"], "name", "tags", "dataProtectionPolicy")
    request: dict[str, Any] = {
        "Name": name_and_tags["name"],
        "Attributes": translate(rest, TOPIC_ATTRIBUTES, "Topic"),
    }
    if "tags" in name_and_tags:
        request["Tags"] = [translate(t, TAG, "Topic.tags") for t in name_and_tags["tags"]]
    if "dataProtectionPolicy" in name_and_tags:
        request["DataProtectionPolicy"] = name_and_tags["dataProtectionPolicy"]
    topic_arn: str = client(url, "sns").create_topic(**request)["TopicArn"]
    return topic_arn


def test_topic_spec_is_accepted_by_sns_and_the_subscription_by_its_topic(
    aws: str, rendered: Rendered
) -> None:
    [topic] = by_kind(rendered["eks"], "Topic")
    topic_arn = replay_topic(aws, topic)
    sns = client(aws, "sns")
    got = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    for name, value in translate(
        split(topic["spec"], "name", "tags")[1], TOPIC_ATTRIBUTES, "T"
    ).items():
        assert got[name] == value, name
    # The alarms name the topic by the ARN the params build: same name, same region.
    alarm_actions = {
        a
        for alarm in by_kind(rendered["eks"], "MetricAlarm")
        for a in alarm["spec"]["alarmActions"]
    }
    [action] = alarm_actions
    assert action.split(":")[3] == topic_arn.split(":")[3]
    assert action.rsplit(":", 1)[1] == topic_arn.rsplit(":", 1)[1]
    sub = subscription()["spec"]
    assert sub["topicRef"]["from"]["name"] == topic["metadata"]["name"]
    answer = sns.subscribe(
        TopicArn=topic_arn,
        Protocol=sub["protocol"],
        Endpoint=sub["endpoint"],
        ReturnSubscriptionArn=True,
    )
    assert answer["SubscriptionArn"].startswith(topic_arn + ":")


@pytest.mark.parametrize("overlay", EVERY_OVERLAY)
def test_alarm_specs_are_accepted_by_cloudwatch_as_declared(
    aws: str, every: Rendered, overlay: str
) -> None:
    alarms = by_kind(every[overlay], "MetricAlarm")
    if overlay == "eks":
        assert len(alarms) >= 4
    cloudwatch = client(aws, "cloudwatch")
    for alarm in alarms:
        request = translate(
            alarm["spec"], PUT_METRIC_ALARM, f"MetricAlarm/{alarm['metadata']['name']}"
        )
        cloudwatch.put_metric_alarm(**request)
        [described] = cloudwatch.describe_alarms(AlarmNames=[request["AlarmName"]])["MetricAlarms"]
        sent = {k: v for k, v in request.items() if k != "Tags"}  # DescribeAlarms has no tags
        assert differences(sent, described) == [], request["AlarmName"]


def differences(sent: Any, got: Any, where: str = "") -> list[str]:
    """Where an API's answer differs from what was sent: every field sent must come back equal
    (numbers as numbers); fields the API adds (empty Dimensions, ARNs, state) do not count."""
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return [f"{where}: {got!r}"]
        return [d for k, v in sent.items() for d in differences(v, got.get(k), f"{where}.{k}")]
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return [f"{where}: {got!r} for {sent!r}"]
        return [
            d
            for i, (s, g) in enumerate(zip(sent, got, strict=True))
            for d in differences(s, g, f"{where}[{i}]")
        ]
    if (
        isinstance(sent, int | float)
        and not isinstance(sent, bool)
        and isinstance(got, int | float)
    ):
        return [] if float(sent) == float(got) else [f"{where}: {got!r} for {sent!r}"]
    return [] if sent == got else [f"{where}: {got!r} for {sent!r}"]


def test_difference_check_sees_a_changed_and_a_missing_field() -> None:
    sent = {"Threshold": 5, "Metrics": [{"Id": "a", "MetricStat": {"Stat": "Sum"}}]}
    same = {"Threshold": 5.0, "Metrics": [{"Id": "a", "MetricStat": {"Stat": "Sum"}, "X": 1}]}
    assert differences(sent, same) == []
    changed = {"Threshold": 6.0, "Metrics": [{"Id": "a", "MetricStat": {}}]}
    assert differences(sent, changed) == [
        ".Threshold: 6.0 for 5",
        ".Metrics[0].MetricStat.Stat: None for 'Sum'",
    ]
