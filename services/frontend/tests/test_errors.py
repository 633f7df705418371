"""Errors are pages in the site's style, never a stack trace or a bare JSON body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask


def test_an_unexpected_error_is_a_friendly_500(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "Something broke on our side" in page
    assert "secret internals" not in page
    assert "Traceback" not in page


def test_a_wrong_method_is_a_friendly_405(make_app: Any) -> None:
    response = make_app().test_client().get("/cart/add")

    assert response.status_code == 405
    assert "That is not how this page works" in response.get_data(as_text=True)
