"""Every environment variable the code reads is documented in docs/configuration.md, and the
document names no variable the code has stopped reading."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *ROOT.glob("libs/*/src/**/*.py"),
    *ROOT.glob("services/*/src/**/*.py"),
    *ROOT.glob("tools/*/src/**/*.py"),
]
ENV_HELPERS = {"env_str", "env_int", "env_float", "env_bool", "env_choice", "env_optional"}
# Read by libraries on our behalf (boto3, the OpenTelemetry SDK), documented but not in our code.
READ_BY_LIBRARIES = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_PROPAGATORS",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_BSP_SCHEDULE_DELAY",
    "PROMETHEUS_MULTIPROC_DIR",
}


def _string_args(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _is_env(node: ast.expr) -> bool:
    """``os.environ`` or a mapping parameter named ``env`` (not a WSGI ``environ``: its keys are
    the request's, not settings)."""
    return _is_os_environ(node) or (isinstance(node, ast.Name) and node.id == "env")


def _is_os_environ(node: ast.expr) -> bool:
    return ast.unparse(node) in ("os.environ", "os.environ.copy()")


def _passes_env_first(call: ast.Call) -> bool:
    """A settings helper of the shape ``helper(env, "NAME", ...)``."""
    return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == "env"


def variables_read_by_code() -> set[str]:
    names: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                args = _string_args(node)
                reads_env = name in ENV_HELPERS or _passes_env_first(node)
                on_env = isinstance(func, ast.Attribute) and _is_env(func.value)
                if reads_env or (name in ("get", "setdefault") and on_env):
                    names.update(a for a in args if re.fullmatch(r"[A-Z][A-Z0-9_]+", a))
            elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    names.add(key.value)
    return names


def variables_documented() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", text, flags=re.MULTILINE))


def test_the_scan_finds_known_variables() -> None:
    assert {"AWS_REGION", "CONSUMER_WORK_MS", "TRACING_MODE", "PORT"} <= variables_read_by_code()


def test_every_variable_the_code_reads_is_documented() -> None:
    missing = variables_read_by_code() - variables_documented()
    assert not missing, f"document these in docs/configuration.md: {sorted(missing)}"


def test_the_document_names_only_variables_that_exist() -> None:
    stale = variables_documented() - variables_read_by_code() - READ_BY_LIBRARIES
    assert not stale, f"no code reads these any more: {sorted(stale)}"
