"""docker-compose.yml and the configuration it mounts: healthchecks, pinned images, ports and
environment that agree with the services, collector pipelines, Prometheus, Grafana, ElasticMQ."""

from __future__ import annotations

import ast
import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lantern.settings import AwsSettings
from tests.deploy.support import (
    DEPLOY,
    K8S,
    ROOT,
    SERVICES,
    default_port,
    env_name_problem,
    image_tag_problem,
    load_yaml,
    prometheus_metric_names,
    promql_metric_names,
)

COMPOSE = ROOT / "docker-compose.yml"
XRAY = ROOT / "docker-compose.xray.yml"
# Images built FROM scratch: no shell or HTTP client inside to run a healthcheck with.
NO_SHELL_IMAGES = ("otel/opentelemetry-collector-contrib:",)


def compose() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(COMPOSE)
    return data


def one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def component(service: dict[str, Any]) -> str | None:
    """Which Lantern source a compose service runs (None: a third-party image)."""
    build = service.get("build") or {}
    if not isinstance(build, dict):
        return None
    if build.get("dockerfile") == "services/Dockerfile":  # the one for every Python image
        args = dict(str(a).partition("=")[::2] for a in build.get("args", []))
        return args.get("SERVICE") or None
    return None


def env_problem(component: str, name: str) -> str | None:
    """Why ``name`` is not a variable the component reads; provisioning is a tool of its own
    (tools/provision), on top of the shared library."""
    if component == "provision":
        return None if name in provision_defaults() else env_name_problem("lantern", name)
    return env_name_problem(component, name)


def compose_problems(data: dict[str, Any]) -> list[str]:
    services: dict[str, dict[str, Any]] = data["services"]
    problems: list[str] = []
    for name, svc in services.items():
        image = svc.get("image")
        if image and (problem := image_tag_problem(image)):
            problems.append(f"{name}: {problem}")
        if not image and not svc.get("build"):
            problems.append(f"{name}: neither image nor build")
        health = svc.get("healthcheck") or {}
        no_shell = image and image.startswith(NO_SHELL_IMAGES)
        if not one_shot(svc) and not no_shell and (not health.get("test") or health.get("disable")):
            problems.append(f"{name}: no healthcheck")
        for dep, condition in (svc.get("depends_on") or {}).items():
            target = services.get(dep)
            if target is None:
                problems.append(f"{name}: depends on unknown {dep}")
                continue
            wanted = condition.get("condition")
            if wanted == "service_healthy" and not (target.get("healthcheck") or {}).get("test"):
                problems.append(f"{name}: waits for {dep} to be healthy, which has no check")
            if wanted == "service_completed_successfully" and not one_shot(target):
                problems.append(f"{name}: waits for {dep} to complete, which restarts")
        for port in svc.get("ports", []):
            if not str(port).startswith("127.0.0.1:"):
                problems.append(f"{name}: port {port} is published beyond localhost")
        if component(svc) is not None:
            if not svc.get("read_only") or "ALL" not in svc.get("cap_drop", []):
                problems.append(f"{name}: not read-only with all capabilities dropped")
            if not any(str(t).startswith("/tmp") for t in svc.get("tmpfs", [])):
                problems.append(f"{name}: no tmpfs /tmp for a read-only root")
            for var in svc.get("environment") or {}:
                if problem := env_problem(component(svc) or "", var):
                    problems.append(f"{name}: {problem}")
    return problems


COMPOSE_SPEC = "compose-spec==0.2.1"  # Rust compose_spec parser: the Compose Specification
_SPEC_CHECK = """
import json, sys
from compose_spec import PyCompose
errors = []
for doc in json.load(sys.stdin):
    try:
        PyCompose.from_json(json.dumps(doc))
        errors.append(None)
    except ValueError as exc:
        errors.append(str(exc))
print(json.dumps(errors))
"""


