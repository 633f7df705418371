"""The images, built once per session from their Dockerfiles, and the engine that runs them.

Without a reachable Docker engine every test here skips with the one line below; CI starts an
engine (``.ci/run``), so there they always run. Where no image registry is reachable the Python
base is the stand-in that ``tools/containers/python-base.sh`` builds from Debian packages.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.containers.engine import ROOT, Engine, EngineMissing, find_client
from tests.deploy.support import K8S, render

# The images, each built as docker-compose.yml's service of the same name builds it.
IMAGES = ("producer", "consumer", "frontend", "provision", "load")


@dataclass(frozen=True)
class Build:
    """One compose service's ``build:``: Dockerfile, context, arguments and target stage."""

    dockerfile: Path
    context: Path
    args: dict[str, str]
    target: str | None

    @classmethod
    def of(cls, compose: dict[str, Any], service: str) -> Build:
        build = compose["services"][service]["build"]
        context = ROOT / build["context"]
        args = {}
        for item in build.get("args", []):
            # A bare name passes the variable through from compose's environment; the tests
            # set only PYTHON_IMAGE (python_base), and pass it themselves.
            key, sep, value = str(item).partition("=")
            if sep:
                args[key] = value
        # compose reads the Dockerfile's path relative to the context
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        return cls(dockerfile, context, args, build.get("target"))


@dataclass(frozen=True)
class Image:
    tag: str
    build_seconds: float
    size_bytes: int
    base_bytes: int

    @property
    def over_base_mb(self) -> float:
        return (self.size_bytes - self.base_bytes) / 1e6


# Figures the tests measure (build times, sizes, stop times), shown after the run and written to
# test-artifacts/containers.json: they are reported, never asserted as timings.
FIGURES: dict[str, object] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "containers.json").write_text(json.dumps(FIGURES, indent=2))
    terminalreporter.write_line(f"containers: {json.dumps(FIGURES)}")


# Container names, image tags, the compose project and its host ports are fixed, so two test
# sessions on one machine (two clones' make test at once) take turns at this package: the
# second waits for the first to finish with the engine. The wait counts against the first
# test's timeout, hence the longer one here.
ENGINE_LOCK = Path(tempfile.gettempdir()) / "lantern-container-tests.lock"
TURN_TIMEOUT_SECONDS = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.containers)
            item.add_marker(pytest.mark.timeout(TURN_TIMEOUT_SECONDS))


@pytest.fixture(scope="package", autouse=True)
def engine_turn() -> Iterator[None]:
    with ENGINE_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        return Engine(find_client())
    except EngineMissing as missing:
        pytest.skip(f"container tests skipped: {missing}; CI starts one (see .ci/run)")


@pytest.fixture(scope="session")
def python_base(engine: Engine) -> str:
    """The official Python base when it can be had, else the Debian stand-in."""
    completed = subprocess.run(
        [str(ROOT / "tools/containers/python-base.sh")],
        capture_output=True, text=True, timeout=900, check=False,
        env={**engine.env(), "DOCKER": engine.client},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def images(engine: Engine, python_base: str, compose: dict[str, Any]) -> dict[str, Image]:
    """Every image, built as compose builds it (tag ``lantern-shop/<name>:test``)."""
    base_bytes = engine.size(python_base)
    built = {}
    for name in IMAGES:
        tag = f"lantern-shop/{name}:test"
        build = Build.of(compose, name)
        args = {**build.args, "PYTHON_IMAGE": python_base}
        seconds = engine.build(tag, build.dockerfile, build.context, args, build.target)
        built[name] = Image(tag, seconds, engine.size(tag), base_bytes)
    FIGURES["python_base"] = python_base
    FIGURES["images"] = {
        name: {"build_s": round(i.build_seconds, 1), "over_base_mb": round(i.over_base_mb, 1)}
        for name, i in built.items()
    }
    return built


@pytest.fixture(scope="session")
def k8s_local() -> list[dict[str, Any]]:
    """The objects of ``kubectl kustomize k8s/overlays/local``."""
    return render(K8S / "overlays" / "local")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml with its YAML anchors merged."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded
