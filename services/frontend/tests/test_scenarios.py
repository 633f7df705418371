"""The frontend-error-rate scenario turns a share of page views into real 500s, never probes."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from devstack.flags import TEMPLATE, set_variant


def _flags(tmp_path: Path, variant: str) -> str:
    path = tmp_path / "flags.json"
    shutil.copy(TEMPLATE, path)
    set_variant(path, "frontend-error-rate", variant)
    return str(path)


def test_half_of_the_page_views_fail_when_the_flag_says_half(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    client = make_app(FLAGD_OFFLINE_FLAG_SOURCE_PATH=_flags(tmp_path, "half")).test_client()

    pages = Counter(client.get("/products/LNT-001").status_code for _ in range(60))
    probes = Counter(client.get("/healthz").status_code for _ in range(20))

    assert set(pages) == {200, 500}, pages  # 60 draws at 0.5: all-equal odds ~1e-18
    assert probes == Counter({200: 20})
    assert b"Something broke on our side" in _a_failure(client)


def _a_failure(client: object) -> bytes:
    for _ in range(100):
        response = client.get("/")  # type: ignore[attr-defined]
        if response.status_code == 500:
            return bytes(response.data)
    raise AssertionError("no failure in 100 page views")


def test_the_flag_off_means_no_failures(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    client = make_app(FLAGD_OFFLINE_FLAG_SOURCE_PATH=_flags(tmp_path, "off")).test_client()

    assert {client.get("/").status_code for _ in range(30)} == {200}
