"""The real controller (``node-placeholder-scaler run``) as a process against the test cluster,
and the witnesses the HA and fault tests judge it by: its /metrics, and a watch on the
placeholder Deployment that records every value of ``spec.replicas`` (resuming from the last
resourceVersion after a lost connection, so no change is missed even across an API outage).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from prometheus_client.parser import text_string_to_metric_families

from .ports import PortHolder, free_port, port_free

REPO = Path(__file__).resolve().parents[1]


class ControllerProcess:
    """``run`` with its own config copy (metrics on a loopback port) and identity."""

    def __init__(self, config: Path, kubeconfig: Path, identity: str, tmp: Path) -> None:
        self.identity, self.kubeconfig = identity, kubeconfig
        self.port = free_port()
        self.config = tmp / f"config-{identity}.yaml"
        listen = f"\nmetricsPort: {self.port}\nmetricsAddress: 127.0.0.1\n"
        self.config.write_text(config.read_text() + listen)
        self.log = tmp / f"controller-{identity}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ControllerProcess:
        env = dict(os.environ, POD_NAME=self.identity)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "node_placeholder_scaler",
                    "run",
                    "--config",
                    str(self.config),
                    "--kubeconfig",
                    str(self.kubeconfig),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        """kill -9: no release of the Lease, no last round."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, as the kubelet stops a pod; the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def get(self, path: str) -> tuple[int, str]:
        try:
            url = f"http://127.0.0.1:{self.port}{path}"
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        status, text = self.get("/metrics")
        if status != 200:
            return {}
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics().get((name, frozenset(labels.items())))


@dataclass
class ReplicaWatch:
    """Every ``spec.replicas`` of one Deployment, with the time it was seen (monotonic).

    A reading (``values``, ``since``) first makes sure the watch was watching: a list or a
    watch that answered after the reading was asked for (waiting up to LIVE_WAIT seconds), or
    after ``stop`` was called; else it fails, so a watch that died or lost the API server
    cannot pass a test on the values it saw before.
    """

    LIVE_WAIT = 30.0

    api: client.ApiClient
    namespace: str
    name: str
    seen: list[tuple[float, int | None]] = field(default_factory=list)
    errors: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replica-watch", daemon=True)
        self._lock = threading.Lock()
        self._answered: float | None = None  # when the API server last answered the watch
        self._stopped: float | None = None

    def start(self) -> ReplicaWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = time.monotonic()
        self._stop.set()
        self._thread.join(timeout=15)

    def values(self) -> list[int | None]:
        self._watching()
        with self._lock:
            return [v for _, v in self.seen]

    def since(self, start: float) -> list[int | None]:
        """The value in force at ``start`` and every later one."""
        self._watching()
        with self._lock:
            before = [v for t, v in self.seen if t < start][-1:]
            return before + [v for t, v in self.seen if t >= start]

    def last(self) -> int | None:
        with self._lock:
            return self.seen[-1][1] if self.seen else None

    def _watching(self) -> None:
        asked = self._stopped if self._stopped is not None else time.monotonic()
        end = time.monotonic() + self.LIVE_WAIT
        while self._stopped is None and self._thread.is_alive() and time.monotonic() < end:
            if self._answered is not None and self._answered >= asked:
                return
            time.sleep(0.1)
        answered = self._answered
        if answered is None or answered < asked - 6:  # a watch answers at least every 5 s
            ago = "never" if answered is None else f"{asked - answered:.1f}s before"
            raise AssertionError(
                f"the watch of {self.name} stopped watching (last answer: {ago}; "
                f"{self.errors} errors; thread alive: {self._thread.is_alive()})"
            )

    def _record(self, value: int | None) -> None:
        with self._lock:
            if not self.seen or self.seen[-1][1] != value:
                self.seen.append((time.monotonic(), value))

    def _run(self) -> None:
        apps = client.AppsV1Api(self.api)
        version: str | None = None
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._list(apps)
                version = self._follow(apps, version)
            except ApiException as error:
                self.errors += 1
                if error.status == 410:  # too old: list again
                    version = None
                self._stop.wait(0.5)
            except Exception:  # connection refused / reset while the API server is down
                self.errors += 1
                self._stop.wait(0.5)

    def _list(self, apps: client.AppsV1Api) -> str:
        found = apps.list_namespaced_deployment(
            self.namespace, field_selector=f"metadata.name={self.name}"
        )
        self._record(found.items[0].spec.replicas if found.items else None)
        self._answered = time.monotonic()
        return str(found.metadata.resource_version)

    def _follow(self, apps: client.AppsV1Api, version: str) -> str:
        stream = watch.Watch().stream(
            apps.list_namespaced_deployment,
            self.namespace,
            field_selector=f"metadata.name={self.name}",
            resource_version=version,
            timeout_seconds=5,
            _request_timeout=10,
        )
        for event in stream:
            item: Any = event["object"]
            version = str(item.metadata.resource_version)
            self._record(None if event["type"] == "DELETED" else item.spec.replicas)
            self._answered = time.monotonic()
            if self._stop.is_set():
                break
        self._answered = time.monotonic()  # the watch's timeout ended it: it was watching
        return version


