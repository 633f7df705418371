"""Storefront settings, read once from the environment.

``SECRET_KEY`` signs the session cookie (the cart) and so must be the same in every worker and
every replica: it is required. ``LANTERN_DEV=1`` allows a throwaway random key for a laptop run
(``python -m frontend`` creates it once, before gunicorn forks, so both workers share it).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from frontend.tracelinks import PLACEHOLDERS
from lantern.settings import (
    AwsSettings,
    SettingsError,
    TelemetrySettings,
    env_bool,
    env_float,
    env_optional,
    env_str,
    flag_file,
)

SERVICE = "frontend"
MIN_SECRET_CHARS = 16
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrontendSettings:
    telemetry: TelemetrySettings
    secret_key: str
    producer_url: str
    consumer_url: str
    trace_ui_url: str | None  # a template with "{trace_id}", e.g. a Jaeger trace page
    queue_name: str
    dlq_name: str
    session_cookie_secure: bool
    upstream_timeout_seconds: float
    flag_file: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> FrontendSettings:
        aws = AwsSettings.from_env(env)
        return cls(
            telemetry=TelemetrySettings.from_env(SERVICE, env),
            secret_key=secret_key_from_env(env),
            producer_url=_base_url(env, "PRODUCER_URL", "http://127.0.0.1:8081"),
            consumer_url=_base_url(env, "CONSUMER_URL", "http://127.0.0.1:8082"),
            trace_ui_url=trace_ui_template(env_optional(env, "TRACE_UI_URL")),
            queue_name=aws.queue_name,
            dlq_name=aws.dlq_name,
            session_cookie_secure=env_bool(env, "SESSION_COOKIE_SECURE", False),
            upstream_timeout_seconds=env_float(
                env, "UPSTREAM_TIMEOUT_SECONDS", 5.0, low=0.1, high=60.0
            ),
            flag_file=flag_file(env),
        )


def dev_mode(env: Mapping[str, str]) -> bool:
    return env_bool(env, "LANTERN_DEV", False)


def secret_key_from_env(env: Mapping[str, str]) -> str:
    key = env_optional(env, "SECRET_KEY")
    if key is not None:
        if len(key) < MIN_SECRET_CHARS:
            raise SettingsError(f"SECRET_KEY must be at least {MIN_SECRET_CHARS} characters")
        return key
    if not dev_mode(env):
        raise SettingsError(
            "SECRET_KEY is required (it signs the cart cookie; use the same value on every "
            "replica). For a local run set LANTERN_DEV=1 to use a throwaway random key."
        )
    log.warning("SECRET_KEY is not set: using a random key; carts will not survive a restart")
    return secrets.token_urlsafe(32)


def _base_url(env: Mapping[str, str], name: str, default: str) -> str:
    url = env_str(env, name, default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={url!r} is not valid: expected an http(s):// URL")
    return url


def trace_ui_template(raw: str | None) -> str | None:
    """Check a ``TRACE_UI_URL``: an http(s) URL with one ``{trace_id}`` or ``{xray_trace_id}``."""
    if raw is None:
        return None
    placeholders = sum(raw.count(p) for p in PLACEHOLDERS)
    if not raw.startswith(("http://", "https://")) or placeholders != 1:
        raise SettingsError(
            f"TRACE_UI_URL={raw!r} is not valid: expected an http(s):// URL with one "
            "{trace_id} or {xray_trace_id}, e.g. http://localhost:16686/trace/{trace_id}"
        )
    try:
        raw.format(trace_id="0", xray_trace_id="0")
    except (KeyError, IndexError, ValueError):
        raise SettingsError(
            f"TRACE_UI_URL={raw!r} is not valid: no other {{placeholders}} are allowed"
        ) from None
    return raw
