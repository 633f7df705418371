"""Dockerfiles: multi-stage, pinned base, locked dependencies installed before the code, non-root
numeric user, no build tools or secrets in the final image; a small build context."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.markers import Marker

from tests.deploy.support import (
    ROOT,
    SERVICES,
    TOOLS,
    default_port,
    image_tag_problem,
    load_yaml,
)

COMPILERS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|make|cmake|rustc|cargo)\b")
SECRETISH = re.compile(r"(PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE)", re.I)


# The Python images: one Dockerfile, one compose service each (SERVICE, PORT, target from there).
DOCKERFILE = ROOT / "services/Dockerfile"
COMPONENTS = (*SERVICES, *TOOLS)
# Where a workspace package lives: services/<name> for the services, tools/<name> for the tools.
PACKAGE_DIRS = {**{s: f"services/{s}" for s in SERVICES}, **{t: f"tools/{t}" for t in TOOLS}}


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)  # the stage's ARG defaults


def parse(path: Path) -> tuple[list[Stage], dict[str, str]]:
    """Stages of a Dockerfile (continuations joined, comments dropped) and its global ARGs."""
    text = re.sub(r"\\\n", " ", path.read_text())
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif keyword == "ARG" and not stages:
            key, _, value = rest.partition("=")
            args[key.strip()] = value.strip()
        elif stages:
            stages[-1].instructions.append((keyword, rest))
            if keyword == "ARG":
                key, _, value = rest.partition("=")
                stages[-1].args[key.strip()] = value.strip()
    return stages, args


def lineage(stages: list[Stage], target: str | None) -> list[Stage]:
    """The target stage (default: the last) and the named stages it is built FROM, base first."""
    by_name = {s.name: s for s in stages if s.name}
    stage = by_name[target] if target else stages[-1]
    chain = [stage]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


def expand(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), text)


def console_scripts(package_dir: str) -> dict[str, str]:
    project = tomllib.loads((ROOT / package_dir / "pyproject.toml").read_text())["project"]
    scripts: dict[str, str] = project.get("scripts", {})
    return scripts


def dockerfile_problems(
    path: Path,
    component: str | None,
    build_args: dict[str, str] | None = None,
    target: str | None = None,
) -> list[str]:
    """What breaks the image contract when ``path`` is built for ``component`` (None: a
    deploy tool's own Dockerfile) with these build arguments and target stage."""
    stages, _ = parse(path)
    problems = []
    for stage in stages:
        if not any(stage.base == s.name for s in stages) and (p := image_tag_problem(stage.base)):
            problems.append(f"FROM {p}")
    if target is not None and not any(s.name == target for s in stages):
        return [*problems, f"no stage {target}"]
    final = [i for s in lineage(stages, target) for i in s.instructions]  # what the image runs
    users = [rest for kw, rest in final if kw == "USER"]
    if not users or not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]):
        problems.append(f"final stage USER {users[-1:] or 'missing'} is not a numeric non-root id")
    for keyword, rest in final:
        if keyword == "RUN" and "install" in rest and COMPILERS.search(rest):
            problems.append(f"final stage installs build tools: {rest}")
        keys = re.findall(r"(\w+)=", rest) if keyword in ("ENV", "ARG") else []
        if any(SECRETISH.search(key) for key in keys):
            problems.append(f"{keyword} {rest}: secrets do not belong in an image")
    if component is None:
        return problems
    if len(stages) < 2:
        problems.append("single stage: build tools and caches would ship")
    chain = lineage(stages, target)
    build_stages = [s for s in stages if all(s is not c for c in chain)]
    values = {k: v for s in stages for k, v in s.args.items() if v}
    values.update(build_args or {})
    values = {k: expand(v, values) for k, v in values.items()}  # ARG SOURCE=services/${SERVICE}
    build = [(kw, expand(rest, values)) for s in build_stages for kw, rest in s.instructions]
    package_dir = PACKAGE_DIRS[component]
    syncs = [i for i, (kw, rest) in enumerate(build) if kw == "RUN" and "uv sync" in rest]
    code = [i for i, (kw, rest) in enumerate(build) if kw == "COPY" and package_dir in rest]
    lock = [i for i, (kw, rest) in enumerate(build) if kw == "COPY" and "uv.lock" in rest]
    if not syncs or not lock or not code:
        problems.append(f"dependencies are not installed with uv sync from uv.lock, or no COPY "
                        f"of {package_dir}")  # fmt: skip
    else:
        if not all("--frozen" in build[i][1] for i in syncs):
            problems.append("uv sync without --frozen may re-resolve instead of using uv.lock")
        if not lock[0] < syncs[0] < code[0]:
            problems.append(
                "dependencies must be installed (from uv.lock) before the code is copied"
            )
        if not all(re.search(rf'--package "?lantern-{component}\b', build[i][1]) for i in syncs):
            problems.append(f"uv sync must install only lantern-{component}")
    # One CMD for every image: `lantern-run`, linked to the package's own console script.
    cmd = [rest for kw, rest in final if kw == "CMD"]
    if cmd[-1:] != ['["lantern-run"]']:
        problems.append(f"CMD {cmd} does not run lantern-run")
    script = f"lantern-{component}"
    if not any(kw == "RUN" and f"ln -s {script} /app/.venv/bin/lantern-run" in rest.replace('"', "")
               for kw, rest in build):  # fmt: skip
        problems.append(f"lantern-run is not linked to {script}")
    if not console_scripts(package_dir).get(script, "").endswith(":main"):
        problems.append(f"{package_dir}/pyproject.toml declares no console script {script}")
    healthchecks = [rest for kw, rest in final if kw == "HEALTHCHECK"]
    exposed = [expand(rest, values) for kw, rest in final if kw == "EXPOSE"]
    if component in TOOLS:
        # a one-shot job: nothing listens, so nothing to expose or probe
        if healthchecks or exposed:
            problems.append(f"the {component} job's stage exposes a port or has a HEALTHCHECK")
        return problems
    if not healthchecks:
        problems.append("no HEALTHCHECK")
    port = str(default_port(component))
    env = " ".join(expand(rest, values) for kw, rest in final if kw == "ENV")
    if f"PORT={port}" not in env or exposed != [port]:
        problems.append(f"PORT/EXPOSE do not match the service's default {port}")
    return problems


