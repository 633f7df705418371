"""Settings fail fast with a clear message; a throwaway key only when asked for."""

from __future__ import annotations

import os

import pytest

from frontend import __main__ as entrypoint
from frontend.settings import FrontendSettings
from lantern.settings import SettingsError

KEY = "k" * 32


def test_defaults_point_at_the_local_services() -> None:
    settings = FrontendSettings.from_env({"SECRET_KEY": KEY})

    assert settings.producer_url == "http://127.0.0.1:8081"
    assert settings.consumer_url == "http://127.0.0.1:8082"
    assert settings.trace_ui_url is None
    assert settings.queue_name == "orders"
    assert settings.dlq_name == "orders-dlq"
    assert settings.session_cookie_secure is False


def test_a_secret_key_is_required_outside_dev_mode() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is required"):
        FrontendSettings.from_env({})
    with pytest.raises(SettingsError, match="at least 16"):
        FrontendSettings.from_env({"SECRET_KEY": "short"})


def test_dev_mode_allows_a_random_key() -> None:
    first = FrontendSettings.from_env({"LANTERN_DEV": "1"}).secret_key
    second = FrontendSettings.from_env({"LANTERN_DEV": "1"}).secret_key

    assert len(first) >= 32
    assert first != second


def test_the_entrypoint_shares_one_dev_key_with_every_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", "")  # unset, and restored after the test
    monkeypatch.setenv("LANTERN_DEV", "1")

    entrypoint._share_dev_secret()
    key = os.environ["SECRET_KEY"]
    entrypoint._share_dev_secret()

    assert os.environ["SECRET_KEY"] == key  # workers fork with this environment


def test_without_dev_mode_the_entrypoint_invents_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.setenv("LANTERN_DEV", "0")

    entrypoint._share_dev_secret()

    assert os.environ["SECRET_KEY"] == ""


@pytest.mark.parametrize(
    "template",
    [
        "localhost:16686/trace/{trace_id}",
        "http://localhost:16686/trace/",
        "http://localhost:16686/trace/{trace_id}/{trace_id}",
        "http://localhost:16686/{span_id}/{trace_id}",
        "http://localhost:16686/{trace_id}/{xray_trace_id}",
    ],
)
def test_a_bad_trace_ui_template_is_refused(template: str) -> None:
    with pytest.raises(SettingsError, match="TRACE_UI_URL"):
        FrontendSettings.from_env({"SECRET_KEY": KEY, "TRACE_UI_URL": template})


def test_service_urls_must_be_http() -> None:
    with pytest.raises(SettingsError, match="PRODUCER_URL"):
        FrontendSettings.from_env({"SECRET_KEY": KEY, "PRODUCER_URL": "producer:8081"})


def test_both_placeholders_are_accepted() -> None:
    for template in [
        "http://jaeger/trace/{trace_id}",
        "https://console/#xray:traces/{xray_trace_id}",
    ]:
        settings = FrontendSettings.from_env({"SECRET_KEY": KEY, "TRACE_UI_URL": template})
        assert settings.trace_ui_url == template
