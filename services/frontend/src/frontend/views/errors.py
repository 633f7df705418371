"""Error pages in the site's style (HTML), or JSON for the little API the page scripts call."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from lantern.logs import get_logger

log = get_logger("frontend.errors")

TITLES = {
    400: "That request did not make sense",
    404: "We could not find that page",
    405: "That is not how this page works",
    413: "That was more than we can take",
    500: "Something broke on our side",
}
MESSAGES = {
    404: "The page may have moved, or the link has a typo.",
    405: "Try going back and using the buttons on the page.",
    413: "The form you sent was far larger than any order needs.",
    500: "We have logged it. Please try again in a moment.",
}


def _page(status: int, description: str | None) -> tuple[Response | str, int]:
    if request.path.startswith("/api/"):
        return jsonify(error=TITLES.get(status, "error"), status=status), status
    message = description if status in (400, 404) and description else MESSAGES.get(status, "")
    title = TITLES.get(status, "Something went wrong")
    return render_template("error.html", status=status, title=title, message=message), status


def _http_error(exc: HTTPException) -> tuple[Response | str, int]:
    custom = exc.description if exc.description != type(exc).description else None
    return _page(exc.code or 500, custom)


def _unexpected(exc: Exception) -> tuple[Response | str, int]:
    log.exception("unhandled error", path=request.path)
    return _page(500, None)


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
    app.register_error_handler(Exception, _unexpected)
