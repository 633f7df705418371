"""make bench-check: which figures hold their targets (no timing is measured here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.check import TARGETS, main, verdicts


def passing() -> dict[str, Any]:
    results: dict[str, Any] = {"run": {"date": "today", "machine": "here", "commit": "abc"}}
    for key, target in TARGETS.items():
        value = target.bound + (0.1 if target.op == ">=" else -0.1)
        results[key] = {"frontend": value, "producer": value} if target.each else value
        if target.zero:
            results[f"{key}_detail"] = {target.zero: 0}
    return results


def test_every_target_holds_on_figures_that_meet_them(tmp_path: Path) -> None:
    path = tmp_path / "latest.json"
    path.write_text(json.dumps(passing()))
    assert all(held in (True, None) for _, held, _ in verdicts(passing()))
    assert main([str(path)]) == 0


def test_a_ratio_below_its_target_fails(tmp_path: Path) -> None:
    results = passing()
    results["storefront_vs_flask"] = 0.49
    path = tmp_path / "latest.json"
    path.write_text(json.dumps(results))
    missed = [key for key, held, _ in verdicts(results) if held is False]
    assert missed == ["storefront_vs_flask"]
    assert main([str(path)]) == 1


def test_one_process_over_its_memory_budget_fails_the_mapping() -> None:
    results = passing()
    results["rss_mb"] = {"frontend": 60.0, "consumer": 121.0}
    assert [key for key, held, _ in verdicts(results) if held is False] == ["rss_mb"]


def test_failed_requests_and_missing_figures_fail_but_goals_never_do() -> None:
    results = passing()
    results["http_worker_vs_gthread_detail"] = {"ours_failed_requests": 3}
    del results["telemetry_cpu_cost_ratio"]
    results["telemetry_on_vs_off_cpu_bound"] = 0.1  # a goal, not a gate
    missed = {key for key, held, _ in verdicts(results) if held is False}
    assert missed == {"http_worker_vs_gthread", "telemetry_cpu_cost_ratio"}


def test_no_results_is_a_failure(tmp_path: Path) -> None:
    assert main([str(tmp_path / "absent.json")]) == 1