def kubeconfig_for(api: client.ApiClient, path: Path) -> Path:
    """A kubeconfig file with the client's server, CA and bearer token (a ServiceAccount's,
    e.g. test_controller.restricted_client), so the CLI process runs with exactly that RBAC."""
    cfg = api.configuration
    token = cfg.api_key["authorization"].removeprefix("Bearer ")
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: sa\n"
        f"clusters: [{{name: c, cluster: {{server: '{cfg.host}', "
        f"certificate-authority: '{cfg.ssl_ca_cert}'}}}}]\n"
        f"users: [{{name: sa, user: {{token: '{token}'}}}}]\n"
        "contexts: [{name: sa, context: {cluster: c, user: sa}}]\n"
    )
    path.chmod(0o600)
    return path


@dataclass
class Figures:
    """One fault's figures for the table "Cluster faults" (docs/reliability/index.md)."""

    fault: str
    detect_s: float | None  # fault injected -> first failed round seen in /metrics
    recover_s: float | None  # fault removed -> target replicas and a clean round
    error_rounds: int  # failed rounds counted in node_placeholder_errors_total
    replicas: tuple[int | None, int | None]  # min and max spec.replicas from injection to recovery
    note: str = ""

    def row(self) -> str:
        def show(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        low, high = self.replicas
        return (
            f"| {self.fault} | {show(self.detect_s)} | {show(self.recover_s)} | "
            f"{self.error_rounds} | {low} / {high} | {self.note} |"
        )


class Probe:
    """The counters of one controller that the figures are read from."""

    def __init__(self, process: ControllerProcess, stage: str, pool: str = "user") -> None:
        self.process, self.stage, self.pool = process, stage, pool

    def errors(self) -> float:
        value = self.process.sample(
            "node_placeholder_errors_total", stage=self.stage, pool=self.pool
        )
        return value or 0.0

    def rounds(self) -> float:
        return self.process.sample("node_placeholder_reconcile_duration_seconds_count") or 0.0


class ControlPlane:
    """The test cluster's processes: kwokctl's components (binary runtime) and the autoscaler,
    each with a pid file under the state dir; their command line, directory and environment
    are read from /proc, so a process can be stopped and started again exactly as it was."""

    def __init__(self, kubeconfig: Path) -> None:
        self.state = kubeconfig.parent
        self.saved: dict[str, tuple[list[str], str, dict[str, str]]] = {}
        self.held: dict[str, PortHolder] = {}

    def pidfile(self, component: str) -> Path:
        return next(self.state.rglob(f"{component}.pid"))

    def pid(self, component: str) -> int:
        return int(self.pidfile(component).read_text().strip())

    def running(self, component: str) -> bool:
        try:
            os.kill(self.pid(component), 0)
        except (OSError, ValueError):
            return False
        return True

    def remember(self) -> None:
        """Command lines of every running process of the cluster (before a fault)."""
        for pidfile in self.state.rglob("*.pid"):
            component = pidfile.stem
            if not self.running(component):
                continue
            proc = Path(f"/proc/{self.pid(component)}")
            argv = proc.joinpath("cmdline").read_bytes().rstrip(b"\0").split(b"\0")
            environ = proc.joinpath("environ").read_bytes().rstrip(b"\0").split(b"\0")
            self.saved[component] = (
                [a.decode() for a in argv],
                os.readlink(proc / "cwd"),
                dict(e.decode().split("=", 1) for e in environ if b"=" in e),
            )

    def stop(self, component: str, *, hold_port: bool = False) -> None:
        """SIGTERM (SIGKILL after 90 s). ``hold_port``: its ``--secure-port`` is held from
        before the signal until ``start`` (testkit.ports.PortHolder; clients are refused
        meanwhile), so that no other process on this machine (another test cluster picking
        free ports) can take it."""
        held = self._hold(component) if hold_port else None
        pid = self.pid(component)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 90  # the API server drains its requests first
        while self.running(component) and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.running(component):
            os.kill(pid, signal.SIGKILL)
        if held is not None:
            held.serve()
            self.held[component] = held

    def _hold(self, component: str) -> PortHolder:
        argv = self.saved[component][0]
        options = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
        port = options.get("secure-port")
        if port is None or options.get("permit-port-sharing") != "true":
            raise RuntimeError(
                f"{component} cannot be held: it needs --secure-port and "
                "--permit-port-sharing=true (a cluster brought up by an older "
                "scripts/testcluster: bring it up again)"
            )
        return PortHolder(int(port), options.get("bind-address", "127.0.0.1"))

    def start(self, component: str) -> None:
        """Start it again with the remembered command line, appending to its log, with a new
        pid in its pid file (so ``scripts/testcluster down`` stops it)."""
        argv, cwd, environ = self.saved[component]
        held = self.held.pop(component, None)
        if held is None:  # its own serving port (metrics, health) may have been taken meanwhile
            argv = [
                f"--secure-port={free_port()}"
                if a.startswith("--secure-port=") and not port_free(int(a.split("=", 1)[1]))
                else a
                for a in argv
            ]
        pidfile = self.pidfile(component)
        kwok = pidfile.parent.name == "pids"
        log = (
            pidfile.parent.parent / "logs" / f"{component}.log"
            if kwok
            else pidfile.with_suffix(".log")
        )
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        pidfile.write_text(f"{process.pid}\n")
        if held is not None:
            held.hand_over(process)

    def restart_dead(self) -> list[str]:
        """Start every remembered process that is no longer running (kube-scheduler and
        kube-controller-manager exit when they lose their own leader Lease during an API
        outage); their names."""
        dead = [c for c in self.saved if not self.running(c)]
        for component in dead:
            self.start(component)
        return dead
