"""A thin wrapper around the Docker command line, as a user would type it.

Containers run with ``--network host``: it works on every engine (including one started with
``--bridge=none``), and the tests' own receivers and AWS endpoint are then on 127.0.0.1.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class EngineMissing(Exception):
    """No Docker engine answers, or no client here can build with BuildKit."""


def _run(args: Sequence[str], timeout: float = 60, check: bool = True) -> str:
    completed = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and completed.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({completed.returncode}):\n{completed.stderr}"
        )
    return completed.stdout


def _builds_with_buildkit(client: str) -> bool:
    """Docker 23+ clients build with BuildKit only through the buildx plugin; older ones
    (Debian's docker.io 20.10) carry BuildKit themselves and use it with DOCKER_BUILDKIT=1."""
    version = _run([client, "version", "-f", "{{.Client.Version}}"], check=False).strip()
    major = int(version.split(".")[0]) if version[:1].isdigit() else 0
    if 0 < major < 23:
        return True
    return subprocess.run([client, "buildx", "version"], capture_output=True).returncode == 0


@functools.cache
def find_client() -> str:
    """The first Docker client that reaches an engine and can build the Dockerfiles."""
    candidates = [shutil.which("docker"), "/usr/bin/docker"]
    reached = False
    for client in dict.fromkeys(c for c in candidates if c and os.access(c, os.X_OK)):
        if subprocess.run([client, "info"], capture_output=True, timeout=20).returncode != 0:
            continue
        reached = True
        if _builds_with_buildkit(client):
            return client
    if reached:
        raise EngineMissing("a Docker engine answers, but no client here builds with BuildKit")
    raise EngineMissing("no Docker engine reachable (`docker info` failed)")


@dataclass
class Container:
    name: str
    engine: Engine

    def inspect(self) -> dict[str, Any]:
        found: list[dict[str, Any]] = json.loads(
            self.engine.docker("inspect", self.name, check=False) or "[]"
        )
        return found[0] if found else {}

    def logs(self) -> str:
        completed = subprocess.run(
            [self.engine.client, "logs", self.name], capture_output=True, text=True, timeout=30
        )
        return completed.stdout + completed.stderr

    def stop(self, grace: int = 30) -> tuple[float, int]:
        """``docker stop``: SIGTERM, then SIGKILL after ``grace`` s; (seconds taken, exit code)."""
        started = time.monotonic()
        self.engine.docker("stop", "-t", str(grace), self.name, timeout=grace + 30)
        return time.monotonic() - started, int(self.inspect()["State"]["ExitCode"])

    def health(self) -> str:
        state = self.inspect().get("State", {})
        return str(state.get("Health", {}).get("Status", "none"))

    def running(self) -> bool:
        return bool(self.inspect().get("State", {}).get("Running"))

    def remove(self) -> None:
        self.engine.docker("rm", "-f", self.name, check=False)


@dataclass
class Engine:
    client: str

    def docker(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        return _run([self.client, *args], timeout=timeout, check=check)

    def env(self) -> dict[str, str]:
        """The environment for a docker (or compose) process: BuildKit on, this client first."""
        path = f"{Path(self.client).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "DOCKER_BUILDKIT": "1", "COMPOSE_DOCKER_CLI_BUILD": "1", "PATH": path}

    def build(
        self,
        tag: str,
        dockerfile: Path,
        context: Path,
        args: dict[str, str],
        target: str | None = None,
    ) -> float:
        """Build an image with these build arguments (and target stage); return the seconds."""
        started = time.monotonic()
        completed = subprocess.run(
            [
                self.client,
                "build",
                "--network",
                "host",
                "-q",
                "-t",
                tag,
                "-f",
                str(dockerfile),
                *(arg for k, v in args.items() for arg in ("--build-arg", f"{k}={v}")),
                *(["--target", target] if target else []),
                str(context),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env=self.env(),
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"building {tag} failed:\n{completed.stderr[-4000:]}")
        return time.monotonic() - started

    def size(self, image: str) -> int:
        return int(self.docker("image", "inspect", "-f", "{{.Size}}", image).strip())

    def run(
        self, name: str, image: str, options: Sequence[str], command: Sequence[str] = ()
    ) -> Container:
        """``docker run -d`` on the host network; removes a leftover of the same name first."""
        container = Container(name, self)
        container.remove()
        self.docker("run", "-d", "--name", name, "--network", "host", *options, image, *command)
        return container

    def run_once(
        self, image: str, options: Sequence[str], command: Sequence[str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``docker run --rm`` in the foreground; the finished process (exit code, output)."""
        return subprocess.run(
            [self.client, "run", "--rm", "--network", "host", *options, image, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
