"""Peer checkers: hadolint on every Dockerfile, checkov on every rendered overlay and Dockerfile,
each finding either fixed or an exception with its reason in the checker's config file; and CPU
and memory quantities within sane bounds, which neither checker looks at."""

from __future__ import annotations

import copy
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import checkers
from tests.deploy.checkers import Accepted, Finding
from tests.deploy.support import OVERLAYS, ROOT, named

Rendered = dict[str, list[dict[str, Any]]]
CheckovRun = tuple[list[Finding], dict[str, dict[str, Any]]]
BROKEN = "broken"  # the folder of deliberately bad inputs in checkov's scan

BROKEN_DOCKERFILE = """\
FROM python:latest
RUN apt-get update && apt-get install -y curl
COPY . /app
CMD ["python", "/app/main.py"]
"""


def dockerfiles() -> list[str]:
    """Every Dockerfile of the images (the Python images' one, the deploy tools'), and any a
    service or tool may grow again, as repository paths."""
    found = [
        *ROOT.glob("services/Dockerfile"),
        *ROOT.glob("services/*/Dockerfile"),
        *ROOT.glob("tools/*/Dockerfile"),
        *ROOT.glob("deploy/*/Dockerfile"),
    ]
    return sorted(str(path.relative_to(ROOT)) for path in found)


def broken_deployment(rendered: Rendered) -> dict[str, Any]:
    """The local producer Deployment with its hardening undone."""
    deployment = copy.deepcopy(named(rendered["local"], "Deployment", "producer"))
    deployment["metadata"]["name"] = "broken-producer"
    pod = deployment["spec"]["template"]["spec"]
    pod["securityContext"] = {}
    pod["automountServiceAccountToken"] = True
    container = pod["containers"][0]
    container["securityContext"] = {"privileged": True, "allowPrivilegeEscalation": True}
    del container["resources"]["limits"]
    return deployment


@pytest.fixture(scope="module")
def checkov_run(rendered: Rendered, tmp_path_factory: pytest.TempPathFactory) -> CheckovRun:
    """One checkov run over the rendered overlays, the Dockerfiles and the broken samples."""
    work = tmp_path_factory.mktemp("checkov")
    scan = work / "scan"
    (scan / "overlays").mkdir(parents=True)
    for name, objects in rendered.items():
        (scan / "overlays" / f"{name}.yaml").write_text(yaml.safe_dump_all(objects))
    for path in dockerfiles():
        (scan / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, scan / path)
    (scan / BROKEN).mkdir()
    (scan / BROKEN / "deployment.yaml").write_text(yaml.safe_dump(broken_deployment(rendered)))
    (scan / BROKEN / "Dockerfile").write_text(BROKEN_DOCKERFILE)
    return checkers.checkov(scan, work)


def test_the_checkers_see_every_dockerfile() -> None:
    assert set(checkers.DOCKERFILES) <= set(dockerfiles())


def test_every_accepted_exception_gives_its_reason() -> None:
    for config, key in (
        (checkers.HADOLINT_CONFIG, "ignored"),
        (checkers.CHECKOV_CONFIG, "skip-check"),
    ):
        for exception in checkers.accepted(config, key):
            assert len(exception.reason) >= checkers.MIN_REASON_CHARS, (config.name, exception)


def test_hadolint_finds_nothing_but_the_accepted_exceptions(tmp_path: Path) -> None:
    findings = checkers.hadolint(dockerfiles(), tmp_path)
    accepted = checkers.accepted(checkers.HADOLINT_CONFIG, "ignored")
    assert checkers.exception_problems(accepted, findings) == []