def compose_build(component: str) -> tuple[dict[str, str], str | None]:
    """The build arguments (set values only) and target compose builds ``component`` with."""
    build = load_yaml(ROOT / "docker-compose.yml")["services"][component]["build"]
    assert ROOT / build["context"] / build["dockerfile"] == DOCKERFILE, build
    assert "PYTHON_IMAGE" in build["args"], "PYTHON_IMAGE must pass through to every build"
    args = dict(str(a).partition("=")[::2] for a in build["args"] if "=" in str(a))
    return args, build.get("target")


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_python_image_follows_the_image_contract(component: str) -> None:
    args, target = compose_build(component)
    assert args["SERVICE"] == component
    assert dockerfile_problems(DOCKERFILE, component, args, target) == []


def test_one_dockerfile_defines_every_python_image() -> None:
    """A fix lands once: no service keeps a Dockerfile of its own."""
    assert sorted(ROOT.glob("services/*/Dockerfile")) == []
    assert sorted(ROOT.glob("tools/*/Dockerfile")) == []


def test_dockerfile_checks_catch_mistakes(tmp_path: Path) -> None:
    good = DOCKERFILE.read_text()
    producer = {"SERVICE": "producer", "PORT": "8081"}
    mutations = {
        "latest base": (good.replace("python:3.13.13-slim-trixie", "python:latest"), producer),
        "root user": (good.replace("USER 10001:10001", "USER root"), producer),
        "no lock": (good.replace("--frozen", ""), producer),
        "code first": (
            good.replace(
                "COPY pyproject.toml uv.lock ./",
                "COPY ${SOURCE} ${SOURCE}\nCOPY pyproject.toml uv.lock ./",
            ),
            producer,
        ),
        "compilers": (
            good.replace(
                "FROM ${PYTHON_IMAGE} AS runtime",
                "FROM ${PYTHON_IMAGE} AS runtime\nRUN apt-get install -y gcc",
            ),
            producer,
        ),
        "secret": (
            good.replace("PYTHONUNBUFFERED=1", "AWS_SECRET_ACCESS_KEY=abc PYTHONUNBUFFERED=1"),
            producer,
        ),
        "no healthcheck": (good.replace("HEALTHCHECK", "# HEALTHCHECK"), producer),
        "another command": (good.replace('CMD ["lantern-run"]', 'CMD ["python"]'), producer),
        "wrong port": (good, {**producer, "PORT": "8080"}),
    }
    for name, (text, args) in mutations.items():
        assert text != good or args != producer, name
        path = tmp_path / f"{name}.Dockerfile"
        path.write_text(text)
        assert dockerfile_problems(path, "producer", args), name
    path = tmp_path / "job.Dockerfile"
    path.write_text(good.replace("FROM runtime AS job", "FROM runtime AS job\nEXPOSE 8080"))
    provision = {"SERVICE": "provision", "SOURCE": "tools/provision"}
    assert dockerfile_problems(path, "provision", provision, "job")
    assert dockerfile_problems(DOCKERFILE, "provision", provision, None)  # the service target
    assert dockerfile_problems(DOCKERFILE, "consumer", {"SERVICE": "producer", "PORT": "8082"})


