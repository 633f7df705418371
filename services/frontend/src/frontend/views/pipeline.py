"""The pipeline page: the workshop room's live view of orders moving through the system."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template
from opentelemetry.instrumentation.utils import suppress_instrumentation

from frontend import pipeline
from frontend.clients import OrderIntake, OrderStatus


def create_blueprint(
    producer: OrderIntake,
    consumer: OrderStatus,
    *,
    queue: str,
    dlq: str,
    trace_template: str | None,
) -> Blueprint:
    page = Blueprint("pipeline", __name__)

    def read() -> dict[str, Any]:
        # Every open pipeline page reads three endpoints every two seconds: traced, those reads
        # would bury the checkouts in the trace UI. The page's own request is still measured.
        with suppress_instrumentation():
            return pipeline.snapshot(
                producer, consumer, queue=queue, dlq=dlq, trace_template=trace_template
            )

    @page.get("/pipeline")
    def show() -> str:
        return render_template("pipeline.html", snap=read(), queue=queue, dlq=dlq)

    @page.get("/api/pipeline")
    def data() -> Response:
        return jsonify(read())

    return page
