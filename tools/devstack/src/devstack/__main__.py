"""``make run``: start moto, create the queues and table, run the services until Ctrl-C.

A service that crashes is restarted with backoff (:mod:`devstack.supervise`); the endpoint and
its data stay. The runner exits 1 only when it cannot recover, 0 after Ctrl-C.

Ports: AWS_PORT (4566), PRODUCER_PORT (8081), CONSUMER_PORT (8082), FRONTEND_PORT (8080),
TRACES_PORT (4318: the OTLP/HTTP trace receiver and viewer of :mod:`devstack.traces`, which
every service sends its spans to; 0 turns it off). Everything else (CONSUMER_WORK_MS,
SYNTHETIC_ORDERS_PER_SECOND, ...) passes through; an ``OTEL_TRACES_EXPORTER`` or
``OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT`` of your own sends the traces there instead (and no
receiver is started).

Scaling: CONSUMER_MAX_REPLICAS above 1 turns on the local KEDA stand-in (:mod:`devstack.scaler`),
one consumer per CONSUMER_QUEUE_LENGTH messages of backlog. LAB=blog presets the scaling lab of
docs/labs.md (the numbers of :data:`devstack.lab.BLOG`, and the ``synthetic-orders`` switch on
``blog``, 1 order/s); any variable set explicitly wins.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping
from importlib.util import find_spec

from devstack.flags import runtime_copy
from devstack.lab import BLOG
from devstack.render import print_line
from devstack.scaler import LocalScaler, sqs_backlog
from devstack.scaling import ScalingPolicy
from devstack.stack import Stack, StackConfig
from devstack.supervise import Supervisor
from lantern.settings import SettingsError, env_int

LABS = {
    "blog": {
        "CONSUMER_CONCURRENCY": str(BLOG.concurrency),
        # One message per receive: a replica holding ten for 50 s would starve the new ones.
        "CONSUMER_BATCH_SIZE": "1",
        "CONSUMER_WORK_MS": str(BLOG.work_ms),
        "CONSUMER_MAX_REPLICAS": str(BLOG.policy.max_replicas),
        "CONSUMER_QUEUE_LENGTH": str(BLOG.policy.queue_length),
    },
}


# The switches a lab starts with; its steps flip them (make flag NAME=synthetic-orders ...).
LAB_SWITCHES = {"blog": {"synthetic-orders": "blog"}}


def apply_lab(env: dict[str, str]) -> None:
    """Fill in a lab's settings (LAB=blog) where the environment does not set them."""
    lab = env.get("LAB", "")
    if lab and lab not in LABS:
        raise SettingsError(f"LAB={lab!r}: expected one of {', '.join(sorted(LABS))}")
    for key, value in LABS.get(lab, {}).items():
        env.setdefault(key, value)


def scaling_from_env(env: Mapping[str, str]) -> ScalingPolicy | None:
    """The local scaler's policy, or None when the consumer stays one process."""
    most = env_int(env, "CONSUMER_MAX_REPLICAS", 1, low=1, high=20)
    per_replica = env_int(env, "CONSUMER_QUEUE_LENGTH", 10, low=1, high=100_000)
    return ScalingPolicy(queue_length=per_replica, max_replicas=most) if most > 1 else None


def config_from_env() -> StackConfig:
    env = os.environ
    services = ["producer", "consumer"] + (["frontend"] if find_spec("frontend.__main__") else [])
    return StackConfig(
        aws_port=env_int(env, "AWS_PORT", 4566, low=1, high=65535),
        producer_port=env_int(env, "PRODUCER_PORT", 8081, low=1, high=65535),
        consumer_port=env_int(env, "CONSUMER_PORT", 8082, low=1, high=65535),
        frontend_port=env_int(env, "FRONTEND_PORT", 8080, low=1, high=65535),
        traces_port=env_int(env, "TRACES_PORT", 4318, low=0, high=65535) or None,
        services=tuple(services),
        # Shorter long polls than production's 20 s, so Ctrl-C is done in seconds (the consumer
        # finishes the poll in progress before it exits). Set it to 20 to see the real thing.
        env={"CONSUMER_WAIT_SECONDS": env.get("CONSUMER_WAIT_SECONDS") or "5"},
    )


def banner(
    config: StackConfig,
    seconds: float,
    scaling: ScalingPolicy | None = None,
    traces_url: str | None = None,
) -> str:
    producer = config.url("producer")
    lines = [f"\nLantern Shop is up in {seconds:.1f}s. Press Ctrl-C to stop.\n"]
    if "frontend" in config.services:
        lines.append(f"  shop        {config.url('frontend')}/")
    lines += [
        f"  order API   {producer}/orders   (products: {producer}/products)",
        f"  orders      {config.url('consumer')}/orders/<order_id>",
        f"  metrics     {config.url('producer')}/metrics  {config.url('consumer')}/metrics",
        f"  AWS (moto)  {config.endpoint_url}",
        f"  traces      {traces_url}/   (OTLP/HTTP in at {traces_url}/v1/traces)"
        if traces_url
        else "  traces      sent where your OTEL_* settings say (or off: TRACES_PORT=0)",
        "  scenarios   make flags / make flag NAME=consumer-work-ms VARIANT=slow",
    ]
    if scaling is not None:
        lines.append(
            f"  scaling     consumer 1 to {scaling.max_replicas} processes, one per "
            f"{scaling.queue_length} messages of backlog (make run's KEDA stand-in)"
        )
    lines += [
        "",
        "  Try:",
        f"    curl -s -X POST {producer}/orders -H 'Content-Type: application/json' \\",
        '      -d \'{"customer":{"name":"Ada","email":"ada@example.com"},'
        '"items":[{"sku":"LNT-001","quantity":1}]}\'',
        "",
    ]
    return "\n".join(lines)


def _say(line: str) -> None:
    print(line, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM: stop once, in order. Raising (rather than setting an Event, which can
    deadlock inside a signal handler) ends the wait; later signals, such as the terminal's
    group-wide one arriving twice, are ignored so the orderly stop is never cut short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> int:
    try:
        apply_lab(os.environ)  # type: ignore[arg-type]
        config = config_from_env()
        scaling = scaling_from_env(os.environ)
    except SettingsError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 2
    switches = LAB_SWITCHES.get(os.environ.get("LAB", ""), {})
    os.environ.setdefault("FLAGD_OFFLINE_FLAG_SOURCE_PATH", str(runtime_copy(switches)))
    stack = Stack(config, sink=print_line)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    started = time.monotonic()
    code, scaler = 0, None
    try:
        stack.start()
        traces_url = stack.receiver_url() if stack.traces is not None else None
        print(banner(config, time.monotonic() - started, scaling, traces_url), flush=True)
        if scaling is not None:
            scaler = LocalScaler(stack, scaling, sqs_backlog(stack), log=_say)
        # Restarts crashed services (and sizes the consumer); returns only on give-up.
        code = Supervisor(stack, scaler=scaler).run()
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as exc:
        print(f"make run: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print("\nstopping...", flush=True)
    stack.stop()
    if scaler is not None:
        scaler.stop()  # replicas scaled in a moment ago, still finishing their messages
    print("stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
