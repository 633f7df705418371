"""``make bench-check``: fail when a figure of the last ``make bench`` misses its target.

Run by hand (or by a CI job that keeps benchmarks), never by ``make test``: timings do not gate
tests. Reads ``bench/results/latest.json`` and prints one line per target, then exits 1 if any
figure missed or is missing. Targets without a gate (``gate=False``) are goals: printed, never
failed.
"""

from __future__ import annotations

import json
import operator
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True)
class Target:
    op: str  # ">=" or "<="
    bound: float
    gate: bool = True
    each: bool = False  # the figure is a mapping: every value must hold
    zero: str | None = None  # a detail key (in "<key>_detail") that must be 0

    @property
    def text(self) -> str:
        text = f"{self.op} {self.bound:g}" + (" each" if self.each else "")
        if self.zero:
            text += ", 0 failed"
        return text if self.gate else f"({text})"

    def holds(self, value: float) -> bool:
        compare: Callable[[float, float], bool] = operator.ge if self.op == ">=" else operator.le
        return compare(value, self.bound)


TARGETS: dict[str, Target] = {
    "producer_vs_boto3": Target(">=", 0.7),
    "consumer_vs_boto3": Target(">=", 0.7),
    "telemetry_on_vs_off": Target(">=", 0.85),
    "telemetry_cpu_cost_ratio": Target(">=", 0.75),
    # Wall-clock throughput with both producers on one busy box: too noisy to gate on.
    "telemetry_on_vs_off_cpu_bound": Target(">=", 0.85, gate=False),
    "storefront_vs_flask": Target(">=", 0.5),
    "http_worker_vs_gthread": Target(">=", 0.9, zero="ours_failed_requests"),
    "e2e_p99_ms": Target("<=", 1000),
    "rss_mb": Target("<=", 120, each=True),
}


def verdicts(results: dict[str, Any]) -> Iterator[tuple[str, bool | None, str]]:
    """(key, held? None for an ungated goal, what was seen) for every target."""
    for key, target in TARGETS.items():
        value = results.get(key)
        if value is None:
            yield key, False if target.gate else None, "missing"
            continue
        values = list(value.values()) if target.each else [value]
        held = all(target.holds(float(v)) for v in values)
        seen = ", ".join(f"{k} {v}" for k, v in value.items()) if target.each else str(value)
        if target.zero:
            failed = results.get(f"{key}_detail", {}).get(target.zero)
            held = held and failed == 0
            seen += f", {target.zero} {failed}"
        yield key, held if target.gate else None, seen


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0]) if argv else RESULTS
    if not path.is_file():
        print(f"{path}: not found; run make bench first", file=sys.stderr)
        return 1
    results = json.loads(path.read_text())
    about = results.get("run", {})
    print(f"{path.name}: {about.get('date')} on {about.get('machine')}, {about.get('commit')}")
    missed = 0
    for key, held, seen in verdicts(results):
        mark = {True: "ok  ", False: "MISS", None: "goal"}[held]
        missed += held is False
        print(f"  {mark} {key}: {seen} (target {TARGETS[key].text})")
    print(f"{missed} missed" if missed else "every target held")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
