"""IAM policies are least-privilege and match the AWS calls the code makes; the eksctl cluster
gives each service account exactly its policy."""

from __future__ import annotations

import ast
import copy
import fnmatch
import functools
import json
import re
import warnings
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

with warnings.catch_warnings():
    # parliament imports pkg_resources, which warns that it is deprecated.
    warnings.simplefilter("ignore")
    import parliament

from lantern import table
from lantern.settings import AwsSettings
from tests.deploy.policy import component_of
from tests.deploy.support import (
    K8S,
    ROOT,
    by_kind,
    containers,
    load_yaml,
    pod_template,
    python_files,
    service_sources,
)

IAM = K8S / "iam"
PLACEHOLDERS = {"AWS_REGION", "AWS_ACCOUNT_ID", "CLUSTER_NAME"}
# Example values for the placeholders, to hand a policy to parliament.
EXAMPLE = {"AWS_REGION": "us-west-2", "AWS_ACCOUNT_ID": "111122223333", "CLUSTER_NAME": "lantern"}
Rendered = dict[str, list[dict[str, Any]]]


@functools.cache
def _resource_types() -> dict[str, tuple[str, ...]]:
    """service:Action -> the resource types IAM can scope it to (parliament's copy of the
    Service Authorization Reference); an empty tuple means only Resource "*" applies."""
    found = {}
    for service in parliament.iam_definition:
        for privilege in service["privileges"]:
            types = tuple(r["resource_type"] for r in privilege["resource_types"])
            found[f"{service['prefix']}:{privilege['privilege']}"] = tuple(filter(None, types))
    return found


def unscopable(action: str) -> bool:
    """Whether AWS does not let ``action`` be scoped to a resource (xray:*, logs:DescribeLogGroups,
    sns:Unsubscribe, ...)."""
    return _resource_types().get(action) == ()


def policy(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((IAM / f"{name}.json").read_text())
    return document


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = document["Statement"]
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@functools.cache
def operations(service: str) -> dict[str, str]:
    """snake_case client method -> API operation name, from botocore's service model."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def iam_action(service: str, operation: str) -> str:
    # SQS batch APIs are authorized as their single-message action.
    if service == "sqs":
        operation = operation.removesuffix("Batch")
    return f"{service}:{operation}"


LIBRARY = ROOT / "libs/lantern/src"


def _aws_calls(node: ast.AST) -> set[str]:
    """IAM actions of the SQS/DynamoDB client methods called anywhere under ``node``."""
    called = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            for service in ("sqs", "dynamodb"):
                if child.func.attr in operations(service):
                    called.add(iam_action(service, operations(service)[child.func.attr]))
    return called


def _names_used(node: ast.AST) -> set[str]:
    """Every name and attribute name under ``node``: what it may call."""
    return {
        child.id if isinstance(child, ast.Name) else child.attr
        for child in ast.walk(node)
        if isinstance(child, ast.Name | ast.Attribute)
    }


@functools.cache
def _library_functions() -> dict[str, list[ast.AST]]:
    """The shared library's functions and methods by name (a name may be defined twice)."""
    functions: dict[str, list[ast.AST]] = {}
    for path in python_files(LIBRARY):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.setdefault(node.name, []).append(node)
    return functions


def actions_called(component: str) -> set[str]:
    """IAM actions for every SQS/DynamoDB client method the component's code can reach.

    The component's own source (``support.service_sources``: a service, or a tool such as the
    load driver) counts whole; of the shared library, only the functions it uses, by name and
    transitively (every component imports ``lantern.aws``, but the load driver never looks up a
    queue URL). A name match is enough, so the scan errs towards finding more calls, never fewer.
    """
    own = [ast.parse(p.read_text()) for p in python_files(*service_sources(component)[1:])]
    called: set[str] = set()
    pending: set[str] = set()
    for tree in own:
        called |= _aws_calls(tree)
        pending |= _names_used(tree)
    library, seen = _library_functions(), set()
    while pending:
        name = pending.pop()
        seen.add(name)
        for function in library.get(name, []):
            called |= _aws_calls(function)
            pending |= _names_used(function) - seen
    return called


def granted(document: dict[str, Any], prefix: str) -> set[str]:
    return {
        action
        for s in statements(document)
        for action in as_list(s["Action"])
        if action.startswith(prefix)
    }


def policy_problems(document: dict[str, Any]) -> list[str]:
    problems = []
    if document.get("Version") != "2012-10-17":
        problems.append("Version must be 2012-10-17")
    for s in statements(document):
        sid = s.get("Sid", "?")
        if s.get("Effect") != "Allow" or not s.get("Sid"):
            problems.append(f"{sid}: every statement is a named Allow")
        for action in as_list(s["Action"]):
            if "*" in action:
                problems.append(f"{sid}: wildcard action {action}")
        for resource in as_list(s["Resource"]):
            if resource == "*" and not all(unscopable(a) for a in as_list(s["Action"])):
                problems.append(f"{sid}: Resource * for actions that can be scoped")
        for placeholder in re.findall(r"\$\{(\w+)\}", json.dumps(s)):
            if placeholder not in PLACEHOLDERS:
                problems.append(f"{sid}: unknown placeholder {placeholder}")
    return problems


@pytest.mark.parametrize("path", sorted(IAM.glob("*.json")), ids=lambda p: p.stem)
def test_policies_are_least_privilege(path: Path) -> None:
    assert policy_problems(json.loads(path.read_text())) == []


def parliament_findings(text: str) -> list[str]:
    """parliament's findings for a policy document with the ${...} placeholders filled in."""
    for name, value in EXAMPLE.items():
        text = text.replace(f"${{{name}}}", value)
    analyzed = parliament.analyze_policy_string(text)
    return [f"{f.issue}: {f.detail}" for f in analyzed.findings]


@pytest.mark.parametrize("path", sorted(IAM.glob("*.json")), ids=lambda p: p.stem)
def test_policies_pass_parliament(path: Path) -> None:
    # Unknown actions, resources in a form the action cannot match, conditions of the wrong type.
    assert parliament_findings(path.read_text()) == []


def test_parliament_catches_a_misspelled_action_and_a_mismatched_resource() -> None:
    broken = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sqs:GetQueueAtributes", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "arn:aws:logs:${AWS_REGION}:${AWS_ACCOUNT_ID}:log-group:*",
            },
        ],
    }
    findings = "\n".join(parliament_findings(json.dumps(broken)))
    assert "UNKNOWN_ACTION" in findings
    assert "RESOURCE_MISMATCH" in findings


