"""Gunicorn server hooks and logger for :mod:`lantern.serve`."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from lantern import logs, web
from lantern.settings import LogSettings
from lantern.telemetry.metrics import mark_process_dead, reset_multiproc_dir


class GunicornLogger(Logger):  # type: ignore[misc]
    """Sends gunicorn's own messages through the service's JSON logging on stdout."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # The same settings each worker's telemetry reads, so the worker finds logging done.
        logs.configure_logging(LogSettings.from_env("lantern"))
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True
        self.access_log.disabled = True


def on_starting(server: Any) -> None:
    reset_multiproc_dir()


def _lantern_app(worker: Any) -> Any:
    """The worker's app when it is a Lantern service (a bare app, e.g. a benchmark peer, is not)."""
    app = getattr(worker, "wsgi", None)
    return app if "lantern" in getattr(app, "extensions", {}) else None


def post_worker_init(worker: Any) -> None:
    app = _lantern_app(worker)
    if app is not None:
        web.start_background(app)


def worker_exit(server: Any, worker: Any) -> None:
    app = _lantern_app(worker)
    if app is not None:
        web.shutdown(app, timeout=max(1.0, float(server.cfg.graceful_timeout) - 2))
    logging.shutdown()


def child_exit(server: Any, worker: Any) -> None:
    mark_process_dead(worker.pid)
