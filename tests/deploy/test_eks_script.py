"""k8s/eks/eks.sh: what it would run (dry run), what it runs against fakes, and the saved queries.

No AWS and no cluster here. The dry runs are read as printed; the real runs use fake ``aws``,
``eksctl``, ``kubectl``, ``helm`` and ``docker`` executables that record each call and answer
the script's lookups as if nothing existed yet ("absent") or everything did ("exists"). They run
on a copy of ``k8s/`` so that the repository's ``params.env`` is never written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import K8S, ROOT
from tests.support.catalog import CATALOG, catalog_tables, ticked

SCRIPT = K8S / "eks" / "eks.sh"
QUERIES = K8S / "eks" / "queries"
QUERY_FILES = sorted(QUERIES.glob("*.txt"))
PARAMS = K8S / "overlays" / "eks" / "params.env"
FAKED = ("aws", "eksctl", "kubectl", "helm", "docker")
# What a real run needs besides the faked tools (and nothing else: the script promises it).
HOST_TOOLS = ("bash", "envsubst", "head", "od", "tr")
PARAMS_KEYS = ["AWS_REGION", "AWS_ACCOUNT_ID", "CLUSTER_NAME", "IMAGE_REPOSITORY", "TRACE_UI_URL"]
SHOP_IMAGES = {"frontend", "producer", "consumer", "load"}

FAKE = textwrap.dedent(
    """
    import json, os, re, sys
    from pathlib import Path

    tool, args = Path(sys.argv[0]).name, sys.argv[1:]
    state = os.environ["FAKE_STATE"]  # absent | exists | stale (exists, policies out of date)
    reads_stdin = "-" in args or "--password-stdin" in args
    call = {"tool": tool, "args": args, "stdin": sys.stdin.read() if reads_stdin else None}
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(json.dumps(call) + "\\n")

    if os.environ.get("FAKE_FAIL") and " ".join([tool, *args]).startswith(os.environ["FAKE_FAIL"]):
        sys.exit(1)

    def arg(name):
        return args[args.index(name) + 1]

    def answer(text="", code=0):
        if text:
            print(text)
        sys.exit(code)

    def rendered_policy():
        name = arg("--policy-arn").rsplit("/", 1)[1]
        text = (Path(os.environ["FAKE_ROOT"]) / "k8s" / "iam" / f"{name}.json").read_text()
        for var in ("AWS_REGION", "AWS_ACCOUNT_ID", "CLUSTER_NAME"):
            text = text.replace("${" + var + "}", os.environ[var])
        return json.dumps(json.loads(text), indent=4)  # as the AWS CLI reprints it

    absent = state == "absent"
    words = " ".join(args[:2])
    if tool == "aws":
        if words == "sts get-caller-identity":
            answer("111122223333")
        if words.endswith("get-login-password"):
            answer("a-token")
        if words == "iam get-policy":
            answer("", 254) if absent else answer("v5")
        if words == "iam get-policy-version":
            answer('{"Version": "2012-10-17", "Statement": []}' if state == "stale"
                   else rendered_policy())
        if words == "iam list-policy-versions":
            answer("v1\\tv2\\tv3\\tv4" if state == "stale" else "")
        if words == "ecr describe-repositories":
            answer("", 254) if absent else answer("uri/" + arg("--repository-names"))
        if words == "logs describe-query-definitions":
            answer("" if absent else "qd-" + arg("--query-definition-name-prefix"))
        if words == "logs describe-log-groups":
            answer("" if absent else arg("--log-group-name-prefix"))
        answer()
    lookup = {"eksctl": "get cluster", "helm": "status", "kubectl": "get secret"}.get(tool)
    if lookup and lookup in " ".join(args):
        answer("", 1) if absent else answer("found")
    answer()
    """
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]

    @property
    def commands(self) -> list[str]:
        """The printed commands (``+ ...`` lines), without the ``+ ``."""
        return [line[2:] for line in self.stdout.splitlines() if line.startswith("+ ")]

    def called(self, tool: str, *words: str) -> list[list[str]]:
        """Recorded calls of ``tool`` whose arguments start with ``words``."""
        return [
            c["args"]
            for c in self.calls
            if c["tool"] == tool and c["args"][: len(words)] == list(words)
        ]


class Sandbox:
    """A PATH of fakes and chosen host tools, and a scrubbed environment to run the script in."""

    def __init__(self, tmp_path: Path, *, fakes: bool = True, host: tuple[str, ...] = HOST_TOOLS):
        self.tmp = tmp_path
        self.log = tmp_path / "calls.jsonl"
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for name in host:
            found = shutil.which(name)
            assert found, f"{name} is needed on this machine to run the script"
            (self.bin / name).symlink_to(found)
        if fakes:
            fake = tmp_path / "fake.py"
            fake.write_text(f"#!{sys.executable}\n{FAKE}")
            fake.chmod(0o755)
            for name in FAKED:
                (self.bin / name).symlink_to(fake)

    def run(
        self,
        *args: str,
        state: str = "absent",
        root: Path = ROOT,
        **env: str,
    ) -> Run:
        self.log.write_text("")
        environment = {
            "PATH": str(self.bin),
            "HOME": str(self.tmp),
            "LANG": "C",
            "FAKE_LOG": str(self.log),
            "FAKE_STATE": state,
            "FAKE_ROOT": str(root),
            **env,
        }
        done = subprocess.run(
            [str(root / "k8s" / "eks" / "eks.sh"), *args],
            env=environment,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return Run(done.returncode, done.stdout, done.stderr, calls)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the repository's k8s/ to run for real in (the script works from its own root)."""
    root = tmp_path / "checkout"
    shutil.copytree(K8S, root / "k8s")
    return root