def test_policy_check_catches_broad_grants() -> None:
    broad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
            {"Sid": "B", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "${TABLE}"},
        ],
    }
    problems = "\n".join(policy_problems(broad))
    assert "wildcard action" in problems
    assert "Resource *" in problems
    assert "unknown placeholder TABLE" in problems
    assert unscopable("xray:PutTraceSegments")
    assert unscopable("logs:DescribeLogGroups")
    assert not unscopable("sqs:SendMessage")
    assert not unscopable("sqs:NoSuchAction")


# The Lantern components that call AWS, each with its own policy, lantern-<component>.
AWS_CALLERS = ("producer", "consumer", "load")


@pytest.mark.parametrize("service", AWS_CALLERS)
def test_service_policy_grants_exactly_the_calls_its_code_makes(service: str) -> None:
    document = policy(f"lantern-{service}")
    called = actions_called(service)
    assert called, "no AWS calls found: the scan is broken"
    assert granted(document, "sqs:") | granted(document, "dynamodb:") == called


def test_call_scan_sees_what_each_service_does() -> None:
    assert "sqs:SendMessage" in actions_called("producer")
    assert "sqs:SendMessage" not in actions_called("consumer")
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= actions_called("consumer")
    # Through the library: the services look the queue up with lantern.aws.queue_url, which the
    # load driver imports from the same module but never calls.
    assert "sqs:GetQueueUrl" in actions_called("producer")
    assert actions_called("load") == {"dynamodb:Scan"}
    assert actions_called("frontend") == set()


