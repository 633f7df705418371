"""Processes of the local stack: the moto endpoint and the services, with their output."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

LineSink = Callable[[str, str], None]  # (process name, line)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the runner dies, even by SIGKILL, so no orphan keeps a port.

    Linux ties this to the *thread* that started the child: start services from a thread that
    outlives them (the main thread, in the runner and the tests).
    """
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# moto accepts any credentials; these are not secrets, just placeholders it requires.
_DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "lantern-local",
    "AWS_SECRET_ACCESS_KEY": "lantern-local",
}


class ServiceProcess:
    """One child process whose stdout/stderr lines go to a sink and are kept for inspection."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        ready_url: str,
        sink: LineSink | None = None,
        log_file: Path | None = None,
    ) -> None:
        """``log_file``: write the output there instead (no sink, no lines kept): a benchmark's
        services must not wait on a reader in the process that measures them."""
        self.name, self.argv, self.env, self.ready_url = name, argv, dict(env), ready_url
        self.sink, self.log_file = sink, log_file
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._readers: list[threading.Thread] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> ServiceProcess:
        if self.log_file is not None:
            return self._start_logging_to_file(self.log_file)
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C goes to the runner, which stops children in order
            preexec_fn=_die_with_parent,  # only a prctl call: safe between fork and exec
        )
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump, args=(stream,), daemon=True)
            for stream in (self.proc.stdout, self.proc.stderr)
        ]
        for reader in self._readers:
            reader.start()
        return self

    def _start_logging_to_file(self, path: Path) -> ServiceProcess:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        return self

    def recent_lines(self, count: int = 20) -> list[str]:
        if self.log_file is not None and self.log_file.exists():
            return self.log_file.read_text(errors="replace").splitlines()[-count:]
        return self.lines[-count:]

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            line = line.rstrip("\n")
            self.lines.append(line)
            if self.sink is not None:
                self.sink(self.name, line)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                tail = "\n".join(self.recent_lines())
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready at {self.ready_url} after {timeout:.0f}s")

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM, wait, then SIGKILL. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        self._join_readers()
        return code

    def kill(self) -> None:
        """SIGKILL the whole process group: the crash a test wants, workers included."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self._join_readers()

    def _join_readers(self) -> None:
        for reader in self._readers:
            reader.join(timeout=5)


def start_moto(port: int, host: str = "127.0.0.1", sink: LineSink | None = None) -> ServiceProcess:
    """The embedded AWS endpoint (moto server: SQS, DynamoDB, made consistent under concurrency
    by :mod:`devstack.endpoint`), started and answering."""
    for key, value in _DUMMY_CREDENTIALS.items():
        os.environ.setdefault(key, value)  # boto3 in this process needs some credentials too
    argv = [sys.executable, "-m", "devstack.endpoint", "-H", host, "-p", str(port)]
    moto = ServiceProcess("aws", argv, dict(os.environ), f"http://{host}:{port}/moto-api/", sink)
    moto.start().wait_ready(30)
    return moto


@dataclass
class StackConfig:
    """Ports and environment of the local stack; every field has an env override in the CLI."""

    aws_port: int = 4566
    producer_port: int = 8081
    consumer_port: int = 8082
    frontend_port: int = 8080
    host: str = "127.0.0.1"
    services: tuple[str, ...] = ("producer", "consumer")
    env: dict[str, str] = field(default_factory=dict)
    per_service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    manage_endpoint: bool = True  # False: use an endpoint already running at aws_port
    # Extra replicas of a service ("consumer-2"...), each on a port of its own (devstack.scaler).
    extra_ports: dict[str, int] = field(default_factory=dict)
    # The trace receiver and viewer (devstack.traces) on this port; None: no receiver, and
    # traces stay off unless OTEL_* says where to send them.
    traces_port: int | None = None
    # Services write their output to <log_dir>/<name>.log instead of a pipe read here (the
    # benchmarks: a reader thread in the measuring process would pace the services' logging).
    log_dir: Path | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    def port(self, service: str) -> int:
        if service in self.extra_ports:
            return self.extra_ports[service]
        ports = {
            "producer": self.producer_port,
            "consumer": self.consumer_port,
            "frontend": self.frontend_port,
        }
        return ports[service]

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.port(service)}"

    @property
    def traces_url(self) -> str | None:
        return None if self.traces_port is None else f"http://{self.host}:{self.traces_port}"


# Any of these set by the user means their traces go where they say, not to our receiver.
_USER_TRACE_SETTINGS = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


