"""The storefront's peer: a bare Flask "hello" app, served with the very same gunicorn settings.

python -m bench.hello   (PORT, WEB_CONCURRENCY, WEB_THREADS as for the services)
"""

from __future__ import annotations

from flask import Flask

from lantern.serve import serve


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "hello"

    return app


if __name__ == "__main__":
    serve("bench.hello:create_app()", service="hello", port=8090, workers=2)
