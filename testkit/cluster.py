"""The real test control plane (scripts/testcluster) for tests, benchmarks and the demo.

Everything here talks to the cluster through the official ``kubernetes`` client and
polls with deadlines; nothing sleeps blindly.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from .manifests import NOT_READY_TAINT, POOL_LABEL, TEST_NODE_LABEL

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "testcluster"


T = TypeVar("T")


def parse_duration(text: str) -> float:
    """Go-style duration ("90s", "1m30s", "500ms") or plain seconds -> seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError(f"bad duration: {text!r}")
    return sum(float(a) * units[b] for a, b in parts)


@dataclass(frozen=True)
class TestCluster:
    """A running test cluster, as the ``testcluster`` fixture hands it out."""

    __test__ = False  # not a pytest test class

    kubeconfig: Path
    name: str
    params: dict[str, str] = field(default_factory=dict)
    started_here: bool = False

    @property
    def boot_delay(self) -> float:
        return parse_duration(self.params.get("BOOT_DELAY", "60s"))

    @property
    def scale_down_unneeded(self) -> float:
        return parse_duration(self.params.get("SCALE_DOWN_UNNEEDED", "1m"))

    @property
    def scan_interval(self) -> float:
        return parse_duration(self.params.get("SCAN_INTERVAL", "10s"))

    @property
    def autoscaler(self) -> str:
        """``cluster-autoscaler`` or ``none``."""
        return self.params.get("AUTOSCALER", "none")

    @property
    def bin_dir(self) -> Path | None:
        b = self.params.get("BIN")
        return Path(b) if b else None

    def api_client(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (e.g. the controller) aimed at this cluster."""
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        if self.bin_dir:
            env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env


def read_params(kubeconfig: Path) -> dict[str, str]:
    """The ``params.env`` that ``scripts/testcluster up`` writes beside the kubeconfig."""
    params: dict[str, str] = {}
    f = kubeconfig.parent / "params.env"
    if f.is_file():
        for line in f.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                params[key.strip()] = value.strip()
    return params


def script_up(name: str, extra_args: list[str] | None = None, timeout: float = 5400) -> Path:
    """Run ``scripts/testcluster up``; its last stdout line is the kubeconfig path."""
    proc = subprocess.run(
        [str(SCRIPT), "up", "--name", name, *(extra_args or [])],
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/testcluster up failed with exit code {proc.returncode}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return Path(lines[-1])


def script_down(name: str) -> None:
    subprocess.run([str(SCRIPT), "down", "--name", name], check=False, timeout=300)


class ClusterUnavailable(Exception):
    """The test cluster could not be reused or brought up; the message says why."""


@contextlib.contextmanager
def session(
    name: str, up_args: list[str] | None = None, *, reuse: str | None = None
) -> Iterator[TestCluster]:
    """A test cluster for one test session: the running cluster whose kubeconfig is ``reuse``
    (left as it is), or else ``name`` brought up by ``scripts/testcluster up`` (with
    ``up_args``) and taken down at the end unless NPS_TESTCLUSTER_KEEP=1."""
    if reuse:
        kubeconfig = Path(reuse)
        if not kubeconfig.is_file():
            raise ClusterUnavailable(f"{reuse} does not exist")
        params = read_params(kubeconfig)
        yield TestCluster(kubeconfig=kubeconfig, name=params.get("NAME", "external"), params=params)
        return
    try:
        kubeconfig = script_up(name, up_args)
    except Exception as error:
        script_down(name)
        raise ClusterUnavailable(f"could not bring the test cluster {name} up: {error}") from None
    try:
        yield TestCluster(
            kubeconfig=kubeconfig, name=name, params=read_params(kubeconfig), started_here=True
        )
    finally:
        if os.environ.get("NPS_TESTCLUSTER_KEEP") != "1":
            script_down(name)


def service_account_client(api: client.ApiClient, namespace: str, account: str) -> client.ApiClient:
    """A client on ``api``'s server that authenticates as ServiceAccount ``namespace/account``
    (a fresh one-hour token): requests get exactly that account's RBAC."""
    token = (
        client.CoreV1Api(api)
        .create_namespaced_service_account_token(
            account, namespace, {"spec": {"expirationSeconds": 3600}}
        )
        .status.token
    )
    admin = api.configuration
    configuration = client.Configuration()
    configuration.host = admin.host
    configuration.ssl_ca_cert = admin.ssl_ca_cert
    configuration.verify_ssl = admin.verify_ssl
    configuration.api_key = {"authorization": "Bearer " + token}
    return client.ApiClient(configuration)


def wait_for(
    what: str,
    probe: Callable[[], T | Literal[False] | None],
    timeout: float,
    interval: float = 0.5,
) -> T:
    """Call ``probe`` until it returns something truthy (that value: never None or False);
    fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except ApiException as e:  # transient API errors count as "not yet"
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}"
            )
        time.sleep(interval)


def holds_for(
    what: str, probe: Callable[[], object], duration: float, interval: float = 1.0
) -> None:
    """Assert that ``probe`` stays truthy for ``duration`` seconds."""
    deadline = time.monotonic() + duration
    while True:
        value = probe()
        assert value, f"{what} stopped holding: {value!r}"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def namespace_name_for(nodeid: str) -> str:
    """A valid, unique namespace name derived from a pytest node id."""
    test = nodeid.rsplit("::", maxsplit=1)[-1].lower()
    base = re.sub(r"[^a-z0-9-]+", "-", test).strip("-")[:40].strip("-")
    return unique_name(f"t-{base or 'test'}")


@dataclass
class Namespace:
    """A fresh namespace for one test; deleted at teardown."""

    name: str
    core: client.CoreV1Api


def create_namespace(api: client.ApiClient, name: str) -> Namespace:
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name, "labels": {"nps.testcluster/test": "true"}}})
    # The ServiceAccount controller creates "default"; pods need it when admission is on.
    wait_for(
        f"default ServiceAccount in {name}",
        lambda: any(
            sa.metadata.name == "default" for sa in core.list_namespaced_service_account(name).items
        ),
        timeout=30,
    )
    return Namespace(name=name, core=core)


def delete_namespace(ns: Namespace) -> None:
    try:
        ns.core.delete_namespace(ns.name, grace_period_seconds=0)
    except ApiException as e:
        if e.status != 404:
            raise


def ensure_priority_class(api: client.ApiClient, name: str, value: int) -> None:
    sched = client.SchedulingV1Api(api)
    body = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": name},
        "value": value,
        "globalDefault": False,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    try:
        sched.create_priority_class(body)
    except ApiException as e:
        if e.status != 409:
            raise
        existing = sched.read_priority_class(name)
        assert existing.value == value, f"PriorityClass {name} exists with value {existing.value}"


def event_messages(
    core: client.CoreV1Api, namespace: str, reason: str, involved: str | None = None
) -> list[str]:
    """The messages of the Events of ``reason`` in ``namespace`` (only those on the object
    named ``involved``, when given)."""
    found = core.list_namespaced_event(namespace, field_selector=f"reason={reason}").items
    return [str(e.message) for e in found if involved is None or e.involved_object.name == involved]


def node_ready(node: client.V1Node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))


def node_taint_keys(node: client.V1Node) -> set[str]:
    return {t.key for t in (node.spec.taints or [])}


def node_schedulable(node: client.V1Node) -> bool:
    """Ready, and the not-ready taint is gone (what the scheduler waits for)."""
    return node_ready(node) and NOT_READY_TAINT not in node_taint_keys(node)


def create_node(api: client.ApiClient, manifest: dict[str, Any]) -> client.V1Node:
    core = client.CoreV1Api(api)
    return core.create_node(manifest)


def delete_node(api: client.ApiClient, name: str) -> None:
    try:
        client.CoreV1Api(api).delete_node(name)
    except ApiException as e:
        if e.status != 404:
            raise


def pod_phase(core: client.CoreV1Api, namespace: str, name: str) -> str | None:
    try:
        return str(core.read_namespaced_pod(name, namespace).status.phase)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def pod_gone(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    return pod_phase(core, namespace, name) is None


def running_on(core: client.CoreV1Api, namespace: str, name: str) -> str | None:
    """The node name if the pod is Running, else None."""
    pod = core.read_namespaced_pod(name, namespace)
    if pod.status.phase == "Running" and pod.spec.node_name:
        return str(pod.spec.node_name)
    return None


def unschedulable(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    pod = core.read_namespaced_pod(name, namespace)
    return any(
        c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"
        for c in (pod.status.conditions or [])
    )


def pool_nodes(api: client.ApiClient, pool: str) -> list[client.V1Node]:
    core = client.CoreV1Api(api)
    return list(core.list_node(label_selector=f"{POOL_LABEL}={pool},!{TEST_NODE_LABEL}").items)


def cpu_millis(quantity: str) -> int:
    if quantity.endswith("m"):
        return int(quantity[:-1])
    return int(float(quantity) * 1000)


def free_cpu_millis(api: client.ApiClient, node: client.V1Node) -> int:
    """Allocatable CPU of the node minus the requests of its non-terminated pods."""
    core = client.CoreV1Api(api)
    pods = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node.metadata.name}")
    used = 0
    for pod in pods.items:
        if pod.status.phase in ("Succeeded", "Failed"):
            continue
        for c in pod.spec.containers:
            requests = (c.resources and c.resources.requests) or {}
            used += cpu_millis(requests.get("cpu", "0"))
    return cpu_millis(node.status.allocatable.get("cpu", "0")) - used


def iter_pids(state_dir: Path) -> Iterator[int]:
    for f in state_dir.rglob("*.pid"):
        text = f.read_text().strip()
        if text.isdigit():
            yield int(text)
