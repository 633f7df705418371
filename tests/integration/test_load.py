"""`make load`: hey drives the order API and the summary compares accepted with fulfilled."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from devstack.load import parse_hey
from tests.conftest import ShopFactory

HEY_OUTPUT = """
Summary:
  Total:\t2.0031 secs
  Slowest:\t0.2100 secs
  Fastest:\t0.0020 secs
  Average:\t0.0150 secs
  Requests/sec:\t412.3456

Response time histogram:
  0.002 [700]	|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.210 [120]	|■■■■■■■

Latency distribution:
  10% in 0.0040 secs
  50% in 0.0120 secs
  99% in 0.1800 secs

Status code distribution:
  [202]\t800 responses
  [503]\t20 responses

Error distribution:
  [5]\tPost "http://127.0.0.1:1/orders": dial tcp 127.0.0.1:1: connect: connection refused
"""


def test_hey_summary_is_read_including_failures() -> None:
    result = parse_hey(HEY_OUTPUT)

    assert result.requests_per_second == pytest.approx(412.3456)
    assert result.p50_ms == pytest.approx(12.0)
    assert result.p99_ms == pytest.approx(180.0)
    assert result.statuses == {202: 800, 503: 20}
    assert sum(result.errors.values()) == 5
    assert result.total == 825


def test_load_orders_reports_accepted_equal_to_fulfilled(shop_factory: ShopFactory) -> None:
    assert shutil.which("hey"), "hey is required: apt-get install hey"
    shop = shop_factory()

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.load",
            "orders",
            "--duration",
            "3s",
            "--concurrency",
            "4",
            "--producer",
            shop.producer,
            "--consumer",
            shop.consumer,
            "--drain-patience",
            "15",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    verdict = result.stdout.strip().splitlines()[-1].split()
    accepted, fulfilled = int(verdict[1]), int(verdict[3])
    assert accepted > 0
    assert accepted == fulfilled == len(shop.stored_orders())
    assert verdict[-1] == "OK"
