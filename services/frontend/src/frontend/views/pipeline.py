"""The pipeline page: the workshop room's live view of orders moving through the system."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState
from opentelemetry.instrumentation.utils import suppress_instrumentation

from frontend import pipeline
from frontend.clients import OrderIntake, OrderStatus
from frontend.history import PipelineHistory
from lantern.web import state

REFRESH_MS = 1000  # the page's pace; readings are shared, at most one a second per process


def create_blueprint(
    producer: OrderIntake,
    consumer: OrderStatus,
    *,
    queue: str,
    dlq: str,
    trace_template: str | None,
) -> Blueprint:
    page = Blueprint("pipeline", __name__)

    def read(watched: bool) -> dict[str, Any]:
        # Every open pipeline page reads the services every second: traced, those reads would
        # bury the checkouts in the trace UI. The page's own request is still measured.
        with suppress_instrumentation():
            return pipeline.snapshot(
                producer,
                consumer,
                queue=queue,
                dlq=dlq,
                trace_template=trace_template,
                watched=watched,
            )

    history = PipelineHistory(read)

    def start_with_the_worker(setup: BlueprintSetupState) -> None:
        # Started by the server after the fork, beside the app (never in tests' apps).
        if isinstance(setup.app, Flask):
            state(setup.app).background.append(history)

    page.record_once(start_with_the_worker)

    @page.get("/pipeline")
    def show() -> str:
        present = request.args.get("present") == "1"
        return render_template(
            "pipeline.html",
            snap=history.current(),
            now=time.time(),
            queue=queue,
            dlq=dlq,
            present=present,
            refresh_ms=REFRESH_MS,
        )

    @page.get("/api/pipeline")
    def data() -> Response:
        """The current reading, the server's clock, and the history after ``since`` (all of
        the last ten minutes without it)."""
        since = request.args.get("since", type=float)
        reading = history.current()
        return jsonify({**reading, "now": time.time(), "history": history.points(since)})

    return page