class Stack:
    """The moto endpoint plus the services, started in dependency order."""

    def __init__(self, config: StackConfig, sink: LineSink | None = None) -> None:
        self.config, self.sink = config, sink
        self.endpoint: ServiceProcess | None = None
        self.traces: ServiceProcess | None = None
        self.services: dict[str, ServiceProcess] = {}
        # One signing key per run, kept across frontend restarts: carts survive a crash.
        self._secret_key = secrets.token_urlsafe(32)

    def base_env(self) -> dict[str, str]:
        env = {
            **os.environ,
            **_DUMMY_CREDENTIALS,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.config.endpoint_url,
            "PYTHONUNBUFFERED": "1",
        }
        receiver = self.receiver_url()
        if receiver is not None:
            from devstack.traces import service_env

            for key, value in service_env(receiver).items():
                env.setdefault(key, value)
            # Spans leave twice a second (the SDK's default is every 5 s), so an order's trace
            # is on its page moments after it is fulfilled.
            env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "500")
        env.setdefault("OTEL_TRACES_EXPORTER", "none")  # no collector at all: no error spam
        env.update(self.config.env)
        return env

    def receiver_url(self) -> str | None:
        """Where the local trace receiver listens, when this stack runs one: a traces port is
        configured and no ``OTEL_*`` of the user's says where traces go instead."""
        if self.config.traces_url is None:
            return None
        chosen = {**os.environ, **self.config.env}
        if any(chosen.get(name) for name in _USER_TRACE_SETTINGS):
            return None
        return self.config.traces_url

    def start_traces(self) -> ServiceProcess | None:
        """Start the trace receiver and viewer (:mod:`devstack.traces`), when there is one."""
        url = self.receiver_url()
        if url is None or self.config.traces_port is None:
            return None
        argv = [
            sys.executable,
            "-m",
            "devstack.traces",
            "-H",
            self.config.host,
            "-p",
            str(self.config.traces_port),
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        traces = ServiceProcess("traces", argv, env, f"{url}/healthz", self.sink)
        try:
            traces.start().wait_ready(30)
        except (RuntimeError, TimeoutError) as exc:
            # Not worth stopping the shop for (the port may hold a collector of the user's,
            # which then gets the spans): say so and go on.
            traces.stop(5)
            line = f"trace receiver not started on port {self.config.traces_port}: "
            if self.sink is not None:
                self.sink("traces", line + str(exc).splitlines()[-1])
            return None
        self.traces = traces
        return traces

    def start_endpoint(self) -> ServiceProcess:
        self.endpoint = start_moto(self.config.aws_port, self.config.host, self.sink)
        return self.endpoint

    def provision(self, max_receive_count: int = 5, visibility_seconds: int = 30) -> str:
        from lantern.settings import AwsSettings
        from provision import provision

        for key, value in _DUMMY_CREDENTIALS.items():
            os.environ.setdefault(key, value)
        settings = AwsSettings.from_env(self.base_env())
        return provision(
            settings, max_receive_count=max_receive_count, visibility_seconds=visibility_seconds
        )

    def service(self, name: str) -> ServiceProcess:
        """The process of a service, or of one of its extra replicas ("consumer-2" runs the
        consumer again, as the same service, on its own port)."""
        module = name.split("-")[0]
        env = {
            **self.base_env(),
            "OTEL_SERVICE_NAME": module,
            "PORT": str(self.config.port(name)),
            "HOST": self.config.host,
            "PRODUCER_URL": self.config.url("producer"),
            "CONSUMER_URL": self.config.url("consumer"),
            "LOG_FORMAT": self.config.env.get("LOG_FORMAT", "json"),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each service gets a fresh one of its own
        if module == "frontend" and not env.get("SECRET_KEY"):
            # One random key per run, shared by the frontend's workers and its restarts.
            env["SECRET_KEY"] = self._secret_key
        env.update(self.config.per_service_env.get(module, {}))
        log_file = None if self.config.log_dir is None else self.config.log_dir / f"{name}.log"
        return ServiceProcess(
            name,
            [sys.executable, "-m", module],
            env,
            f"{self.config.url(name)}/readyz",
            self.sink,
            log_file,
        )

    def start_service(self, name: str, timeout: float = 60.0) -> ServiceProcess:
        process = self.service(name).start()
        self.services[name] = process
        process.wait_ready(timeout)
        return process

    def start(self, max_receive_count: int = 5, visibility_seconds: int = 30) -> Stack:
        if self.config.manage_endpoint:
            self.start_endpoint()
        self.start_traces()
        self.provision(max_receive_count, visibility_seconds)
        for name in self.config.services:
            self.start_service(name)
        return self

    def stop(self) -> None:
        for name in reversed(list(self.services)):
            self.services[name].stop()
        if self.traces is not None:  # after the services, which flush their last spans to it
            self.traces.stop(5)
        if self.endpoint is not None:
            self.endpoint.stop(10)