@pytest.fixture(scope="module")
def plan() -> Run:
    """`eks.sh plan` with the fakes on PATH: what a first `make eks-up` runs."""
    return _dry_run("plan")


@pytest.fixture(scope="module")
def down_plan() -> Run:
    return _dry_run("down", "--dry-run")


def _dry_run(*args: str) -> Run:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        before = PARAMS.read_bytes()
        result = Sandbox(Path(tmp)).run(*args)
        assert PARAMS.read_bytes() == before, "a dry run changed k8s/overlays/eks/params.env"
    assert result.returncode == 0, result.stderr
    return result


def first(commands: list[str], match: Callable[[str], bool]) -> int:
    found = [i for i, command in enumerate(commands) if match(command)]
    assert found, "no such command"
    return found[0]


def last(commands: list[str], match: Callable[[str], bool]) -> int:
    found = [i for i, command in enumerate(commands) if match(command)]
    assert found, "no such command"
    return found[-1]


def policy_names() -> set[str]:
    return {path.stem for path in (K8S / "iam").glob("*.json")}


def versions() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in (K8S / "eks" / "versions.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    return dict(pairs)


# --- the dry run ----------------------------------------------------------------------------


def test_plan_runs_nothing_and_asks_aws_nothing(plan: Run) -> None:
    assert plan.calls == []
    assert "# dry run: nothing was run" in plan.stdout
    assert "111122223333" in plan.stdout  # the stand-in account id


def test_plan_without_any_tool_warns_and_prints_the_whole_run(tmp_path: Path) -> None:
    bare = Sandbox(tmp_path, fakes=False, host=("bash",))
    result = bare.run("plan")
    assert result.returncode == 0, result.stderr
    assert "not installed: aws eksctl kubectl helm docker envsubst" in result.stdout
    assert result.commands == _dry_run("plan").commands


def test_a_real_run_without_the_tools_names_them_and_stops(tmp_path: Path) -> None:
    result = Sandbox(tmp_path, fakes=False, host=("bash",)).run("up")
    assert result.returncode == 1
    assert "not installed: aws eksctl kubectl helm docker envsubst" in result.stderr


def test_plan_creates_the_policies_before_the_cluster_and_the_controllers_before_the_shop(
    plan: Run,
) -> None:
    c = plan.commands
    cluster = first(c, lambda s: "eksctl create cluster -f -" in s)
    assert last(c, lambda s: s.startswith("aws iam create-policy ")) < cluster
    assert cluster < first(c, lambda s: s.startswith("helm upgrade --install"))
    apply = first(c, lambda s: s.startswith("kubectl apply -k"))
    assert last(c, lambda s: s.startswith("helm upgrade --install")) < apply
    assert last(c, lambda s: s.startswith("aws ecr create-repository")) < first(
        c, lambda s: s.startswith("docker buildx build")
    )
    assert last(c, lambda s: s.startswith("docker buildx build")) < apply
    assert apply < first(c, lambda s: "create secret generic frontend-session" in s)
    wait = first(c, lambda s: "wait --for=condition=ACK.ResourceSynced" in s)
    assert apply < wait < first(c, lambda s: "rollout status" in s)


def test_plan_creates_every_policy_of_k8s_iam_from_its_file(plan: Run) -> None:
    created = {
        m.group(1): m.group(2)
        for s in plan.commands
        if (m := re.match(r"aws iam create-policy --policy-name (\S+) .*< (k8s/iam/\S+\.json)", s))
    }
    assert set(created) == policy_names()
    assert all(path == f"k8s/iam/{name}.json" for name, path in created.items())


def test_every_chart_is_installed_at_the_version_of_versions_env(plan: Run) -> None:
    pinned = versions()
    installs = [s.split() for s in plan.commands if s.startswith("helm upgrade --install")]
    used = set()
    for words in installs:
        release = words[3]
        key = "KEDA_CHART_VERSION" if release == "keda" else _ack_key(release)
        assert words[words.index("--version") + 1] == pinned[key], release
        used.add(key)
        if release != "keda":
            assert "aws.region=us-west-2" in words
            assert "--wait" in words
    assert used == set(pinned), "a pinned chart is not installed, or installed twice"


def _ack_key(release: str) -> str:
    service = re.fullmatch(r"ack-(\w+)-controller", release)
    assert service, release
    return f"ACK_{service.group(1).upper()}_CHART_VERSION"


def test_the_images_built_are_the_shop_images_of_compose(plan: Run) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    wanted = {}
    for service in compose["services"].values():
        image = service.get("image", "")
        if image.startswith("lantern-shop/") and "build" in service:
            args = {a for a in service["build"].get("args", []) if "=" in a}
            wanted[image] = (args, service["build"].get("target"))
    built = {}
    for s in plan.commands:
        if s.startswith("docker buildx build"):
            words = s.split()
            tag = words[words.index("-t") + 1].split("/", 1)[1]
            args = {words[i + 1] for i, w in enumerate(words) if w == "--build-arg"}
            target = words[words.index("--target") + 1] if "--target" in words else None
            assert "--push" in words
            assert "--platform" in words
            built[tag] = (args, target)
    assert {tag.split("/")[1].split(":")[0] for tag in built} == SHOP_IMAGES
    for tag, spec in built.items():
        assert spec == wanted[tag], tag
    deployed = set(re.findall(r"image: (lantern-shop/\S+)", _base_manifests()))
    assert deployed <= set(built), "the manifests run an image the script does not push"


def _base_manifests() -> str:
    return "".join(path.read_text() for path in (K8S / "base").glob("*.yaml"))


def test_plan_prints_params_env_with_exactly_the_five_keys(plan: Run) -> None:
    out = plan.stdout
    body = out.split("+ cat > k8s/overlays/eks/params.env <<'EOF'\n", 1)[1].split("\nEOF\n")[0]
    values = dict(line.split("=", 1) for line in body.splitlines() if not line.startswith("#"))
    assert list(values) == PARAMS_KEYS
    assert values["IMAGE_REPOSITORY"] == "111122223333.dkr.ecr.us-west-2.amazonaws.com/lantern-shop"
    assert values["TRACE_UI_URL"].endswith("#xray:traces/{xray_trace_id}")


def test_the_shop_is_applied_from_its_overlay_directory(plan: Run, sandbox: Sandbox) -> None:
    assert "kubectl apply -k k8s/overlays/eks" in plan.commands
    assert not any("apply -f -" in s for s in plan.commands)  # no ALARM_EMAIL, no subscription
    lab = sandbox.run("plan", LAB="blog", ALARM_EMAIL="ops@example.com")
    assert lab.returncode == 0, lab.stderr
    c = lab.commands
    apply = c.index("kubectl apply -k k8s/overlays/eks-lab")
    subscription = first(
        c, lambda s: "alarm-email-subscription.yaml.tmpl | kubectl apply -f -" in s
    )
    assert apply < subscription
    assert sandbox.run("plan", LAB="nope").returncode == 1


def test_every_saved_query_is_put_on_the_application_log_group(plan: Run) -> None:
    puts = [s for s in plan.commands if s.startswith("aws logs put-query-definition")]
    names = {re.search(r"--name (\S+)", s).group(1) for s in puts}  # type: ignore[union-attr]
    assert names == {f"lantern-shop/{path.stem}" for path in QUERIES.glob("*.txt")}
    assert all(
        "--log-group-names /aws/containerinsights/lantern-workshop/application" in s for s in puts
    )


def test_down_deletes_the_objects_first_and_the_cluster_last_but_the_policies(
    down_plan: Run,
) -> None:
    c = down_plan.commands
    assert down_plan.calls == []
    delete = c.index("kubectl delete -k k8s/overlays/eks --wait --ignore-not-found --timeout=15m")
    uninstalls = [i for i, s in enumerate(c) if s.startswith("helm uninstall")]
    assert len(uninstalls) == 5
    assert delete < min(uninstalls)
    cluster = first(c, lambda s: s.startswith("eksctl delete cluster"))
    assert max(uninstalls) < cluster
    assert last(c, lambda s: s.startswith("aws ecr delete-repository")) < cluster
    deleted = [i for i, s in enumerate(c) if s.startswith("aws iam delete-policy ")]
    assert cluster < min(deleted)
    assert {c[i].rsplit("/", 1)[1] for i in deleted} == policy_names()
    groups = {s.split()[-1] for s in c if s.startswith("aws logs delete-log-group")}
    assert "/lantern-shop/metrics" in groups
    assert {g for g in groups if "containerinsights" in g} == {
        f"/aws/containerinsights/lantern-workshop/{kind}"
        for kind in ("application", "dataplane", "host", "performance")
    }
    assert cluster < first(c, lambda s: s.startswith("aws logs delete-log-group"))


# --- real runs against fakes ----------------------------------------------------------------

CREATES: list[Callable[[dict[str, Any]], bool]] = [
    lambda c: c["tool"] == "aws" and any(a.startswith("create-") for a in c["args"][:2]),
    lambda c: c["tool"] in ("eksctl", "kubectl") and "create" in c["args"][:3],
    lambda c: (
        c["args"][:2] == ["logs", "put-query-definition"]
        and "--query-definition-id" not in c["args"]
    ),
]


def creates(run: Run) -> list[list[str]]:
    return [c["args"] for c in run.calls if any(match(c) for match in CREATES)]


def test_up_creates_everything_once_then_a_second_up_creates_nothing(
    sandbox: Sandbox, checkout: Path
) -> None:
    first_up = sandbox.run("up", state="absent", root=checkout)
    assert first_up.returncode == 0, first_up.stderr
    assert len(first_up.called("aws", "iam", "create-policy")) == len(policy_names())
    cluster = first_up.called("eksctl", "create", "cluster")
    assert len(cluster) == 1
    cluster_file = next(
        c["stdin"] for c in first_up.calls if c["args"][:2] == ["create", "cluster"]
    )
    assert "name: lantern-workshop" in cluster_file
    assert "arn:aws:iam::111122223333:policy/lantern-producer" in cluster_file
    assert len(first_up.called("aws", "ecr", "create-repository")) == len(SHOP_IMAGES)
    assert len(first_up.called("kubectl", "-n", "lantern", "create", "secret")) == 1
    written = (checkout / "k8s/overlays/eks/params.env").read_text()
    assert [line.split("=")[0] for line in written.splitlines()[1:]] == PARAMS_KEYS

    again = sandbox.run("up", state="exists", root=checkout)
    assert again.returncode == 0, again.stderr
    assert creates(again) == []
    assert "k8s/overlays/eks/params.env: unchanged" in again.stdout
    assert again.called("aws", "eks", "update-kubeconfig")  # kubectl talks to this cluster
    assert len(again.called("aws", "logs", "put-query-definition")) == len(
        list(QUERIES.glob("*.txt"))
    )
    # Still deployed and waited for: an update, not a skip.
    assert again.called("kubectl", "apply", "-k", "k8s/overlays/eks")
    assert len(again.called("docker", "buildx", "build")) == len(SHOP_IMAGES)


def test_up_updates_a_changed_policy_making_room_for_the_new_version(
    sandbox: Sandbox, checkout: Path
) -> None:
    result = sandbox.run("up", state="stale", root=checkout)
    assert result.returncode == 0, result.stderr
    dropped = result.called("aws", "iam", "delete-policy-version")
    assert len(dropped) == len(policy_names())
    assert all(args[-1] == "v1" for args in dropped)  # the oldest non-default version
    created = result.called("aws", "iam", "create-policy-version")
    assert len(created) == len(policy_names())
    assert all("--set-as-default" in args for args in created)
    order = [
        c["args"][1] for c in result.calls if c["args"][1:2] and "policy-version" in c["args"][1]
    ]
    assert order[:3] == ["get-policy-version", "list-policy-versions", "delete-policy-version"]


def test_down_against_fakes_deletes_in_order_and_with_nothing_left_deletes_nothing(
    sandbox: Sandbox, checkout: Path
) -> None:
    result = sandbox.run("down", state="exists", root=checkout)
    assert result.returncode == 0, result.stderr
    steps = [" ".join([c["tool"], *c["args"][:2]]) for c in result.calls]
    delete = steps.index("kubectl delete -k")
    cluster = steps.index("eksctl delete cluster")
    assert delete < steps.index("helm uninstall ack-cloudwatch-controller") < cluster
    assert cluster < steps.index("aws iam delete-policy")
    assert len(result.called("aws", "logs", "delete-log-group")) == 5
    assert len(result.called("aws", "logs", "delete-query-definition")) == len(
        list(QUERIES.glob("*.txt"))
    )

    gone = sandbox.run("down", state="absent", root=checkout)
    assert gone.returncode == 0, gone.stderr
    assert [
        c for c in gone.calls if any("delete" in a or "uninstall" in a for a in c["args"][:2])
    ] == []


def test_down_stops_before_the_controllers_go_when_the_objects_are_not_deleted(
    sandbox: Sandbox, checkout: Path
) -> None:
    # The controllers delete the queue, table, topic and alarms; uninstalled first, they never do.
    result = sandbox.run("down", state="exists", root=checkout, FAKE_FAIL="kubectl delete")
    assert result.returncode != 0
    assert result.called("helm", "uninstall") == []
    assert result.called("eksctl", "delete") == []


def test_up_stops_at_the_first_failure(sandbox: Sandbox, checkout: Path) -> None:
    result = sandbox.run("up", state="absent", root=checkout, FAKE_FAIL="aws iam create-policy")
    assert result.returncode != 0
    assert result.called("eksctl", "create") == []


def test_down_puts_params_env_back_only_when_up_wrote_it(tmp_path: Path, checkout: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: the params.env restore is not checked")
    box = Sandbox(tmp_path, host=(*HOST_TOOLS, "git"))
    env = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def git_run(*args: str) -> None:
        subprocess.run([git, "-C", str(checkout), *args], check=True, capture_output=True, env=env)

    git_run("init", "-q")
    git_run("add", "k8s")
    git_run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "example")
    params = checkout / "k8s/overlays/eks/params.env"
    example = params.read_text()
    assert box.run("up", state="absent", root=checkout, **env).returncode == 0
    assert params.read_text() != example
    assert box.run("down", state="exists", root=checkout, **env).returncode == 0
    assert params.read_text() == example

    assert box.run("up", state="absent", root=checkout, **env).returncode == 0
    params.write_text(params.read_text() + "# my note\n")
    edited = params.read_text()
    result = box.run("down", state="exists", root=checkout, **env)
    assert result.returncode == 0
    assert params.read_text() == edited
    assert "left as is (it has edits" in result.stdout


# --- shellcheck -----------------------------------------------------------------------------


def test_the_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (CI installs it): k8s/eks/eks.sh not linted")
    done = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=style", str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


# --- the saved queries ----------------------------------------------------------------------

# Words of Logs Insights QL the queries use, and the fields the add-on's pipeline adds itself.
QL_WORDS = {"fields", "filter", "sort", "limit", "asc", "desc", "and", "or", "not", "in", "as"}
PIPELINE_FIELDS = {"@timestamp", "@message", "@logStream", "kubernetes.namespace_name",
                   "kubernetes.pod_name", "kubernetes.container_name"}  # fmt: skip
APP = "log_processed."


def documented_log_fields() -> set[str]:
    rows = catalog_tables(CATALOG.read_text())["Log fields"]
    return {ticked(row["Field"])[0] for row in rows}


def documented_log_events() -> set[str]:
    return {ticked(row["Event"])[0] for row in catalog_tables(CATALOG.read_text())["Log events"]}


def query_problems(text: str, fields: set[str], events: set[str]) -> list[str]:
    """What in a query reads a field or an event the catalog does not have."""
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    problems = [
        f"event {event!r} is not in the catalog"
        for event in re.findall(r'log_processed\.event\s*=\s*"([^"]*)"', body)
        if event not in events
    ]
    body = re.sub(r'"[^"]*"', '""', body)
    aliases = set(re.findall(r"\bas\s+(\w+)", body))
    for word in re.findall(r"[@A-Za-z_][\w.@]*", body):
        if word in QL_WORDS or word in aliases or word in PIPELINE_FIELDS:
            continue
        if word.startswith(APP) and word[len(APP) :] in fields:
            continue
        problems.append(f"{word}: not a documented log field under {APP}")
    return problems


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_every_field_a_saved_query_reads_is_in_the_log_catalog(path: Path) -> None:
    text = path.read_text()
    assert query_problems(text, documented_log_fields(), documented_log_events()) == []
    assert APP in text
    assert "kubernetes.namespace_name" in text  # only the shop's lines


def test_the_query_check_catches_a_renamed_field_and_an_unknown_event() -> None:
    fields, events = documented_log_fields(), documented_log_events()
    query = 'fields log_processed.orderId | filter log_processed.event = "order done"'
    assert query_problems(query, fields, events) == [
        "event 'order done' is not in the catalog",
        "log_processed.orderId: not a documented log field under log_processed.",
    ]
    assert query_problems("fields order_id", fields, events)  # top level: not where they are


def test_there_are_the_four_saved_queries() -> None:
    assert {p.stem for p in QUERIES.glob("*.txt")} == {
        "order-journey",
        "trace",
        "errors",
        "slowest-orders",
    }


def test_the_makefile_offers_the_three_targets() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target, command in (("eks-plan", "plan"), ("eks-up", "up"), ("eks-down", "down")):
        assert re.search(rf"^{target}: .*\n\tk8s/eks/eks\.sh {command}\b", makefile, re.M), target
