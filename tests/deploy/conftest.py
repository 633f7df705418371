"""Render every overlay once per session (in parallel: kustomize is the slow part)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.deploy.support import K8S, OVERLAYS, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """overlay name -> the objects ``kubectl kustomize k8s/overlays/<name>`` produces."""
    with ThreadPoolExecutor(max_workers=len(OVERLAYS)) as pool:
        results = pool.map(lambda name: render(K8S / "overlays" / name), OVERLAYS)
        return dict(zip(OVERLAYS, results, strict=True))
