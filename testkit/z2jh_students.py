"""Students as zero-to-jupyterhub spawns them: KubeSpawner's own spawn path against the test
cluster.

A z2jh hub runs KubeSpawner (the ``jupyterhub-kubespawner`` package) with the settings its
jupyterhub_config.py derives from the chart's values. Here a small "hub" process
(``python -m testkit.z2jh_hub``) does the same: one KubeSpawner per student, configured by
``kubespawner_config`` with z2jh 4.4.0's defaults for user pods, and for each spawn request it
calls ``KubeSpawner.start()`` (KubeSpawner builds the pod, creates it, and waits through its pod
reflector until the pod is Running with an IP and ready containers) and on request ``stop()``.

What is simulated, and why: JupyterHub itself is not run. After ``start()`` returns the pod's
address, a real hub waits until the notebook server answers HTTP on it; kwok's pods run no
process, so nothing would answer. The students' pods, their scheduling and their start are
KubeSpawner's and the cluster's own; the student "logs in" when the parent asks for a spawn.
User storage is off (z2jh's default is a dynamic PVC; the test cluster has no storage
provisioner) and the cloud-metadata-blocking init container is left out (it requests nothing,
so placement is the same).

It runs in a process of its own because KubeSpawner configures the Kubernetes client globally
(from $KUBECONFIG, once per process) and runs on an asyncio loop: the parent, sync or async,
only writes requests and reads results through ``Hub``, which is safe to call from any thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client

from .z2jh import (
    DEFAULT_PRIORITY_CLASS,
    RELEASE,
    SINGLEUSER_IMAGE,
    USER_NODE_AFFINITY_PREFERRED,
    USER_TOLERATIONS,
    Z2JH_VERSION,
    user_scheduler,
)

STUDENT_SELECTOR = "component=singleuser-server"


@dataclass(frozen=True)
class SpawnerValues:
    """The z2jh values that decide a student pod's placement, with z2jh's defaults.

    ``scheduler_name`` None: the cluster's default scheduler (z2jh with
    ``scheduling.userScheduler.enabled: false``); ``priority_class`` None: no class
    (``scheduling.podPriority.enabled: false``, z2jh's default, which leaves z2jh's own user
    placeholders unpreemptable); ``cpu_guarantee``/``mem_guarantee``: singleuser.cpu/memory
    .guarantee; ``node_selector``: singleuser.nodeSelector."""

    namespace: str
    scheduler_name: str | None = field(default_factory=user_scheduler)
    priority_class: str | None = DEFAULT_PRIORITY_CLASS
    cpu_guarantee: float | None = None
    mem_guarantee: str = "1G"
    node_selector: dict[str, str] = field(default_factory=dict)
    start_timeout: int = 300


def kubespawner_config(values: SpawnerValues) -> dict[str, Any]:
    """KubeSpawner's traits as z2jh's jupyterhub_config.py sets them from the chart's values."""
    config: dict[str, Any] = {
        "namespace": values.namespace,
        "common_labels": {
            "app": "jupyterhub",
            "app.kubernetes.io/name": "jupyterhub",
            "release": RELEASE,
            "app.kubernetes.io/instance": RELEASE,
            "chart": f"jupyterhub-{Z2JH_VERSION}",
            "app.kubernetes.io/managed-by": "kubespawner",
        },
        "extra_labels": {"hub.jupyter.org/network-access-hub": "true"},
        "image": SINGLEUSER_IMAGE,
        "cmd": ["jupyterhub-singleuser"],
        "uid": 1000,
        "fs_gid": 100,
        "start_timeout": values.start_timeout,
        "mem_guarantee": values.mem_guarantee,
        "node_affinity_preferred": [dict(a) for a in USER_NODE_AFFINITY_PREFERRED],
        "tolerations": [dict(t) for t in USER_TOLERATIONS],
        "events_enabled": True,
        "storage_pvc_ensure": False,
        "volumes": [],
        "volume_mounts": [],
        "delete_grace_period": 1,
    }
    if values.scheduler_name:
        config["scheduler_name"] = values.scheduler_name
    if values.priority_class:
        config["priority_class_name"] = values.priority_class
    if values.cpu_guarantee is not None:
        config["cpu_guarantee"] = values.cpu_guarantee
    if values.node_selector:
        config["node_selector"] = dict(values.node_selector)
    return config


