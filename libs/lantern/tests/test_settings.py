"""Settings are read from the environment once and fail fast with a clear message."""

from __future__ import annotations

import pytest

from lantern.settings import AwsSettings, SettingsError, TelemetrySettings


def test_defaults_use_the_documented_resource_names() -> None:
    aws = AwsSettings.from_env({})
    assert (aws.queue_name, aws.dlq_name, aws.table_name) == ("orders", "orders-dlq", "orders")
    assert aws.region == "us-east-1"
    assert aws.endpoint_url is None


def test_standard_aws_variables_are_honoured() -> None:
    aws = AwsSettings.from_env({"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://x:1"})
    assert (aws.region, aws.endpoint_url) == ("eu-west-1", "http://x:1")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRACING_MODE": "zipkin"}, "TRACING_MODE='zipkin' is not valid: expected one of otel"),
        ({"STATSD_PORT": "eighty"}, "STATSD_PORT='eighty' is not valid: expected an integer"),
        ({"STATSD_PORT": "70000"}, "STATSD_PORT=70000 is out of range"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud' is not valid"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        TelemetrySettings.from_env("producer", env)


def test_statsd_can_be_switched_off() -> None:
    assert TelemetrySettings.from_env("producer", {"STATSD_HOST": "none"}).statsd_host is None
    assert TelemetrySettings.from_env("producer", {}).statsd_prefix == "producer"