def test_policies_name_only_the_configured_queue_and_table() -> None:
    settings = AwsSettings.from_env({})
    allowed = {
        f"arn:aws:sqs:${{AWS_REGION}}:${{AWS_ACCOUNT_ID}}:{settings.queue_name}",
        f"arn:aws:sqs:${{AWS_REGION}}:${{AWS_ACCOUNT_ID}}:{settings.dlq_name}",
        f"arn:aws:dynamodb:${{AWS_REGION}}:${{AWS_ACCOUNT_ID}}:table/{settings.table_name}",
    }
    for name in ("lantern-producer", "lantern-consumer", "lantern-load", "lantern-keda-operator"):
        for s in statements(policy(name)):
            assert set(as_list(s["Resource"])) <= allowed, f"{name}: {s['Sid']}"
    dlq = [s for s in statements(policy("lantern-consumer")) if settings.dlq_name in str(s)]
    assert granted({"Statement": dlq}, "sqs:") == {"sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def test_producer_writes_only_idempotency_records() -> None:
    item_writes = [
        s for s in statements(policy("lantern-producer")) if "dynamodb:PutItem" in s["Action"]
    ]
    assert item_writes
    for s in item_writes:
        condition = s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert condition == [f"{table.IDEMPOTENCY_PREFIX}*"]
    # The producer's keys come from lantern.table, which puts the prefix the condition relies on.
    assert table.idempotency_key("k")[table.KEY]["S"] == f"{table.IDEMPOTENCY_PREFIX}k"
    source = (ROOT / "services/producer/src/producer/idempotency.py").read_text()
    assert "idempotency_key(" in source


def test_keda_and_collector_policies_cover_their_jobs() -> None:
    assert granted(policy("lantern-keda-operator"), "sqs:") == {"sqs:GetQueueAttributes"}
    collector = policy("lantern-otel-collector")
    assert {"xray:PutTraceSegments", "logs:PutLogEvents"} <= granted(collector, "xray:") | (
        granted(collector, "logs:")
    )
    emf = load_yaml(K8S / "components/adot-collector/collector.yaml")["exporters"]["awsemf"]
    assert f"log-group:{emf['log_group_name']}" in json.dumps(collector)


# CloudWatch Logs ARNs in IAM policies (CloudWatch Logs User Guide, "CloudWatch Logs resources and
# operations"): a log group is ``...:log-group:NAME:*`` for every action but the tagging ones (the
# bare ``...:log-group:NAME`` matches nothing else), and PutLogEvents acts on the group's streams,
# ``...:log-group:NAME:log-stream:*``. With the bare form, CreateLogGroup is denied and awsemf
# never publishes a metric.
LOG_GROUP_ARN = re.compile(r"^arn:aws:logs:[^:]+:[^:]+:log-group:(?P<group>[^:]+)(?P<rest>.*)$")
LOG_TAGGING_ACTIONS = {"logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource"}
LOG_STREAM_ACTIONS = {"logs:PutLogEvents", "logs:GetLogEvents"}


def log_arn(group: str, action: str) -> str:
    """The resource a policy must name for ``action`` on log group ``group``."""
    base = f"arn:aws:logs:${{AWS_REGION}}:${{AWS_ACCOUNT_ID}}:log-group:{group}"
    if action in LOG_TAGGING_ACTIONS:
        return base
    return base + (":log-stream:*" if action in LOG_STREAM_ACTIONS else ":*")


def log_arn_problems(document: dict[str, Any]) -> list[str]:
    """Log-group resources in a form IAM does not match for the actions they are given with."""
    problems = []
    for s in statements(document):
        actions = [a for a in as_list(s["Action"]) if a.startswith("logs:")]
        for resource in as_list(s["Resource"]):
            match = LOG_GROUP_ARN.match(resource)
            if match is None or match["group"] == "*":
                continue  # not a log group, or every log group (DescribeLogGroups)
            for action in actions:
                if resource != log_arn(match["group"], action):
                    wanted = log_arn(match["group"], action)
                    problems.append(f"{s['Sid']}: {action} on {resource} (IAM wants {wanted})")
    return problems


def emf_actions(emf: dict[str, Any]) -> set[str]:
    """The CloudWatch Logs calls the awsemf exporter makes with this configuration."""
    actions = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    if emf.get("log_retention"):
        actions.add("logs:PutRetentionPolicy")
    if emf.get("tags"):
        actions.add("logs:TagResource")
    return actions


def test_collector_may_create_and_write_its_emf_log_group() -> None:
    collector = policy("lantern-otel-collector")
    assert log_arn_problems(collector) == []
    emf = load_yaml(K8S / "components/adot-collector/collector.yaml")["exporters"]["awsemf"]
    grants = {
        (action, resource)
        for s in statements(collector)
        for action in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    }
    for action in emf_actions(emf):
        assert (action, log_arn(emf["log_group_name"], action)) in grants, action


def test_log_arn_check_catches_a_log_group_arn_without_the_wildcard() -> None:
    every = "arn:aws:logs:${AWS_REGION}:${AWS_ACCOUNT_ID}:log-group:*"
    group = every.removesuffix("*") + "/lantern-shop/metrics"
    broken = {
        "Statement": [
            {"Sid": "Group", "Action": ["logs:CreateLogGroup"], "Resource": group},
            {"Sid": "Events", "Action": ["logs:PutLogEvents"], "Resource": group + ":*"},
            {"Sid": "All", "Action": ["logs:DescribeLogGroups"], "Resource": every},
        ]
    }
    problems = "\n".join(log_arn_problems(broken))
    assert "Group: logs:CreateLogGroup" in problems
    assert "Events: logs:PutLogEvents" in problems
    assert "All:" not in problems


def cluster() -> dict[str, Any]:
    text = (K8S / "eks/cluster.yaml").read_text()
    unknown = set(re.findall(r"\$\{(\w+)\}", text)) - PLACEHOLDERS
    assert unknown == set(), f"placeholders envsubst will not fill: {unknown}"
    data: dict[str, Any] = load_yaml(K8S / "eks/cluster.yaml")
    return data


def test_eksctl_cluster_has_the_addons_the_lab_needs() -> None:
    config = cluster()
    assert (config["apiVersion"], config["kind"]) == ("eksctl.io/v1alpha5", "ClusterConfig")
    addons = {a["name"]: a for a in config["addons"]}
    assert {"eks-pod-identity-agent", "metrics-server", "amazon-cloudwatch-observability"} <= set(
        addons
    )
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_pod_identity_gives_each_service_account_its_own_policy(rendered: Rendered) -> None:
    associations = {
        (a["namespace"], a["serviceAccountName"]): a
        for a in cluster()["iam"]["podIdentityAssociations"]
    }
    accounts = {a["metadata"]["name"] for a in by_kind(rendered["eks"], "ServiceAccount")}
    # Only the pods that call AWS get a role; the storefront gets none.
    in_namespace = {sa for ns, sa in associations if ns == "lantern"}
    assert in_namespace == {"producer", "consumer", "load", "otel-collector"}
    assert in_namespace <= accounts
    for (_, account), association in associations.items():
        arns = association["permissionPolicyARNs"]
        assert len(arns) == 1
        name = arns[0].rsplit("/", 1)[1]
        if arns[0].startswith("arn:aws:iam::aws:"):
            continue  # an AWS-managed policy (the CloudWatch agent's)
        assert (IAM / f"{name}.json").exists(), f"{account}: {name} has no policy document"
    assert associations[("keda", "keda-operator")]["permissionPolicyARNs"][0].endswith(
        "/lantern-keda-operator"
    )


def test_each_lantern_pod_runs_as_the_account_bound_to_its_own_policy(rendered: Rendered) -> None:
    associations = {
        a["serviceAccountName"]: a["permissionPolicyARNs"]
        for a in cluster()["iam"]["podIdentityAssociations"]
        if a["namespace"] == "lantern"
    }
    seen = set()
    for obj in rendered["eks"]:
        template = pod_template(obj)
        if template is None:
            continue
        account = template["spec"].get("serviceAccountName", "default")
        for component in filter(None, map(component_of, containers(template))):
            seen.add(component)
            if actions_called(component):
                arns = associations.get(account, [])
                assert [a.rsplit("/", 1)[1] for a in arns] == [f"lantern-{component}"], account
            else:
                assert account not in associations, f"{account} gets a role it never uses"
    assert seen == {"frontend", *AWS_CALLERS}


# Service accounts that belong to an EKS add-on: their association must be declared on the
# add-on (addons[].podIdentityAssociations), which EKS creates together with the add-on. One in
# iam.podIdentityAssociations is created separately and can come after the add-on's pods, which
# then run without credentials until restarted.
ADDON_SERVICE_ACCOUNTS = {
    "amazon-cloudwatch-observability": ("amazon-cloudwatch", "cloudwatch-agent")
}


def addon_association_problems(config: dict[str, Any]) -> list[str]:
    problems = []
    addons = {a["name"]: a for a in config.get("addons", [])}
    separate = {
        (a["namespace"], a["serviceAccountName"]) for a in config["iam"]["podIdentityAssociations"]
    }
    for name, account in ADDON_SERVICE_ACCOUNTS.items():
        if account in separate:
            problems.append(f"{account[0]}/{account[1]}: associated apart from add-on {name}")
        declared = addons.get(name, {}).get("podIdentityAssociations") or []
        if account not in {(a.get("namespace"), a.get("serviceAccountName")) for a in declared}:
            problems.append(
                f"{name}: no podIdentityAssociations entry for {account[0]}/{account[1]}"
            )
    for name, addon in addons.items():
        for association in addon.get("podIdentityAssociations") or []:
            # eksctl's own validation of add-on associations
            if name == "eks-pod-identity-agent":
                problems.append("eks-pod-identity-agent cannot have pod identity associations")
            if not association.get("namespace") or not association.get("serviceAccountName"):
                problems.append(f"{name}: an association needs namespace and serviceAccountName")
            if not association.get("roleARN") and not association.get("permissionPolicyARNs"):
                problems.append(f"{name}: an association needs roleARN or permissionPolicyARNs")
    return problems


def test_addon_service_accounts_are_associated_through_their_addon() -> None:
    config = cluster()
    assert addon_association_problems(config) == []
    addon = {a["name"]: a for a in config["addons"]}["amazon-cloudwatch-observability"]
    [association] = addon["podIdentityAssociations"]
    assert association["permissionPolicyARNs"] == [
        "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
    ]


def test_addon_association_check_flags_an_association_declared_apart() -> None:
    config = copy.deepcopy(cluster())
    addon = {a["name"]: a for a in config["addons"]}["amazon-cloudwatch-observability"]
    config["iam"]["podIdentityAssociations"] += addon.pop("podIdentityAssociations")
    problems = "\n".join(addon_association_problems(config))
    assert "associated apart from add-on amazon-cloudwatch-observability" in problems
    assert "no podIdentityAssociations entry" in problems


def test_workshop_checks_that_each_container_insights_alarm_has_its_metric(
    rendered: Rendered,
) -> None:
    workshop = (ROOT / "docs/workshop.md").read_text().replace("\\\n", " ")
    commands = re.findall(r"aws cloudwatch list-metrics [^\n]*", workshop)
    alarms = [a["spec"] for a in by_kind(rendered["eks"], "MetricAlarm")]
    insights = [a for a in alarms if a.get("namespace") == "ContainerInsights"]
    assert insights
    for alarm in insights:
        wanted = [
            "--namespace ContainerInsights",
            f"--metric-name {alarm['metricName']}",
            *(f"Name={d['name']}," for d in alarm["dimensions"]),
        ]
        assert any(all(w in c for w in wanted) for c in commands), alarm["name"]


# --- the ACK controllers' policies --------------------------------------------------------

ACK_CALLS: dict[str, Any] = load_yaml(Path(__file__).parent / "ack_calls.yaml")
ACK_GROUP = re.compile(r"^(?P<service>[a-z0-9]+)\.services\.k8s\.aws/")
SUBSCRIPTION_TEMPLATE = K8S / "components/aws-resources/alarm-email-subscription.yaml.tmpl"


def ack_versions() -> dict[str, str]:
    """ACK service -> the chart version k8s/eks/versions.env pins (ACK_<SERVICE>_CHART_VERSION)."""
    found = {}
    for line in (K8S / "eks/versions.env").read_text().splitlines():
        match = re.fullmatch(r"ACK_([A-Z0-9]+)_CHART_VERSION=(\S+)", line.strip())
        if match:
            found[match[1].lower()] = match[2]
    return found


def ack_objects(rendered: Rendered) -> list[dict[str, Any]]:
    """The ACK objects the workshop applies: the eks overlay's, and the e-mail subscription."""
    template = load_yaml(SUBSCRIPTION_TEMPLATE)
    return [o for o in [*rendered["eks"], template] if ACK_GROUP.match(o["apiVersion"])]


def ack_actions(service: str, objects: list[dict[str, Any]]) -> set[str]:
    """IAM actions of every call ack_calls.yaml lists for the service; a call marked ``when``
    counts only if some object of its kind sets that spec field."""
    actions: set[str] = set()
    for kind, operations in ACK_CALLS[service]["resources"].items():
        specs = [o["spec"] for o in objects if o["kind"] == kind]
        for calls in operations.values():
            for call in calls:
                if "when" in call and not any(call["when"] in spec for spec in specs):
                    continue
                actions |= set(call.get("actions", [f"{service}:{call['call']}"]))
    return actions


def test_the_call_list_covers_every_ack_controller_and_kind_the_workshop_uses(
    rendered: Rendered,
) -> None:
    assert set(ACK_CALLS) == set(ack_versions())
    for service, entry in ACK_CALLS.items():
        assert entry["chart"] == f"ACK_{service.upper()}_CHART_VERSION"
        for kind, operations in entry["resources"].items():
            assert set(operations) == {"read", "create", "update", "delete"}, (service, kind)
            for call in [c for calls in operations.values() for c in calls]:
                assert call["source"].startswith("pkg/resource/"), (service, kind, call)
    for obj in ack_objects(rendered):
        service = ACK_GROUP.match(obj["apiVersion"])["service"]  # type: ignore[index]
        assert obj["kind"] in ACK_CALLS[service]["resources"], (service, obj["kind"])


@pytest.mark.parametrize("service", sorted(ACK_CALLS))
def test_ack_policy_grants_exactly_the_calls_its_controller_makes(
    rendered: Rendered, service: str
) -> None:
    document = policy(f"lantern-ack-{service}")
    wanted = ack_actions(service, ack_objects(rendered))
    assert granted(document, "") == wanted


def test_ack_call_list_grants_a_conditional_call_only_when_the_spec_asks(
    rendered: Rendered,
) -> None:
    objects = copy.deepcopy(ack_objects(rendered))
    assert "dynamodb:UpdateTimeToLive" in ack_actions("dynamodb", objects)
    assert "dynamodb:PutResourcePolicy" not in ack_actions("dynamodb", objects)
    for obj in objects:
        if obj["kind"] == "Table":
            obj["spec"]["resourcePolicy"] = "{}"
    assert "dynamodb:PutResourcePolicy" in ack_actions("dynamodb", objects)


def ack_arns(obj: dict[str, Any]) -> list[str]:
    """The AWS resource an ACK object stands for, as IAM names it (with the placeholders)."""
    where = "${AWS_REGION}:${AWS_ACCOUNT_ID}"
    spec = obj["spec"]
    match obj["kind"]:
        case "Queue":
            return [f"arn:aws:sqs:{where}:{spec['queueName']}"]
        case "Table":
            return [f"arn:aws:dynamodb:{where}:table/{spec['tableName']}"]
        case "Topic":
            return [f"arn:aws:sns:{where}:{spec['name']}"]
        case "MetricAlarm":
            return [f"arn:aws:cloudwatch:{where}:alarm:{spec['name']}"]
        case "Dashboard":  # dashboards are global: no region in their ARN
            return [f"arn:aws:cloudwatch::${{AWS_ACCOUNT_ID}}:dashboard/{spec['dashboardName']}"]
    return []  # a Subscription's calls take Resource "*" (or its topic's ARN: Subscribe)


def test_ack_policies_reach_the_shops_resources_and_nothing_else(rendered: Rendered) -> None:
    objects = ack_objects(rendered)
    for service in ACK_CALLS:
        document = policy(f"lantern-ack-{service}")
        resources = {r for s in statements(document) for r in as_list(s["Resource"])} - {"*"}
        mine = [o for o in objects if o["apiVersion"].startswith(f"{service}.")]
        arns = [arn for obj in mine for arn in ack_arns(obj)]
        assert arns, service
        for arn in arns:
            assert any(fnmatch.fnmatchcase(arn, r) for r in resources), (service, arn)
        for resource in resources:
            # A table's streams ride with it (parliament wants both for GetResourcePolicy).
            base = resource.removesuffix("/stream/*")
            covers = any(fnmatch.fnmatchcase(arn, base) for arn in arns)
            assert covers or re.split(r"[:/]", base)[-1].startswith("lantern-shop"), resource
        for s in statements(document):
            if s["Resource"] == "*":
                assert all(unscopable(a) for a in as_list(s["Action"])), (service, s["Sid"])


def test_ack_associations_give_each_controller_its_policy() -> None:
    associations = {
        (a["namespace"], a["serviceAccountName"]): a
        for a in cluster()["iam"]["podIdentityAssociations"]
    }
    for service in ack_versions():
        # The service account the controller's Helm chart creates (serviceAccount.name default).
        association = associations[("ack-system", f"ack-{service}-controller")]
        assert association["permissionPolicyARNs"] == [
            f"arn:aws:iam::${{AWS_ACCOUNT_ID}}:policy/lantern-ack-{service}"
        ]
        assert association["roleName"] == f"${{CLUSTER_NAME}}-ack-{service}"
    attached = {
        arn.rsplit("/", 1)[1]
        for a in associations.values()
        for arn in a["permissionPolicyARNs"]
        if arn.startswith("arn:aws:iam::${AWS_ACCOUNT_ID}:")
    }
    assert attached == {path.stem for path in IAM.glob("*.json")}, "a policy nobody uses"
