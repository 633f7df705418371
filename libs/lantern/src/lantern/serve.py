"""Run a service under gunicorn: ``python -m producer`` and friends end up here.

Telemetry is initialised inside each worker, after the fork (the app is not preloaded), because
the OpenTelemetry batch processor's thread does not survive a fork. Prometheus multiprocess
files go to ``PROMETHEUS_MULTIPROC_DIR`` (a fresh private directory when unset), emptied when the
master starts and cleaned per worker on exit.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from lantern.settings import SettingsError, env_int, env_str, web_read_timeout


def _defaults(service: str, port: int, workers: int) -> dict[str, Any]:
    env = os.environ
    os.environ.setdefault("OTEL_SERVICE_NAME", service)
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"lantern-{service}-prom-")
    resolved_workers = env_int(env, "WEB_CONCURRENCY", workers, low=1, high=64)
    os.environ["WEB_CONCURRENCY"] = str(resolved_workers)  # the app divides per-process work by it
    web_read_timeout(env)  # checked in the master, read again by each worker
    return {
        "bind": f"{env_str(env, 'HOST', '0.0.0.0')}:{env_int(env, 'PORT', port, low=1, high=65535)}",  # noqa: E501
        "workers": resolved_workers,
        "threads": env_int(env, "WEB_THREADS", 8, low=1, high=256),
        # gthread whose event loop reads each request whole first: slow clients hold no thread.
        "worker_class": "lantern.http_worker.BufferingThreadWorker",
        "graceful_timeout": env_int(env, "GRACEFUL_TIMEOUT", 30, low=1, high=3600),
        "timeout": 60,
        "keepalive": 5,
        "preload_app": False,
        "accesslog": None,  # one JSON line per request comes from lantern.web instead
        "logger_class": "lantern.gunicorn_hooks.GunicornLogger",
        "on_starting": "lantern.gunicorn_hooks:on_starting",
        "post_worker_init": "lantern.gunicorn_hooks:post_worker_init",
        "worker_exit": "lantern.gunicorn_hooks:worker_exit",
        "child_exit": "lantern.gunicorn_hooks:child_exit",
        # gunicorn 27+: no control socket (one fixed path per host would clash between services)
        "control_socket_disable": True,
    }


def serve(
    app_uri: str | None = None,
    *,
    service: str,
    port: int,
    workers: int,
    check_settings: Callable[[], object] | None = None,
) -> None:
    """Serve ``app_uri`` (``module:factory()``, by default the service's own
    ``<service>.app:create_app()``) with this project's gunicorn settings.

    ``check_settings`` is called first, in the master: a bad value stops the service with one
    clear line (and exit code 2) instead of a worker boot loop.
    """
    try:
        options = _defaults(service, port, workers)
        if check_settings is not None:
            check_settings()
    except SettingsError as exc:
        line = {
            "level": "error",
            "service": service,
            "event": "invalid settings",
            "error": str(exc),
        }
        print(json.dumps(line), file=sys.stderr)
        sys.exit(2)
    # Imported after the environment is settled: prometheus_client picks its value class
    # (in-memory or multiprocess files) at import time.
    from gunicorn.app.base import BaseApplication
    from gunicorn.util import import_app

    uri = app_uri or f"{service}.app:create_app()"

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key not in self.cfg.settings:
                    continue  # an option this gunicorn version does not have
                if key in ("on_starting", "post_worker_init", "worker_exit", "child_exit"):
                    value = _hook(value)
                self.cfg.set(key, value)

        def load(self) -> Any:
            return import_app(uri)

    _Server().run()


def _hook(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(__import__(module, fromlist=[name]), name)
