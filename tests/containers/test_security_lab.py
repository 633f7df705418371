"""docs/security.md section 2, run for real: each command the attendee runs with ``kubectl exec``
runs here in the producer image under the producer Deployment's security settings (user,
read-only root, no-new-privileges, dropped capabilities, the /tmp emptyDir), and prints the
answer the page says it prints. The page must show both the command and the answer."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from tests.containers.conftest import Image
from tests.containers.engine import ROOT, Engine
from tests.containers.specs import from_deployment

PAGE = ROOT / "docs" / "security.md"
# (what the page shows after `kubectl -n lantern exec deploy/producer -- `, the answer it shows)
EXECS = [
    ("id", "uid=10001(lantern) gid=10001(lantern) groups=10001(lantern)"),
    ("touch /app/hacked", "touch: cannot touch '/app/hacked': Read-only file system"),
    ("touch /tmp/scratch", ""),  # the emptyDir is writable: no complaint, exit code 0
    ("grep -E 'NoNewPrivs|CapEff' /proc/self/status", "CapEff:\t0000000000000000"),
    ("grep -E 'NoNewPrivs|CapEff' /proc/self/status", "NoNewPrivs:\t1"),
    ('python -c "import os; os.setuid(0)"', "PermissionError: [Errno 1] Operation not permitted"),
]


@pytest.mark.parametrize(("command", "answer"), EXECS, ids=[c for c, _ in EXECS])
def test_the_security_lab_answers_are_what_the_producer_container_says(
    engine: Engine, images: dict[str, Image], k8s_local: list[dict[str, Any]], command: str,
    answer: str,
) -> None:  # fmt: skip
    page = PAGE.read_text()
    assert f"kubectl -n lantern exec deploy/producer -- {command}" in page
    assert answer in page
    spec = from_deployment(k8s_local, "producer")
    program, *args = shlex.split(command)
    done = engine.run_once(images["producer"].tag, [*spec.options, "--entrypoint", program], args)
    output = done.stdout + done.stderr
    assert answer in output, output
    assert (done.returncode == 0) == (answer == "" or program in ("id", "grep")), output