def python_version(dockerfile: Path) -> str:
    _, args = parse(dockerfile)
    match = re.match(r"python:(\d+)\.(\d+)", args["PYTHON_IMAGE"])
    assert match, args
    return f"{match.group(1)}.{match.group(2)}"


def locked_packages(service: str, python: str, machine: str) -> list[tuple[str, str]]:
    """(name, version) of every third-party package the service's image installs."""
    exported = subprocess.run(
        ["uv", "export", "--frozen", "--no-dev", "--no-hashes", "--package", f"lantern-{service}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    environment = {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    packages = []
    for line in exported.splitlines():
        requirement, _, marker = line.partition(";")
        if "==" not in requirement or requirement.lstrip().startswith(("#", "-e")):
            continue
        if marker.strip() and not Marker(marker.strip()).evaluate(environment):
            continue
        name, version = requirement.strip().split("==")
        packages.append((name, version))
    return packages


def wheel_fits(filename: str, python: str, machine: str) -> bool:
    """A wheel pip/uv would install on Debian (glibc) for this CPython and CPU."""
    _, _, python_tag, abi_tag, platform_tag = filename[: -len(".whl")].rsplit("-", 4)
    if platform_tag == "any":
        return (
            python_tag.startswith(("py3", "py2.py3"))
            or python_tag == f"cp{python.replace('.', '')}"
        )
    if "manylinux" not in platform_tag or machine not in platform_tag:
        return False
    minor = int(python.split(".")[1])
    tags = python_tag.split(".")
    if abi_tag == "abi3":
        return any(int(t[3:]) <= minor for t in tags if t.startswith("cp3"))
    return f"cp3{minor}" in tags


@pytest.mark.parametrize("service", COMPONENTS)
@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_every_locked_dependency_installs_from_a_wheel(service: str, machine: str) -> None:
    """No compiler is ever needed: each package has a wheel for the image's CPython on Intel
    and on ARM (Apple silicon laptops build linux/arm64 images)."""
    python = python_version(DOCKERFILE)
    lock = {
        (p["name"], p["version"]): p
        for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
        if "version" in p
    }
    packages = locked_packages(service, python, machine)
    assert len(packages) > 5  # not an empty export: a tool locks ~9 packages, a service ~50
    missing = [
        f"{name}=={version}"
        for name, version in packages
        if not any(
            wheel_fits(w["url"].rsplit("/", 1)[1], python, machine)
            for w in lock[(name, version)].get("wheels", [])
        )
    ]
    assert missing == []


def test_wheel_check_tells_platforms_apart() -> None:
    assert wheel_fits("grpcio-1.85.1-cp313-cp313-manylinux_2_17_aarch64.whl", "3.13", "aarch64")
    assert not wheel_fits("grpcio-1.85.1-cp313-cp313-manylinux_2_17_aarch64.whl", "3.13", "x86_64")
    assert not wheel_fits("grpcio-1.85.1-cp312-cp312-manylinux_2_17_x86_64.whl", "3.13", "x86_64")
    assert not wheel_fits("x-1.0-cp313-cp313-musllinux_1_2_x86_64.whl", "3.13", "x86_64")
    assert wheel_fits("c-46.0-cp311-abi3-manylinux_2_34_x86_64.whl", "3.13", "x86_64")
    assert wheel_fits("flask-3.1.3-py3-none-any.whl", "3.13", "x86_64")


def test_build_context_holds_only_what_the_images_need() -> None:
    """Apply .dockerignore (Docker's last-match-wins rules) to the tracked files."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        verdict = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            body = pattern.lstrip("!").rstrip("/")
            parts = path.split("/")
            prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            regex = fnmatch.translate(body).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
            if body.startswith("**/"):
                hit = any(fnmatch.fnmatch(p, body[3:]) for p in parts)
            else:
                hit = any(re.match(regex, prefix) for prefix in prefixes)
            if hit:
                verdict = not negate
        return verdict

    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    context = [f for f in tracked if not ignored(f)]
    assert "uv.lock" in context
    assert "pyproject.toml" in context
    assert any(f.startswith("libs/lantern/src/lantern/") for f in context)
    for package_dir in PACKAGE_DIRS.values():
        assert f"{package_dir}/pyproject.toml" in context
    unexpected = [
        f
        for f in context
        if not re.match(
            r"^(pyproject\.toml|uv\.lock|libs/lantern/(pyproject\.toml|src/.*)|"
            r"(services/\w+|tools/(provision|load))/(pyproject\.toml|src/.*))$",
            f,
        )
    ]
    assert unexpected == []
    assert not any("/tests/" in f or f.endswith(".pyc") for f in context)