def spec_errors(*documents: dict[str, Any]) -> list[str | None]:
    """Validate compose documents against the Compose Specification (None = valid).

    Uses the ``compose-spec`` package from the dev dependencies, or fetches it for this one
    check with ``uv run --with`` when the environment does not have it yet.
    """
    # x- extension blocks are anchors for YAML merge keys, which PyYAML already expanded.
    docs = [{k: v for k, v in d.items() if not k.startswith("x-")} for d in documents]
    try:
        from compose_spec import PyCompose
    except ImportError:
        completed = subprocess.run(
            [
                "uv",
                "run",
                "--no-project",
                "--quiet",
                "--with",
                COMPOSE_SPEC,
                "python",
                "-c",
                _SPEC_CHECK,
            ],
            input=json.dumps(docs),
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        result: list[str | None] = json.loads(completed.stdout)
        return result
    errors: list[str | None] = []
    for doc in docs:
        try:
            PyCompose.from_json(json.dumps(doc))
            errors.append(None)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def test_compose_files_follow_the_compose_specification() -> None:
    assert spec_errors(compose(), load_yaml(XRAY)) == [None, None]


def test_specification_check_rejects_what_docker_compose_would() -> None:
    typo, condition, duration = (copy.deepcopy(compose()) for _ in range(3))
    typo["services"]["producer"]["healthchek"] = typo["services"]["producer"].pop("healthcheck")
    condition["services"]["frontend"]["depends_on"]["producer"]["condition"] = "healthy"
    duration["services"]["jaeger"]["healthcheck"]["interval"] = "5 seconds"
    assert all(spec_errors(typo, condition, duration))


def test_compose_file_is_sound() -> None:
    assert compose_problems(compose()) == []


def test_compose_checks_catch_mistakes() -> None:
    data = copy.deepcopy(compose())
    data["services"]["jaeger"]["image"] = "jaegertracing/jaeger:latest"
    del data["services"]["prometheus"]["healthcheck"]
    data["services"]["consumer"]["environment"]["CONSUMER_WORK_MILLIS"] = "5"
    data["services"]["frontend"]["ports"] = ["8080:8080"]
    del data["services"]["producer"]["read_only"]
    problems = "\n".join(compose_problems(data))
    for needle in (
        "latest",
        "prometheus: no healthcheck",
        "CONSUMER_WORK_MILLIS",
        "beyond",
        "read-only",
    ):
        assert needle in problems
    # grafana waits for prometheus to be healthy, which can no longer say so
    assert "waits for prometheus" in problems


def test_lantern_services_wait_for_provisioning_and_each_other() -> None:
    services = compose()["services"]
    # provisioning is its own image (the job target of the one Dockerfile), run as it is built
    assert component(services["provision"]) == "provision"
    assert services["provision"]["build"]["target"] == "job"
    assert "command" not in services["provision"]
    for name in ("producer", "consumer"):
        assert (
            services[name]["depends_on"]["provision"]["condition"]
            == "service_completed_successfully"
        )
    for dep in ("producer", "consumer"):
        assert services["frontend"]["depends_on"][dep]["condition"] == "service_healthy"
    assert services["load"]["profiles"] == ["load"]


@pytest.mark.parametrize("service", SERVICES)
def test_ports_and_urls_agree_with_the_services(service: str) -> None:
    services = compose()["services"]
    port = default_port(service)
    assert services[service]["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(services[service]["healthcheck"]["test"])
    frontend_env = services["frontend"]["environment"]
    if service != "frontend":
        assert frontend_env[f"{service.upper()}_URL"] == f"http://{service}:{port}"
    if service != "consumer":  # the load driver talks to the shop and the order API
        assert (
            services["load"]["environment"][f"{service.upper()}_URL"] == f"http://{service}:{port}"
        )


def test_services_reach_the_emulators_and_the_collector() -> None:
    services = compose()["services"]
    settings = AwsSettings.from_env(services["consumer"]["environment"])
    assert (settings.queue_name, settings.dlq_name) == ("orders", "orders-dlq")
    env = services["consumer"]["environment"]
    assert env["AWS_ENDPOINT_URL_SQS"] == "http://elasticmq:9324"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://dynamodb:8000"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["STATSD_HOST"] == "otel-collector"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "otel-collector:2000"
    assert "{trace_id}" in services["frontend"]["environment"]["TRACE_UI_URL"]


def test_load_counts_its_orders_in_the_table_the_consumer_writes() -> None:
    services = compose()["services"]
    load, consumer = (services[name]["environment"] for name in ("load", "consumer"))
    assert AwsSettings.from_env(load) == AwsSettings.from_env(consumer)
    assert load["AWS_ENDPOINT_URL_DYNAMODB"] == consumer["AWS_ENDPOINT_URL_DYNAMODB"]


def test_xray_variant_only_switches_the_tracing_mode() -> None:
    override = load_yaml(XRAY)["services"]
    assert set(override) == set(SERVICES)
    for name in ("producer", "consumer"):
        assert override[name] == {"environment": {"TRACING_MODE": "xray"}}
    # The storefront has no X-Ray SDK: it stays on OpenTelemetry with X-Ray ids and propagation,
    # so the producer's X-Ray middleware continues its trace.
    frontend = override["frontend"]["environment"]
    assert "TRACING_MODE" not in frontend
    assert frontend["OTEL_PYTHON_ID_GENERATOR"] == "xray"
    assert "xray" in frontend["OTEL_PROPAGATORS"].split(",")


def test_services_see_the_scenario_flag_file() -> None:
    services = compose()["services"]
    for name in SERVICES:
        path = services[name]["environment"]["FLAGD_OFFLINE_FLAG_SOURCE_PATH"]
        folder, file = path.rsplit("/", 1)
        assert f"./flags:{folder}:ro" in services[name]["volumes"]
        assert (ROOT / "flags" / file).is_file()


def test_mounted_files_exist() -> None:
    for name, svc in compose()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"


# --- Image pins that age --------------------------------------------------------------------

# Floors for third-party images whose old lines are known to be stale. DynamoDB Local: v3.x is
# the current line, v2.x "legacy" and v1.x deprecated (DynamoDB Developer Guide, "Deploying
# DynamoDB local"). Grafana: 13.2.2, a patch release with security fixes the 13.1.0 pin lacked
# (Grafana CHANGELOG). Raising a pin is always fine; lowering one below its floor needs a reason.
IMAGE_FLOORS = {
    "amazon/dynamodb-local": (3, 3, 1),
    "grafana/grafana": (13, 2, 2),
}


def version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", tag.split("-")[0]))


def stale_pin_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    images = [svc["image"] for svc in data["services"].values() if "image" in svc]
    for repository, floor in IMAGE_FLOORS.items():
        tags = [i.rsplit(":", 1)[1] for i in images if i.rsplit(":", 1)[0] == repository]
        if not tags:
            problems.append(f"{repository}: not in docker-compose.yml any more (drop its floor)")
        for tag in tags:
            if version(tag) < floor:
                problems.append(f"{repository}:{tag} is older than {'.'.join(map(str, floor))}")
    return problems


def test_images_with_known_stale_lines_are_pinned_past_them() -> None:
    assert stale_pin_problems(compose()) == []


def test_stale_pin_check_flags_the_old_pins() -> None:
    data = copy.deepcopy(compose())
    data["services"]["dynamodb"]["image"] = "amazon/dynamodb-local:2.6.1"
    data["services"]["grafana"]["image"] = "grafana/grafana:13.1.0"
    problems = "\n".join(stale_pin_problems(data))
    assert "dynamodb-local:2.6.1 is older than 3.3.1" in problems
    assert "grafana:13.1.0 is older than 13.2.2" in problems


# --- Memory ---------------------------------------------------------------------------------

# The laptop budget for the whole stack, load generator included. `mem_limit` at service level is
# the one spelling Compose v2 and the Python docker-compose 1.29 both apply.
MEMORY_BUDGET_MIB = 2048
_MEMORY_UNITS = {"": 2**-20, "b": 2**-20, "k": 2**-10, "m": 1, "g": 2**10}


def mem_limit_mib(value: str | int) -> float:
    """A compose memory value (``256m``, ``1g``, ``512mb``, bytes) in MiB, as Docker reads it."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([bkmg]?)b?", str(value).strip().lower())
    if match is None:
        raise ValueError(f"not a compose memory value: {value!r}")
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def memory_problems(data: dict[str, Any]) -> list[str]:
    services: dict[str, dict[str, Any]] = data["services"]
    problems = [f"{name}: no mem_limit" for name, svc in services.items() if "mem_limit" not in svc]
    total = sum(mem_limit_mib(svc["mem_limit"]) for svc in services.values() if "mem_limit" in svc)
    if total > MEMORY_BUDGET_MIB:
        problems.append(
            f"limits add up to {total:.0f} MiB, over the {MEMORY_BUDGET_MIB} MiB budget"
        )
    return problems


def test_every_service_has_a_memory_limit_within_the_stack_budget() -> None:
    assert memory_problems(compose()) == []
    # The budget the file's header states is the sum of what it declares.
    total = sum(mem_limit_mib(svc["mem_limit"]) for svc in compose()["services"].values())
    stated = re.search(r"budget is (\d+) MiB", COMPOSE.read_text())
    assert stated, "docker-compose.yml no longer states its memory budget"
    assert int(stated.group(1)) == total


def test_memory_check_flags_a_missing_limit_and_an_overrun() -> None:
    data = copy.deepcopy(compose())
    del data["services"]["grafana"]["mem_limit"]
    data["services"]["jaeger"]["mem_limit"] = "2g"
    problems = "\n".join(memory_problems(data))
    assert "grafana: no mem_limit" in problems
    assert "over the 2048 MiB budget" in problems
    assert mem_limit_mib("1g") == 1024
    assert mem_limit_mib(268435456) == 256


def test_services_that_size_themselves_from_the_host_are_capped_below_their_limit() -> None:
    services = compose()["services"]
    # DynamoDB Local: a JVM sizes its heap from the host's memory unless told; half the limit
    # leaves the rest to metaspace, threads and the in-memory SQLite database (off-heap).
    heap = [arg for arg in services["dynamodb"]["command"] if arg.startswith("-Xmx")]
    assert len(heap) == 1
    assert services["dynamodb"]["command"].index(heap[0]) < services["dynamodb"]["command"].index(
        "-jar"
    ), "a JVM option after -jar goes to the program, not the JVM"
    assert (
        mem_limit_mib(heap[0].removeprefix("-Xmx"))
        <= mem_limit_mib(services["dynamodb"]["mem_limit"]) / 2
    )
    # Jaeger's memory store keeps 100,000 traces by default: it must be capped.
    sets = dict(
        arg.removeprefix("--set=").split("=", 1)
        for arg in services["jaeger"].get("command", [])
        if arg.startswith("--set=")
    )
    max_traces = sets.get("extensions.jaeger_storage.backends.some_storage.memory.max_traces")
    assert max_traces, "Jaeger keeps its default 100,000 traces"
    assert int(max_traces) <= 10_000
    # The collector's memory_limiter must bite before the container limit does.
    limiter = load_yaml(COLLECTOR_CONFIGS["compose"])["processors"]["memory_limiter"]
    if "limit_mib" in limiter:
        assert limiter["limit_mib"] < mem_limit_mib(services["otel-collector"]["mem_limit"])
    else:
        assert 0 < limiter["limit_percentage"] <= 90


# --- OpenTelemetry Collector configurations ------------------------------------------------

COLLECTOR_CONFIGS = {
    "compose": DEPLOY / "otel-collector/config.yaml",
    "local": K8S / "overlays/local/collector-config.yaml",
    "eks": K8S / "components/adot-collector/collector.yaml",
}
# Component types these configs may use, per distribution (contrib 0.159, ADOT 0.49 on 0.156):
# a misspelled or unavailable component is caught here, before a collector refuses to start.
# healthcheckv2 (health_check's successor) is in neither build manifest yet: add it with the pin
# that ships it.
DISTRIBUTIONS = {
    "contrib": {
        "receivers": {"otlp", "statsd", "awsxray", "prometheus"},
        "processors": {"batch", "memory_limiter", "resource"},
        "exporters": {"otlp_grpc", "otlp_http", "prometheus", "debug", "awsxray", "awsemf"},
        "connectors": {"spanmetrics"},
        "extensions": {"health_check"},
    },
    "adot": {
        "receivers": {"otlp", "statsd", "awsxray", "prometheus"},
        "processors": {"batch", "memory_limiter", "resource"},
        "exporters": {"awsxray", "awsemf", "prometheus", "otlp_grpc", "otlp_http", "debug"},
        "connectors": set(),
        "extensions": {"health_check"},
    },
}


def pipeline_problems(config: dict[str, Any], distribution: str) -> list[str]:
    known = DISTRIBUTIONS[distribution]
    problems = []
    for section in ("receivers", "processors", "exporters", "connectors", "extensions"):
        for component_id in config.get(section) or {}:
            if component_id.split("/")[0] not in known[section]:
                problems.append(f"{section}: {component_id} is not in the {distribution} collector")
    service = config["service"]
    used: dict[str, set[str]] = {s: set() for s in ("receivers", "processors", "exporters")}
    connectors = set(config.get("connectors") or {})
    for name, pipeline in service["pipelines"].items():
        for section in ("receivers", "processors", "exporters"):
            defined = set(config.get(section) or {})
            if section != "processors":
                defined |= connectors
            for component_id in pipeline.get(section, []):
                used[section].add(component_id)
                if component_id not in defined:
                    problems.append(
                        f"pipeline {name}: {section[:-1]} {component_id} is not defined"
                    )
        if not pipeline.get("receivers") or not pipeline.get("exporters"):
            problems.append(f"pipeline {name}: needs receivers and exporters")
    for section in ("receivers", "processors", "exporters"):
        for component_id in set(config.get(section) or {}) - used[section]:
            problems.append(f"{section[:-1]} {component_id} is defined but in no pipeline")
    for connector in connectors:
        if connector not in used["exporters"] or connector not in used["receivers"]:
            problems.append(f"connector {connector} must close one pipeline and open another")
    for extension in service.get("extensions", []):
        if extension not in (config.get("extensions") or {}):
            problems.append(f"extension {extension} is not defined")
    return problems


@pytest.mark.parametrize("where", COLLECTOR_CONFIGS)
def test_collector_pipelines_use_only_defined_components(where: str) -> None:
    config = load_yaml(COLLECTOR_CONFIGS[where])
    assert pipeline_problems(config, "adot" if where == "eks" else "contrib") == []


def test_pipeline_check_catches_undefined_and_unavailable_components() -> None:
    config = copy.deepcopy(load_yaml(COLLECTOR_CONFIGS["compose"]))
    config["service"]["pipelines"]["traces"]["exporters"].append("otlp/tempo")
    config["exporters"]["logging"] = {}
    problems = "\n".join(pipeline_problems(config, "contrib"))
    assert "otlp/tempo is not defined" in problems
    assert "logging is not in the contrib collector" in problems


def test_collectors_listen_where_the_services_send() -> None:
    env = compose()["services"]["producer"]["environment"]
    for where, path in COLLECTOR_CONFIGS.items():
        receivers = load_yaml(path)["receivers"]
        assert receivers["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318", where
        assert receivers["statsd"]["endpoint"] == f"0.0.0.0:{env['STATSD_PORT']}", where
        assert receivers["awsxray"]["endpoint"] == "0.0.0.0:2000", where
        # Timers must not collapse into last-value gauges.
        assert receivers["statsd"]["timer_histogram_mapping"], where


def test_compose_collector_scrapes_every_service() -> None:
    scrape = load_yaml(COLLECTOR_CONFIGS["compose"])["receivers"]["prometheus"]["config"]
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in scrape["scrape_configs"]
    }
    assert targets == {s: [f"{s}:{default_port(s)}"] for s in SERVICES}


# --- Prometheus, Grafana, ElasticMQ ------------------------------------------------------


def test_prometheus_loads_the_rules_compose_mounts() -> None:
    config = load_yaml(DEPLOY / "prometheus/prometheus.yml")
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules:/etc/prometheus/rules:ro" in mounts
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["lantern"]["honor_labels"] is True  # keeps job=<service> from the collector
    exporter = load_yaml(COLLECTOR_CONFIGS["compose"])["exporters"]["prometheus"]["endpoint"]
    assert jobs["lantern"]["static_configs"][0]["targets"] == [
        "otel-collector:" + exporter.rsplit(":", 1)[1]
    ]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/lantern-shop.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_dashboard_is_provisioned_with_its_datasources() -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/lantern-shop.json").read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    uids = {
        d["uid"]
        for d in load_yaml(DEPLOY / "grafana/provisioning/datasources/datasources.yml")[
            "datasources"
        ]
    }
    for panel in dashboard["panels"]:
        if "datasource" in panel:
            assert panel["datasource"]["uid"] in uids
    provider = load_yaml(DEPLOY / "grafana/provisioning/dashboards/lantern.yml")["providers"][0]
    assert (
        "./deploy/grafana/dashboards:" + provider["options"]["path"] + ":ro"
        in (compose()["services"]["grafana"]["volumes"])
    )


def test_dashboard_queries_only_emitted_metrics() -> None:
    emitted = prometheus_metric_names()
    spanmetrics = "spanmetrics" in load_yaml(COLLECTOR_CONFIGS["compose"])["connectors"]
    exprs = dashboard_exprs()
    assert len(exprs) >= 12
    used = set()
    for expr in exprs:
        for name in promql_metric_names(expr):
            used.add(name)
            from_traces = spanmetrics and name.startswith("traces_span_metrics_")
            assert name in emitted or from_traces, f"{name} in {expr}"
    # RED per service, queue depth, message age, throughput, DLQ, checkouts: all on the board.
    for needed in (
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds_bucket",
        "sqs_queue_messages",
        "order_message_age_seconds_bucket",
        "orders_processed_total",
        "checkouts_total",
    ):
        assert needed in used


def elasticmq_queues(text: str) -> dict[str, dict[str, str]]:
    """queue name -> its settings, from the HOCON ``queues { ... }`` block."""
    block = text[text.index("queues {") :]
    queues = {}
    for match in re.finditer(r"^  ([\w.-]+) \{(.*?)^  \}", block, re.MULTILINE | re.DOTALL):
        queues[match.group(1)] = dict(
            re.findall(r"(\w+) = \"?([\w -]+?)\"?$", match.group(2), re.M)
        )
    return queues


def provision_defaults() -> dict[str, int]:
    """The variables ``lantern-provision`` reads and their defaults, from its source."""
    source = (ROOT / "tools/provision/src/provision/__init__.py").read_text()
    defaults = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "env_int":
            name, default = node.args[1], node.args[2]
            if isinstance(name, ast.Constant) and isinstance(default, ast.Constant):
                defaults[str(name.value)] = int(str(default.value))
    return defaults


def test_elasticmq_declares_what_provision_would_create() -> None:
    settings = AwsSettings.from_env({})
    queues = elasticmq_queues((DEPLOY / "elasticmq/elasticmq.conf").read_text())
    assert set(queues) == {settings.queue_name, settings.dlq_name}
    main = queues[settings.queue_name]
    assert main["name"] == settings.dlq_name  # deadLettersQueue
    defaults = provision_defaults()
    assert int(main["maxReceiveCount"]) == defaults["ORDERS_MAX_RECEIVE_COUNT"]
    assert main["defaultVisibilityTimeout"] == f"{defaults['ORDERS_VISIBILITY_SECONDS']} seconds"
    provision_env = compose()["services"]["provision"]["environment"]
    assert int(provision_env["ORDERS_MAX_RECEIVE_COUNT"]) == int(main["maxReceiveCount"])


def test_rule_and_dashboard_files_are_where_compose_mounts_them() -> None:
    for path in (DEPLOY / "prometheus/rules").iterdir():
        assert path.suffix == ".yml", f"{path.name} would not match rule_files *.yml"
    assert any(Path(DEPLOY / "grafana/dashboards").glob("*.json"))
