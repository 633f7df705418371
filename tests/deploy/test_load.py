"""The load tool (deploy/load/loadtest.py) drives the real ``hey`` and reads its summary right.

A stub shop on loopback answers like the real one (202 for orders, queue depths on /queues), so
the whole run takes about two seconds and sends traffic nowhere else.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.support import DEPLOY


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("loadtest", DEPLOY / "load/loadtest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


loadtest = load_module()

HEY_OUTPUT = """
Summary:
  Total:\t2.0031 secs
  Slowest:\t0.0412 secs
  Fastest:\t0.0011 secs
  Average:\t0.0052 secs
  Requests/sec:\t1497.1234

Latency distribution:
  10%% in 0.0021 secs
  50%% in 0.0043 secs
  99%% in 0.0301 secs

Status code distribution:
  [202]\t2900 responses
  [503]\t99 responses

Error distribution:
  [1]\tPost "http://producer:8081/orders": context deadline exceeded
"""


def test_summary_of_hey_is_read_from_its_sections() -> None:
    result = loadtest.parse_hey(HEY_OUTPUT.replace("%%", "%"))
    assert result.requests_per_second == pytest.approx(1497.1234)
    assert result.percentiles[50] == pytest.approx(0.0043)
    assert result.percentiles[99] == pytest.approx(0.0301)
    assert result.statuses == {202: 2900, 503: 99}
    assert result.errors == 1
    line = loadtest.describe("orders", result)
    for part in ("2999 responses", "1497.1 req/s", "p50 4 ms", "p99 30 ms", "202 x2900, 503 x99"):
        assert part in line
    assert "1 without a response" in line


class StubShop(BaseHTTPRequestHandler):
    orders = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/queues":
            self._send(
                200,
                {
                    "orders": {"visible": 0, "in_flight": 0},
                    "orders-dlq": {"visible": 0, "in_flight": 0},
                },
            )
        else:
            self._send(200, {"page": "shop"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        ok = self.path == "/orders" and self.headers["Content-Type"] == "application/json"
        if ok and body["items"][0]["sku"]:
            with self.lock:
                StubShop.orders += 1
            self._send(202, {"order_id": "ord_x", "status": "queued"})
        else:
            self._send(415, {"error": "unsupported_media_type"})


@pytest.fixture
def stub_shop() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubShop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_load_run_reports_accepted_and_fulfilled_orders(
    stub_shop: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("hey") is None:
        pytest.fail("hey is not installed (Debian package: hey)")
    for name in ("FRONTEND_URL", "PRODUCER_URL", "CONSUMER_URL"):
        monkeypatch.setenv(name, stub_shop)
    monkeypatch.setenv("LOAD_DURATION", "1s")
    monkeypatch.setenv("LOAD_CONCURRENCY", "2")
    monkeypatch.setenv("LOAD_RATE", "20")  # per worker: about 40 requests per target
    monkeypatch.setenv("QUEUE_DEPTH_INTERVAL_SECONDS", "0.2")
    StubShop.orders = 0

    assert loadtest.main() == 0

    out = capsys.readouterr().out
    accepted = StubShop.orders
    assert 5 <= accepted <= 60
    assert f"202 x{accepted}" in out  # the content type was application/json, not hey's text/html
    assert f"orders   {accepted} accepted, {accepted} fulfilled, 0 dead-lettered" in out
    assert "shop    " in out
    assert "status 200 x" in out
