"""`docker run` options read from what the project ships: a rendered Kubernetes Deployment, or a
docker-compose.yml service. Nothing about hardening is restated here.

The one thing replaced is where things are: in a cluster or a compose network, services find each
other by name (``http://elasticmq:9324``); these containers share the host's network instead, so
each address a manifest names is swapped for the loopback address of the test's own stand-in
(moto for SQS/DynamoDB, the test's OTLP receiver, the other containers' ports).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deploy.support import containers, named, pod_template

# Secrets a Deployment references but the repository rightly does not hold: (name, key) -> value.
Secrets = dict[tuple[str, str], str]
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}


def memory_bytes(quantity: str | int) -> int:
    """A Kubernetes or compose memory quantity (``512Mi``, ``1G``, ``256m``) in bytes."""
    text = str(quantity).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]i?|[kmg]b?|b)?", text, re.I)
    if match is None:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    number, unit = float(match.group(1)), match.group(2) or ""
    if unit in _BINARY:
        return int(number * _BINARY[unit])
    # compose style (256m, 1g, 512mb): powers of 1024, as Docker reads them
    scale = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}[unit.lower().rstrip("b") or ""]
    return int(number * scale)


def cpu_cores(quantity: str | int | float) -> float:
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


@dataclass
class RunSpec:
    """What ``docker run`` needs for one service, as the manifest declares it."""

    env: dict[str, str]
    options: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)

    def relocate(self, addresses: dict[str, str]) -> RunSpec:
        """Swap the addresses this spec names (only keys it has) for loopback ones."""
        env = {**self.env, **{k: v for k, v in addresses.items() if k in self.env}}
        return RunSpec(env, list(self.options), list(self.command))

    def args(self, extra_env: dict[str, str] | None = None) -> list[str]:
        env = {**self.env, **(extra_env or {})}
        return [*self.options, *(arg for k, v in env.items() for arg in ("-e", f"{k}={v}"))]


def _config_maps(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}


def _env_of(
    container: dict[str, Any], maps: dict[str, dict[str, str]], secrets: Secrets
) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(maps[source["configMapRef"]["name"]])
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        elif "secretKeyRef" in entry.get("valueFrom", {}):
            ref = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = secrets[(ref["name"], ref["key"])]
        else:
            raise AssertionError(f"env {entry['name']}: no docker equivalent in these tests")
    return env


def _volume_options(
    template: dict[str, Any], container: dict[str, Any], maps: dict[str, dict[str, str]]
) -> list[str]:
    volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
    options: list[str] = []
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "emptyDir" in volume:
            size = volume["emptyDir"].get("sizeLimit")
            limit = f",size={memory_bytes(size)}" if size else ""
            options += ["--tmpfs", f"{mount['mountPath']}:mode=0777{limit}"]
        elif "configMap" in volume:
            # The ConfigMap's files, written out and mounted read-only like the kubelet does.
            folder = Path(tempfile.mkdtemp(prefix=f"cm-{volume['configMap']['name']}-"))
            for key, text in maps[volume["configMap"]["name"]].items():
                (folder / key).write_text(text)
            folder.chmod(0o755)
            mode = "ro" if mount.get("readOnly") else "rw"
            options += ["-v", f"{folder}:{mount['mountPath']}:{mode}"]
        else:
            raise AssertionError(f"volume {mount['name']}: no docker equivalent in these tests")
    return options


def from_deployment(
    objects: list[dict[str, Any]], name: str, secrets: Secrets | None = None
) -> RunSpec:
    """The `docker run` equivalent of Deployment ``name``'s first container; ``secrets`` stands
    in for the Secrets it references (created by hand in a cluster, never committed)."""
    template = pod_template(named(objects, "Deployment", name))
    assert template is not None
    container = containers(template, init=False)[0]
    pod_security = template["spec"].get("securityContext", {})
    security = {**pod_security, **container.get("securityContext", {})}
    options: list[str] = []
    if "runAsUser" in security:
        options += ["--user", f"{security['runAsUser']}:{security.get('runAsGroup', 0)}"]
    if security.get("readOnlyRootFilesystem"):
        options.append("--read-only")
    if security.get("allowPrivilegeEscalation") is False:
        options += ["--security-opt", "no-new-privileges"]
    capabilities = security.get("capabilities", {})
    options += [arg for cap in capabilities.get("drop", []) for arg in ("--cap-drop", cap)]
    options += [arg for cap in capabilities.get("add", []) for arg in ("--cap-add", cap)]
    seccomp = security.get("seccompProfile", {}).get("type", "RuntimeDefault")
    if seccomp != "RuntimeDefault":  # Docker's default profile is the runtime default
        raise AssertionError(f"{name}: seccomp {seccomp} has no docker equivalent here")
    limits = container.get("resources", {}).get("limits", {})
    if "memory" in limits:
        options += ["--memory", str(memory_bytes(limits["memory"]))]
    if "cpu" in limits:
        options += ["--cpus", str(cpu_cores(limits["cpu"]))]
    maps = _config_maps(objects)
    options += _volume_options(template, container, maps)
    command = [*container.get("command", []), *container.get("args", [])]
    return RunSpec(_env_of(container, maps, secrets or {}), options, command)


def from_compose(compose: dict[str, Any], name: str, project_dir: Path) -> RunSpec:
    """The `docker run` equivalent of compose service ``name`` (anchors already merged)."""
    service = compose["services"][name]
    options: list[str] = []
    if "user" in service:
        options += ["--user", str(service["user"])]
    if service.get("read_only"):
        options.append("--read-only")
    options += [arg for mount in service.get("tmpfs", []) for arg in ("--tmpfs", mount)]
    options += [arg for cap in service.get("cap_drop", []) for arg in ("--cap-drop", cap)]
    options += [arg for opt in service.get("security_opt", []) for arg in ("--security-opt", opt)]
    if "mem_limit" in service:
        options += ["--memory", str(memory_bytes(service["mem_limit"]))]
    for volume in service.get("volumes", []):
        source, _, target = str(volume).partition(":")
        if source.startswith("."):
            source = str((project_dir / source).resolve())
        options += ["-v", f"{source}:{target}"]
    env = {key: interpolate(str(v)) for key, v in (service.get("environment") or {}).items()}
    command = service.get("command", [])
    return RunSpec(env, options, list(command) if isinstance(command, list) else [command])


def interpolate(value: str, environ: dict[str, str] | None = None) -> str:
    """Compose's ``${NAME}`` and ``${NAME:-default}``, from ``environ`` (default: none set)."""
    values = environ or {}

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3) or ""
        return values.get(name) or default

    return re.sub(r"\$\{(\w+)(:?-([^}]*))?\}", substitute, value)


def as_json(spec: RunSpec) -> str:
    """For failure messages: what the container was started with."""
    return json.dumps({"options": spec.options, "env": spec.env, "command": spec.command})