def test_hadolint_flags_a_careless_dockerfile(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(BROKEN_DOCKERFILE)
    codes = {f.check for f in checkers.hadolint([str(path)], tmp_path)}
    # latest tag, unpinned apt packages, apt lists left behind, recommended packages
    assert {"DL3007", "DL3008", "DL3009", "DL3015"} <= codes


def test_checkov_scanned_every_overlay_and_dockerfile(checkov_run: CheckovRun) -> None:
    _, summaries = checkov_run
    assert set(summaries) == {"kubernetes", "dockerfile"}
    assert all(s["parsing_errors"] == 0 for s in summaries.values())
    assert {f"overlays/{name}.yaml" for name in OVERLAYS} <= summaries["kubernetes"]["files"]
    assert set(dockerfiles()) <= summaries["dockerfile"]["files"]


def test_checkov_finds_nothing_but_the_accepted_exceptions(checkov_run: CheckovRun) -> None:
    findings, _ = checkov_run
    ours = [f for f in findings if not f.where[0].startswith(f"{BROKEN}/")]
    accepted = checkers.accepted(checkers.CHECKOV_CONFIG, "skip-check")
    assert checkers.exception_problems(accepted, ours) == []


def test_checkov_flags_an_unhardened_deployment_and_a_careless_dockerfile(
    checkov_run: CheckovRun,
) -> None:
    findings, _ = checkov_run
    manifest = {f.check for f in findings if f.where[0] == f"{BROKEN}/deployment.yaml"}
    # privileged, privilege escalation, writable root, root user, no limits, token mounted
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_11"} <= manifest
    assert "CKV_K8S_38" in manifest
    dockerfile = {f.check for f in findings if f.where[0] == f"{BROKEN}/Dockerfile"}
    assert {"CKV_DOCKER_2", "CKV_DOCKER_3", "CKV_DOCKER_7"} <= dockerfile  # healthcheck, user, tag
    # an exception limited to some objects or files does not reach the broken samples
    limited = [e for e in checkers.accepted(checkers.CHECKOV_CONFIG, "skip-check") if e.only]
    reached = [
        f for f in findings if f.where[0].startswith(BROKEN) and any(e.covers(f) for e in limited)
    ]
    assert reached == []


def test_exception_rules_flag_a_missing_reason_a_stale_exception_and_a_new_finding(
    tmp_path: Path,
) -> None:
    config = tmp_path / "checker.yaml"
    config.write_text(
        "ignored:\n"
        "  # Reason enough for this one, in a comment block\n"
        "  # over two lines.\n"
        "  # only: deploy/*/Dockerfile\n"
        "  - DL3008\n"
        "\n"
        "  - DL3007\n"
        "  - DL4000  # no longer needed, but a long enough reason\n"
        "other: 1\n"
    )
    accepted = checkers.accepted(config, "ignored")
    assert accepted[0] == Accepted(
        "DL3008",
        "Reason enough for this one, in a comment block over two lines.",
        ("deploy/*/Dockerfile",),
    )
    assert accepted[1].reason == ""  # the blank line ends the comment block
    findings = [
        Finding("DL3008", ("deploy/example/Dockerfile",), "pin"),
        Finding("DL3008", ("services/Dockerfile",), "pin"),  # outside "only"
        Finding("DL3007", ("deploy/example/Dockerfile",), "latest"),
    ]
    problems = checkers.exception_problems(accepted, findings)
    assert any(p.startswith("DL3007: no reason") for p in problems)
    assert any(p.startswith("DL4000") and "remove the exception" in p for p in problems)
    assert any(p.startswith("DL3008 services/Dockerfile") for p in problems)
    assert len(problems) == 3


def test_checkov_runs_from_exact_pins() -> None:
    lines = [
        line.split(";")[0].strip()
        for line in checkers.CHECKOV_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all("==" in line for line in lines), [line for line in lines if "==" not in line]
    assert f"checkov=={checkers.checkov_version()}" in lines


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cpu_and_memory_quantities_are_sane(rendered: Rendered, overlay: str) -> None:
    assert checkers.resource_problems(rendered[overlay]) == []


def test_quantity_check_flags_typos(rendered: Rendered) -> None:
    assert checkers.quantity("500m") == Decimal("0.5")
    assert checkers.quantity("1.5") == Decimal("1.5")
    assert checkers.quantity("256Mi") == 256 * 2**20
    assert checkers.quantity("1e3") == 1000
    assert checkers.quantity("2G") == 2 * 10**9
    mutations: dict[str, tuple[str, str, str]] = {
        "500 cores": ("limits", "cpu", "500"),
        "256 bytes": ("limits", "memory", "256"),
        "a millicore": ("requests", "cpu", "1m"),
        "not a quantity": ("requests", "memory", "256MB"),
        "request above limit": ("requests", "cpu", "2"),
    }
    for label, (kind, name, value) in mutations.items():
        broken = copy.deepcopy(named(rendered["local"], "Deployment", "elasticmq"))
        broken["spec"]["template"]["spec"]["containers"][0]["resources"][kind][name] = value
        assert checkers.resource_problems([broken]), label
