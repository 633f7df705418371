"""Alert rules (Prometheus and CloudWatch) check out with promtool, fire and stay silent when
they should, and only watch metrics the services really emit."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lantern.settings import AwsSettings
from tests.deploy.support import (
    DEPLOY,
    K8S,
    by_kind,
    named,
    prometheus_metric_names,
    promql_metric_names,
    statsd_name_patterns,
)

Rendered = dict[str, list[dict[str, Any]]]
RULES = DEPLOY / "prometheus/rules/lantern-alerts.yml"
RULE_TESTS = DEPLOY / "prometheus/tests/lantern-alerts.test.yml"
# Metrics from outside the services: kube-state-metrics (the replicas alert).
EXTERNAL_METRICS = re.compile(r"^kube_horizontalpodautoscaler_")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is not installed (Debian package: prometheus)")
    return subprocess.run([tool, *args], capture_output=True, text=True, check=False, timeout=60)


def rules() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_rule_file_passes_promtool_check() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_silent() -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    for alert in (rule["alert"] for rule in rules()):
        checks = [c for t in cases for c in t["alert_rule_test"] if c["alertname"] == alert]
        assert any(c["exp_alerts"] for c in checks), f"{alert} is never shown firing"
        assert any(not c["exp_alerts"] for c in checks), f"{alert} is never shown silent"


def test_promtool_tests_fail_when_a_threshold_drifts(tmp_path: Path) -> None:
    # Proof that the unit tests bite: a DLQ alert that waits for 5 messages misses the 3 there.
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    drifted = RULES.read_text().replace('state="visible"}) > 0', 'state="visible"}) > 5')
    assert drifted != RULES.read_text()
    (tmp_path / "rules" / RULES.name).write_text(drifted)
    shutil.copy(RULE_TESTS, tmp_path / "tests" / RULE_TESTS.name)
    result = promtool("test", "rules", str(tmp_path / "tests" / RULE_TESTS.name))
    assert result.returncode != 0
    assert "LanternDeadLetterQueueNotEmpty" in result.stdout + result.stderr


def test_prometheus_rule_object_is_the_rule_file(rendered: Rendered, tmp_path: Path) -> None:
    rule = named(rendered["local-full"], "PrometheusRule", "lantern-shop")
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    extracted = tmp_path / "prometheus-rule.yml"
    extracted.write_text(yaml.safe_dump(rule["spec"]))
    result = promtool("check", "rules", str(extracted))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_watch_only_metrics_the_services_emit() -> None:
    emitted = prometheus_metric_names()
    for rule in rules():
        for name in promql_metric_names(rule["expr"]):
            assert name in emitted or EXTERNAL_METRICS.match(name), f"{rule['alert']}: {name}"


def test_metric_name_check_catches_a_typo() -> None:
    names = promql_metric_names('sum(rate(orders_proccessed_total{outcome="failed"}[5m]))')
    assert names == {"orders_proccessed_total"}
    assert not names <= prometheus_metric_names()


def test_dead_letter_alert_watches_the_configured_dlq() -> None:
    dlq = AwsSettings.from_env({}).dlq_name
    expr = next(r["expr"] for r in rules() if r["alert"] == "LanternDeadLetterQueueNotEmpty")
    assert f'queue="{dlq}"' in expr


def test_replica_alerts_follow_the_scaled_object(rendered: Rendered) -> None:
    scaled = named(rendered["eks"], "ScaledObject", "consumer")
    hpa_name = f"keda-hpa-{scaled['metadata']['name']}"  # the HPA KEDA creates for it
    expr = next(r["expr"] for r in rules() if r["alert"] == "LanternConsumerReplicasNearMax")
    assert expr.count(f'horizontalpodautoscaler="{hpa_name}"') == 2
    alarm = named(rendered["eks"], "MetricAlarm", "consumer-replicas-near-max")["spec"]
    assert alarm["threshold"] == math.ceil(0.8 * scaled["spec"]["maxReplicaCount"])
    service = {d["name"]: d["value"] for d in alarm["dimensions"]}["Service"]
    assert named(rendered["eks"], "Service", service)  # the consumer's Service


def test_cloudwatch_alarms_watch_the_configured_queues(rendered: Rendered) -> None:
    settings = AwsSettings.from_env({})
    queues = {
        d["value"]
        for alarm in by_kind(rendered["eks"], "MetricAlarm")
        for d in alarm["spec"].get("dimensions", [])
        if d["name"] == "QueueName"
    }
    assert queues == {settings.queue_name, settings.dlq_name}


def test_cloudwatch_alarms_use_statsd_names_the_services_send(rendered: Rendered) -> None:
    patterns = statsd_name_patterns()
    custom = [
        query["metricStat"]["metric"]
        for alarm in by_kind(rendered["eks"], "MetricAlarm")
        for query in alarm["spec"].get("metrics", [])
        if "metricStat" in query
    ]
    assert custom, "the error-rate alarm reads the services' StatsD counters"
    for metric in custom:
        assert metric["namespace"] == "LanternShop"
        assert any(p.match(metric["metricName"]) for p in patterns), metric["metricName"]
    assert not any(p.match("consumer.orders.procesed.failed") for p in patterns)


def test_alarm_names_match_the_ack_controller_policy(rendered: Rendered) -> None:
    policy = (K8S / "iam/lantern-ack-cloudwatch.json").read_text()
    prefix = re.search(r"alarm:([a-z-]+)\*", policy)
    assert prefix is not None
    for alarm in by_kind(rendered["eks"], "MetricAlarm"):
        assert alarm["spec"]["name"].startswith(prefix.group(1))
