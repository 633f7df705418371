"""What each built image holds: its service's dependencies and no others, a non-root user, the
command and probe of the one Dockerfile definition, and for the load image a working ``hey``.
Sizes over the base are reported (test-artifacts/containers.json).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.containers.conftest import Image
from tests.containers.engine import Engine

AWS_SDK = ("boto3", "botocore", "s3transfer", "aws_xray_sdk")
# Which AWS SDK modules each service image must (True) or must not (False) carry.
CARRIES_AWS_SDK = {"producer": True, "consumer": True, "frontend": False}


def installed(engine: Engine, image: Image, modules: tuple[str, ...]) -> list[str]:
    probe = f"import importlib.util as u, json; print(json.dumps([m for m in {modules!r} if u.find_spec(m)]))"  # noqa: E501
    found: list[str] = json.loads(engine.docker("run", "--rm", image.tag, "python", "-c", probe))
    return found


@pytest.mark.parametrize("service", sorted(CARRIES_AWS_SDK))
def test_each_service_image_installs_what_its_service_imports(
    engine: Engine, images: dict[str, Image], service: str
) -> None:
    found = installed(engine, images[service], AWS_SDK)
    assert found == (list(AWS_SDK) if CARRIES_AWS_SDK[service] else []), found
    # and the service itself imports and builds its app inside its own image
    check = f"import {service}.app as a; a.create_app"
    engine.docker("run", "--rm", "-e", "LANTERN_DEV=1", images[service].tag, "python", "-c", check)


@pytest.mark.parametrize("name", ["producer", "consumer", "frontend", "provision", "load"])
def test_images_run_as_a_numeric_non_root_user(
    engine: Engine, images: dict[str, Image], name: str
) -> None:
    user = engine.docker("image", "inspect", "-f", "{{.Config.User}}", images[name].tag).strip()
    assert user == "10001:10001"


def config(engine: Engine, image: Image) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        engine.docker("image", "inspect", "-f", "{{json .Config}}", image.tag)
    )
    return found


@pytest.mark.parametrize("name", ["producer", "consumer", "frontend", "provision", "load"])
def test_one_definition_runs_each_packages_own_command(
    engine: Engine, images: dict[str, Image], name: str
) -> None:
    """Every image of services/Dockerfile runs ``lantern-run``: its package's console script;
    a service image listens on its port and probes it, the two tools' jobs have neither."""
    image = images[name]
    settings = config(engine, image)
    assert settings["Cmd"] == ["lantern-run"]
    target = engine.docker("run", "--rm", "--entrypoint", "readlink", image.tag,
                           "/app/.venv/bin/lantern-run").strip()  # fmt: skip
    assert target == f"lantern-{name}"
    if name in ("provision", "load"):
        assert not settings.get("ExposedPorts")
        assert not settings.get("Healthcheck")
        assert not [e for e in settings["Env"] if e.startswith("PORT=")]
    else:
        port = next(e.split("=", 1)[1] for e in settings["Env"] if e.startswith("PORT="))
        assert list(settings["ExposedPorts"]) == [f"{port}/tcp"]
        assert settings["Healthcheck"]["Test"][0] == "CMD"


def test_the_tools_live_in_their_own_images_with_the_aws_sdk_only(
    engine: Engine, images: dict[str, Image]
) -> None:
    """Provisioning and the load driver are workspace tools: no service image carries them, and
    they carry boto3 but no web server, metrics or tracing SDK (lantern's core plus [aws])."""
    tools = ("provision", "load")
    service_side = ("flask", "gunicorn", "prometheus_client", "opentelemetry.sdk")
    for service in sorted(CARRIES_AWS_SDK):
        assert installed(engine, images[service], tools) == [], service
    for tool in tools:
        assert installed(engine, images[tool], (tool, "boto3", *service_side)) == [tool, "boto3"]


def test_the_load_image_has_hey_and_its_driver(engine: Engine, images: dict[str, Image]) -> None:
    """(test_pipeline runs the load job against the shop; this only checks what it ships.)"""
    tag = images["load"].tag
    shell = ("--entrypoint", "sh", tag, "-c")
    assert engine.docker("run", "--rm", *shell, "command -v hey").strip() == "/usr/bin/hey"
    assert "python -m load" in engine.docker("run", "--rm", tag, "lantern-run", "--help")


def test_the_storefront_refuses_xray_mode_with_one_clear_line(
    engine: Engine, images: dict[str, Image]
) -> None:
    """It carries no X-Ray SDK, so TRACING_MODE=xray stops it at start, not in a worker loop."""
    finished = engine.run_once(
        images["frontend"].tag, ["-e", "TRACING_MODE=xray", "-e", "LANTERN_DEV=1"], [], timeout=60
    )
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert "does not carry the AWS X-Ray SDK" in finished.stderr
