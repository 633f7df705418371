"""k8s/eks: the eksctl config against its schema, and the Helm values eks.sh sets against a record.

k8s/schemas/eksctl.io_v1alpha5_ClusterConfig.json is compared with eksctl's published schema
(k8s/schemas/sources.yaml); k8s/schemas/helm-values.yaml with each chart's values.schema.json and
values.yaml at the pinned tag. The Helm side is read from what ``eks.sh plan`` prints: the
``helm upgrade --install`` lines a first ``make eks-up`` runs.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.support import K8S, ROOT

SCHEMAS = K8S / "schemas"
CLUSTER = K8S / "eks" / "cluster.yaml"
# Stand-ins for what the attendee exports (docs/workshop.md, step 1); eks.sh substitutes only these.
EXAMPLE_ENV = {
    "CLUSTER_NAME": "lantern-workshop",
    "AWS_REGION": "us-west-2",
    "AWS_ACCOUNT_ID": "111122223333",
}


def envsubst(text: str, env: dict[str, str]) -> str:
    """``envsubst '${A} ${B}'``: replaces exactly the named ``${VAR}`` and nothing else."""
    for name, value in env.items():
        text = text.replace("${" + name + "}", value)
    return text


def cluster_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(envsubst(CLUSTER.read_text(), EXAMPLE_ENV))
    return config


def eksctl_errors(config: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / "eksctl.io_v1alpha5_ClusterConfig.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(config)]


# --- eksctl ----------------------------------------------------------------------------------


def test_cluster_yaml_uses_only_the_placeholders_eks_sh_substitutes() -> None:
    assert set(re.findall(r"\$\{(\w+)\}", CLUSTER.read_text())) == set(EXAMPLE_ENV)
    assert "${" not in json.dumps(cluster_config())  # none left in a value


def test_cluster_yaml_matches_the_eksctl_schema() -> None:
    assert eksctl_errors(cluster_config()) == []


def test_node_group_sizes_are_ordered_and_addon_configuration_is_json() -> None:
    """What eksctl checks in Go and a JSON schema cannot say."""
    config = cluster_config()
    for group in config["managedNodeGroups"]:
        assert group["minSize"] <= group["desiredCapacity"] <= group["maxSize"], group["name"]
    for addon in config["addons"]:
        if "configurationValues" in addon:
            assert isinstance(json.loads(addon["configurationValues"]), dict), addon["name"]


def _association(config: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = config["iam"]["podIdentityAssociations"][0]
    return first


def _addon(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in config["addons"] if a["name"] == name)


def _misspell_addon_associations(config: dict[str, Any]) -> None:
    addon = _addon(config, "amazon-cloudwatch-observability")
    addon["podIdentityAssociation"] = addon.pop("podIdentityAssociations")


def _associate_the_agent_itself(config: dict[str, Any]) -> None:
    observability = _addon(config, "amazon-cloudwatch-observability")
    agent = _addon(config, "eks-pod-identity-agent")
    agent["podIdentityAssociations"] = observability["podIdentityAssociations"]


def _misspell_service_account(config: dict[str, Any]) -> None:
    _association(config)["serviceAccount"] = _association(config).pop("serviceAccountName")


BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "addon podIdentityAssociation (typo)": _misspell_addon_associations,
    "node group instanceTpyes (typo)": lambda c: c["managedNodeGroups"][0].update(
        instanceTpyes=["m6i.large"]
    ),
    "association serviceAccount (typo)": _misspell_service_account,
    "metadata.version a YAML number": lambda c: c["metadata"].update(version=1.35),
    "minSize a string": lambda c: c["managedNodeGroups"][0].update(minSize="2"),
    "configurationValues a mapping": lambda c: c["addons"][0].update(
        configurationValues={"enableNetworkPolicy": "true"}
    ),
    "instanceType and instanceTypes": lambda c: c["managedNodeGroups"][0].update(
        instanceTypes=["m6i.large"]
    ),
    "roleARN and permissionPolicyARNs": lambda c: _association(c).update(
        roleARN="arn:aws:iam::111122223333:role/mine"
    ),
    "neither a role nor a policy": lambda c: _association(c).pop("permissionPolicyARNs"),
    "associations on eks-pod-identity-agent": _associate_the_agent_itself,
    "a placeholder left": lambda c: c["metadata"].update(name="${CLUSTER_NAME}"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_eksctl_schema_refuses_typos_wrong_types_and_what_eksctl_refuses(case: str) -> None:
    config = cluster_config()
    BROKEN[case](config)
    assert eksctl_errors(config), case


# --- Helm values -----------------------------------------------------------------------------

Record = dict[str, Any]
OTHER_VALUE_FLAGS = {"-f", "--values", "--set-file", "--set-json", "--set-literal"}


@dataclass
class Install:
    """One ``helm upgrade --install RELEASE CHART ...`` line of the plan."""

    release: str
    chart: str
    namespace: str
    version: str
    values: dict[str, str] = field(default_factory=dict)  # key -> JSON type Helm gives it
    unrecorded_flags: list[str] = field(default_factory=list)


def helm_type(text: str) -> str:
    """The JSON type ``--set`` gives a value (Helm's strvals: bool, null, int64, else string)."""
    if text in ("true", "false"):
        return "boolean"
    if text == "null":
        return "null"
    if re.fullmatch(r"0|-?[1-9][0-9]*", text):
        return "integer"
    return "string"


def _flag_and_value(word: str) -> list[str]:
    return word.split("=", 1) if word.startswith("--") and "=" in word else [word]


def parse_install(line: str) -> Install:
    # --flag=value is the same as --flag value to Helm.
    words = [w for word in shlex.split(line) for w in _flag_and_value(word)]
    assert words[:3] == ["helm", "upgrade", "--install"], line
    install = Install(
        release=words[3],
        chart=words[4],
        namespace=words[words.index("--namespace") + 1],
        version=words[words.index("--version") + 1],
    )
    for flag, value in itertools.pairwise(words):
        if flag in ("--set", "--set-string"):
            for pair in value.split(","):
                key, _, text = pair.partition("=")
                install.values[key] = "string" if flag == "--set-string" else helm_type(text)
        elif flag in OTHER_VALUE_FLAGS:
            install.unrecorded_flags.append(f"{flag} {value}")
    return install


def value_problems(install: Install, records: dict[str, Record]) -> list[str]:
    """Why this install sets something helm-values.yaml does not record (empty: nothing)."""
    record = records.get(install.release)
    if record is None:
        return [f"{install.release}: no entry in helm-values.yaml"]
    where = f"{install.release} {record['version']}"
    problems = [f"{where}: {flag} (not a --set value)" for flag in install.unrecorded_flags]
    if install.chart.rsplit("/", 1)[-1] != record["chart"]:
        problems.append(f"{where}: chart {install.chart}, recorded {record['chart']}")
    if install.version != str(record["version"]):
        problems.append(f"{where}: installed at {install.version}")
    allowed = record["values"]
    for key, kind in install.values.items():
        if key == record["serviceAccount"]["key"]:
            problems.append(f"{where}: {key} set (the associations use the chart's default)")
        elif key not in allowed:
            problems.append(f"{where}: {key} is not a recorded value")
        elif allowed[key] != kind:
            problems.append(f"{where}: {key} is {kind}, recorded {allowed[key]}")
    return problems


def chart_records() -> dict[str, Record]:
    text = (SCHEMAS / "helm-values.yaml").read_text()
    records: dict[str, Record] = yaml.safe_load(text)["charts"]
    return records


def pinned_versions() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in (K8S / "eks" / "versions.env").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def installs() -> list[Install]:
    """The ``helm upgrade --install`` lines of ``eks.sh plan`` (a dry run: nothing runs)."""
    with tempfile.TemporaryDirectory() as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C"}
        done = subprocess.run(
            [str(K8S / "eks" / "eks.sh"), "plan"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=True,
        )
    lines = [line[2:] for line in done.stdout.splitlines() if line.startswith("+ helm upgrade")]
    return [parse_install(line) for line in lines]


def test_every_value_the_script_sets_is_recorded_with_its_type(installs: list[Install]) -> None:
    records = chart_records()
    assert {i.release for i in installs} == set(records)
    assert [p for install in installs for p in value_problems(install, records)] == []
    assert {i.release: i.values for i in installs if i.release != "keda"} == {
        release: {"aws.region": "string"} for release in records if release != "keda"
    }


def test_the_record_refuses_unknown_keys_other_types_and_value_files(
    installs: list[Install],
) -> None:
    records = chart_records()
    sqs = next(i for i in installs if i.release == "ack-sqs-controller")
    line = (
        f"helm upgrade --install ack-sqs-controller {sqs.chart} --namespace ack-system"
        f" --version {sqs.version} --set {{}} --wait"
    )
    for values in ("aws.regoin=us-west-2", "aws.region=1", "serviceAccount.name=mine"):
        assert value_problems(parse_install(line.format(values)), records), values
    good = "aws.region=us-west-2"
    assert value_problems(parse_install(line.format(good)), records) == []
    assert value_problems(parse_install(line.format(f"{good} -f mine.yaml")), records)
    assert value_problems(parse_install(line.format(f"{good} --set=aws.regoin=x")), records)
    assert value_problems(parse_install(line.replace(sqs.version, "9.9.9").format(good)), records)
    assert helm_type("us-west-2") == "string"
    assert helm_type("007") == "string"  # Helm keeps a leading zero as a string
    assert helm_type("true") == "boolean"


def test_each_chart_record_is_at_the_version_of_versions_env() -> None:
    pinned = pinned_versions()
    records = chart_records()
    assert {record["versionKey"] for record in records.values()} == set(pinned)
    for release, record in records.items():
        assert str(record["version"]) == pinned[record["versionKey"]], release
        assert re.fullmatch(r"[a-z][a-z0-9.-]*", record["serviceAccount"]["default"]), release
        assert all(kind in ("string", "integer", "boolean") for kind in record["values"].values())


def test_pod_identity_associations_bind_the_service_accounts_the_charts_create(
    installs: list[Install],
) -> None:
    """An association for another name binds nothing: the controller would run without AWS."""
    records = chart_records()
    associations = cluster_config()["iam"]["podIdentityAssociations"]
    for namespace in {install.namespace for install in installs}:
        bound = {a["serviceAccountName"] for a in associations if a["namespace"] == namespace}
        created = {
            records[i.release]["serviceAccount"]["default"]
            for i in installs
            if i.namespace == namespace
        }
        assert bound == created, namespace
    ack = {r["serviceAccount"]["default"] for name, r in records.items() if name.startswith("ack-")}
    assert {a["serviceAccountName"] for a in associations if a["namespace"] == "ack-system"} == ack
