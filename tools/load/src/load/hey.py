"""Run ``hey`` and read its text summary.

hey exits 0 even when every request failed, so the truth is in the summary: requests/s,
percentiles, the status-code distribution and the errors (requests without an HTTP answer).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class HeyMissing(RuntimeError):
    """hey is not on PATH."""


@dataclass
class HeyResult:
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    total_seconds: float | None = None

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def accepted(self) -> int:
        """202 answers: the orders the producer took responsibility for."""
        return self.statuses.get(202, 0)


def parse_hey(output: str) -> HeyResult:
    """Read hey's default (non-CSV) summary."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"Total:\s+([\d.]+) secs", output)
    p50 = re.search(r"\s50%+ in ([\d.]+) secs", output)
    p99 = re.search(r"\s99%+ in ([\d.]+) secs", output)
    statuses = {
        int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)
    }
    _, _, errors_part = output.partition("Error distribution:")
    errors = {msg.strip(): int(n) for n, msg in re.findall(r"\[(\d+)\]\s+(.+)", errors_part)}
    return HeyResult(
        requests_per_second=float(rps.group(1)) if rps else 0.0,
        p50_ms=float(p50.group(1)) * 1000 if p50 else None,
        p99_ms=float(p99.group(1)) * 1000 if p99 else None,
        statuses=statuses,
        errors=errors,
        total_seconds=float(total.group(1)) if total else None,
    )


def run_hey(
    url: str,
    duration: str,
    concurrency: int,
    rate: float,
    body: Path | None = None,
    timeout: int | None = None,
) -> HeyResult:
    """hey ``url`` for ``duration`` (POSTing the JSON file ``body`` if given), its summary read;
    ``timeout``: seconds a request may take (hey's default is 20)."""
    hey = shutil.which("hey")
    if hey is None:
        raise HeyMissing(
            "hey is not installed: apt-get install hey (Debian/Ubuntu); it is a single Go binary"
        )
    argv = [hey, "-z", duration, "-c", str(concurrency)]
    if rate > 0:
        argv += ["-q", f"{rate:g}"]
    if timeout is not None:
        argv += ["-t", str(timeout)]
    if body is not None:
        argv += ["-m", "POST", "-T", "application/json", "-D", str(body)]
    result = subprocess.run([*argv, url], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"hey failed ({result.returncode}): {result.stderr.strip()}")
    return parse_hey(result.stdout)


def summary_line(name: str, result: HeyResult) -> str:
    codes = " ".join(f"{code}:{n}" for code, n in sorted(result.statuses.items()))
    errors = sum(result.errors.values())
    p50 = f"{result.p50_ms:.1f}" if result.p50_ms is not None else "-"
    p99 = f"{result.p99_ms:.1f}" if result.p99_ms is not None else "-"
    return (
        f"{name:8} {result.requests_per_second:8.1f} req/s   p50 {p50:>7} ms   p99 {p99:>7} ms   "
        f"status {codes or '-'}   errors {errors}"
    )
