"""Slow clients cannot starve the services: 200 connections trickling their headers a byte at a
time leave /healthz and /readyz answering at once, on each service as `make run` starts it.

The control runs the same clients against stock ``gthread`` (the worker the services used
before), where the probe gets no thread and times out: the check can fail. Then the worker's
own contract: a request that does not arrive in ``WEB_READ_TIMEOUT`` is answered 408, and kept
-alive, pipelined and body-carrying requests are served as before.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ShopFactory
from tests.support.net import free_port, http, wait_for
from tests.support.slow import SlowClients, timed_get

ROOT = Path(__file__).resolve().parents[2]
SLOW_CLIENTS = 200
# Far above a probe's few milliseconds (and the 1 s a liveness probe allows), far below the
# 10 s the slow clients are given: a probe answered only once they were cut off fails.
PROBE_TIMEOUT = 4.0
BUFFERING = "lantern.http_worker.BufferingThreadWorker"
SERVICES = ("producer", "consumer", "frontend")


def gunicorn(worker_class: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """The echo app under gunicorn with ``worker_class``: one worker, eight threads."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", "1", "--threads", "8"]
    command += ["-b", f"127.0.0.1:{port}", "tests.support.echo_app:app"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), timeout=30, what=f"gunicorn -k {worker_class}")
        yield port
    finally:
        process.terminate()
        process.wait(30)


def _answers(port: int) -> bool:
    try:
        return http("GET", f"http://127.0.0.1:{port}/", timeout=2)[0] == 200
    except OSError:
        return False


@pytest.fixture
def stock_gthread() -> Iterator[int]:
    yield from gunicorn("gthread")


@pytest.fixture
def buffering() -> Iterator[int]:
    yield from gunicorn(BUFFERING, {"WEB_READ_TIMEOUT": "1"})


@pytest.mark.integration
def test_probes_answer_while_200_slow_clients_hold_connections(shop_factory: ShopFactory) -> None:
    shop = shop_factory(services=SERVICES)

    for service in SERVICES:
        base = shop.stack.config.url(service)
        with SlowClients(shop.stack.config.port(service), SLOW_CLIENTS) as slow:
            probes = [timed_get(f"{base}{path}", PROBE_TIMEOUT) for path in ("/healthz", "/readyz")]
            held = slow.still_held()

        print(f"\n{service}: {held} of {SLOW_CLIENTS} slow clients held; probes {probes}")
        assert [status for status, _ in probes] == [200, 200], service
        assert held == SLOW_CLIENTS, service  # held open: the probes did not win by a drop


@pytest.mark.integration
def test_the_same_slow_clients_starve_stock_gthread(stock_gthread: int) -> None:
    with SlowClients(stock_gthread, 40), pytest.raises(TimeoutError):
        timed_get(f"http://127.0.0.1:{stock_gthread}/healthz", PROBE_TIMEOUT)


@pytest.mark.integration
def test_a_request_not_sent_in_time_is_answered_408_and_closed(buffering: int) -> None:
    with socket.create_connection(("127.0.0.1", buffering), timeout=15) as begun:
        begun.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert begun.recv(200).startswith(b"HTTP/1.1 408 ")
    with socket.create_connection(("127.0.0.1", buffering), timeout=15) as silent:
        assert silent.recv(200) == b""  # nothing asked, nothing answered: just closed


@pytest.mark.integration
def test_kept_alive_pipelined_and_body_requests_are_served(buffering: int) -> None:
    requests = (
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        b"POST /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", buffering), timeout=15) as conn:
        conn.sendall(requests[:40])  # a request split across packets
        conn.sendall(requests[40:])
        answers = _read_until(conn, b"/three 3")
        conn.sendall(b"GET /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers += _read_until(conn, b"/four 0")

    for expected in (b"/one 0", b"/two 5", b"/three 3", b"/four 0"):
        assert expected in answers
    assert answers.count(b"HTTP/1.1 200 OK") == 4


def _read_until(conn: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = conn.recv(4096)
        assert chunk, f"closed before {marker!r}: {data!r}"
        data += chunk
    return data
