"""One logging style: keyword fields, and context that follows the code."""

from __future__ import annotations

import threading
from typing import Any

from lantern.logs import bind, get_logger, log_context, new_context

log = get_logger("lantern.tests")


def test_fields_become_top_level_keys(log_lines: list[dict[str, Any]]) -> None:
    log.warning("order not enqueued", order_id="ord_1", error="timeout")
    (line,) = log_lines
    assert line["event"] == "order not enqueued"
    assert line["level"] == "warning"
    assert (line["order_id"], line["error"]) == ("ord_1", "timeout")


def test_context_fields_join_every_line_inside_and_leave_after(
    log_lines: list[dict[str, Any]],
) -> None:
    with log_context(message_id="m-1"):
        log.info("received")
        bind(order_id="ord_2")
        log.info("processed", outcome="fulfilled")
    log.info("idle")
    received, processed, idle = log_lines
    assert received["message_id"] == "m-1"
    assert "order_id" not in received
    assert (processed["message_id"], processed["order_id"]) == ("m-1", "ord_2")
    assert "message_id" not in idle
    assert "order_id" not in idle


def test_a_new_context_drops_the_previous_requests_fields(
    log_lines: list[dict[str, Any]],
) -> None:
    new_context()
    bind(order_id="ord_3")
    new_context()
    log.info("next request")
    assert "order_id" not in log_lines[0]


def test_context_is_per_thread(log_lines: list[dict[str, Any]]) -> None:
    ready = threading.Event()

    def other() -> None:
        ready.wait(10)
        log.info("other thread")

    thread = threading.Thread(target=other)
    thread.start()
    with log_context(order_id="ord_4"):
        ready.set()
        thread.join(10)
    (line,) = log_lines
    assert "order_id" not in line


def test_exception_carries_the_traceback(log_lines: list[dict[str, Any]]) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("unhandled error", path="/x")
    assert "RuntimeError: boom" in log_lines[0]["exception"]
    assert log_lines[0]["path"] == "/x"