def student_pods(api: client.ApiClient, namespace: str) -> list[client.V1Pod]:
    """The students' pods in ``namespace`` (KubeSpawner labels them component=singleuser-server).
    A pod's wait as a student sees it is from its creation to its Ready condition;
    ``started``'s seconds add KubeSpawner's polling (it checks every 0.2 s, backing off to 5 s)."""
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=STUDENT_SELECTOR)
    return list(pods.items)


class HubError(RuntimeError):
    """The hub process failed or a student's result did not come in time."""


class Hub:
    """The hub process for one namespace's students. ``spawn(name)`` and ``stop(name)`` return at
    once; ``wait(name, event)`` blocks for that student's result (``started``: its pod name,
    address and ``seconds`` from the request to KubeSpawner's start returning; ``failed``:
    the error, after which the hub has stopped the server as JupyterHub does, so a pod still
    Pending after ``start_timeout`` is deleted; ``stopped``). Thread-safe; use as a context
    manager (``close`` ends the process; started pods stay until stopped or their namespace
    goes)."""

    def __init__(self, kubeconfig: Path, values: SpawnerValues) -> None:
        env = dict(os.environ, KUBECONFIG=str(kubeconfig))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "testkit.z2jh_hub"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lock = threading.Condition()
        self._results: list[dict[str, Any]] = []
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self._send({"op": "config", "config": kubespawner_config(values)})

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, message: dict[str, Any]) -> None:
        with self._lock:
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(message) + "\n")
            self._proc.stdin.flush()

    def _read_stdout(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._lock:
                self._results.append(json.loads(line))
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            with self._lock:
                self._stderr = [*self._stderr[-40:], line.rstrip()]

    def spawn(self, name: str) -> None:
        self._send({"op": "spawn", "name": name})

    def stop(self, name: str) -> None:
        self._send({"op": "stop", "name": name})

    def spawn_at(
        self, arrivals: Sequence[tuple[str, float]], start: float | None = None
    ) -> threading.Thread:
        """Spawn each ``(name, offset)`` at ``start + offset`` (time.monotonic(); default now)
        from a thread of its own, which is returned (join it to know all were asked for)."""
        t0 = time.monotonic() if start is None else start

        def run() -> None:
            for name, offset in sorted(arrivals, key=lambda a: a[1]):
                time.sleep(max(0.0, t0 + offset - time.monotonic()))
                self.spawn(name)

        thread = threading.Thread(target=run, name="z2jh-arrivals", daemon=True)
        thread.start()
        return thread

    def results(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._results]

    def wait(self, name: str, event: str = "started", timeout: float = 120) -> dict[str, Any]:
        """The student's ``event`` result (or ``failed``: raises HubError with its error)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for r in self._results:
                    if r["name"] == name and r["event"] in (event, "failed"):
                        if r["event"] == "failed" and event != "failed":
                            raise HubError(f"student {name}: {r['error']}")
                        return dict(r)
                left = deadline - time.monotonic()
                if left <= 0 or self._proc.poll() is not None:
                    raise HubError(
                        f"no {event!r} for student {name} "
                        f"(hub exit code {self._proc.poll()}); hub log tail: "
                        + " | ".join(self._stderr[-8:])
                    )
                self._lock.wait(min(left, 1.0))

    def close(self, timeout: float = 30) -> None:
        with self._lock:
            if self._proc.stdin and not self._proc.stdin.closed:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        for reader in self._readers:
            reader.join(10)
