"""zero-to-jupyterhub in the surge benchmark: who places the pods, and z2jh's static placeholders.

``--scheduler z2jh`` starts the test cluster with z2jh's user scheduler (scripts/testcluster
--user-scheduler: a second kube-scheduler with z2jh's packing configuration) and gives the
students and every placeholder of ours its schedulerName, as a z2jh site does with
examples/z2jh/values.yaml; ``--scheduler default`` leaves them to the cluster's default
scheduler (z2jh with ``scheduling.userScheduler.enabled: false``). ``--spawner kubespawner``
makes each student's pod the one KubeSpawner builds from z2jh's default singleuser values
(testkit/z2jh_students.py). The strategy ``z2jh-static`` is z2jh's ``scheduling.userPlaceholder``:
a StatefulSet of user-sized pause pods at z2jh's user-placeholder priority, always there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client

from testkit import z2jh as hub
from testkit.z2jh_students import Hub, SpawnerValues

from . import cluster
from .scenario import SCHEDULERS, Scenario

STATIC = "z2jh-static"
SPAWNERS = ("plain", "kubespawner")


def check(s: Scenario) -> str | None:
    """The error of a scenario whose z2jh choices are unknown or do not go together."""
    if s.scheduler not in SCHEDULERS:
        return f"unknown scheduler {s.scheduler!r}: use one of {', '.join(SCHEDULERS)}"
    if s.spawner not in SPAWNERS:
        return f"unknown spawner {s.spawner!r}: use one of {', '.join(SPAWNERS)}"
    if s.spawner == "kubespawner" and s.blocked_every:
        return "--blocked-every needs --spawner plain (one KubeSpawner profile for all)"
    return None


def describe(s: Scenario) -> list[str]:
    """The report's scenario lines about z2jh (none for the benchmark without it)."""
    if s.spawner == "plain" and s.scheduler == "default":
        return []
    who = (
        "z2jh's user scheduler (MostAllocated packing, z2jh "
        f"{hub.Z2JH_VERSION}'s plugin weights) as {hub.user_scheduler()}"
        if s.scheduler == "z2jh"
        else "the cluster's default kube-scheduler"
    )
    lines = [f"- Scheduler of students and every placeholder: {who}."]
    if s.spawner == "kubespawner":
        lines.append(
            "- Students and steady sessions: pods KubeSpawner's own start() creates (a hub "
            "process, no JupyterHub; testkit/z2jh_students.py) with z2jh "
            f"{hub.Z2JH_VERSION}'s default singleuser values (tolerations, preferred "
            "node-purpose affinity, priority class jhub-default-priority at 0), the pool's "
            "nodeSelector and the students' size as guarantees; z2jh's continuous image "
            "puller on the pool's nodes."
        )
    return lines


def cluster_args(s: Scenario) -> list[str]:
    return ["--user-scheduler"] if s.scheduler == "z2jh" else []


def scheduler_name(s: Scenario) -> str | None:
    """The schedulerName of students and placeholders (None: the cluster's default)."""
    return hub.user_scheduler() if s.scheduler == "z2jh" else None


def placement(s: Scenario) -> dict[str, Any]:
    """The pod spec keys our placeholders get beside z2jh (examples/z2jh/values.yaml): its
    scheduler's name and z2jh's user tolerations (none for plain students and the default
    scheduler: the benchmark without z2jh)."""
    name = scheduler_name(s)
    if s.spawner == "plain" and name is None:
        return {}
    return {
        "tolerations": [dict(t) for t in hub.USER_TOLERATIONS],
        **({"schedulerName": name} if name else {}),
    }


def setup(api: client.ApiClient, namespace: str, s: Scenario, strategy: str) -> str | None:
    """With KubeSpawner students: z2jh's PriorityClasses and its continuous image puller on
    the pool's nodes; for ``z2jh-static`` its user-placeholder StatefulSet (returns its name)."""
    if s.spawner == "plain" and strategy != STATIC:
        return None
    hub.apply_priority_classes(api)
    apps = client.AppsV1Api(api)
    apps.create_namespaced_daemon_set(
        namespace, hub.continuous_image_puller(node_selector=dict(cluster.SELECTOR))
    )
    if strategy != STATIC:
        return None
    body = hub.user_placeholder_statefulset(
        s.static_placeholders,
        cpu=f"{round(s.student_cpu * 1000)}m",
        memory=_memory(s),
        scheduler_name=scheduler_name(s) or "default-scheduler",
        node_selector=dict(cluster.SELECTOR),
    )
    apps.create_namespaced_stateful_set(namespace, body)
    return str(body["metadata"]["name"])


def _memory(s: Scenario) -> str:
    return f"{round(s.student_memory_gi * 1024)}Mi"


class HubSpawner:
    """Sessions started and stopped by KubeSpawner in the hub process (testkit/z2jh_students)."""

    def __init__(self, hub_process: Hub) -> None:
        self.hub = hub_process

    def create(self, name: str, role: str, blocked: bool) -> None:
        self.hub.spawn(name)

    def delete(self, name: str) -> None:
        self.hub.stop(name)

    def problems(self) -> list[str]:
        return [
            f"spawn {r['name']}: {r.get('error')}"
            for r in self.hub.results()
            if r["event"] == "failed"
        ]


@contextmanager
def spawner(s: Scenario, kubeconfig: Path, namespace: str) -> Iterator[cluster.Spawner]:
    """Plain pods, or KubeSpawner with z2jh's default singleuser values and the scenario's
    size: singleuser.cpu/memory.guarantee, singleuser.nodeSelector (the pool), the release's
    default priority, and the user scheduler with ``--scheduler z2jh``. KubeSpawner's
    start_timeout covers the whole run, so no spawn is given up while it waits for a node."""
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(kubeconfig))
    if s.spawner == "plain":
        yield cluster.PlainSpawner(api, namespace, s)
        return
    values = SpawnerValues(
        namespace=namespace,
        scheduler_name=scheduler_name(s),
        cpu_guarantee=s.student_cpu,
        mem_guarantee=_memory(s).replace("Mi", "M"),
        node_selector=dict(cluster.SELECTOR),
        start_timeout=round(s.wall(s.before + s.after)) + 600,
    )
    with Hub(kubeconfig, values) as process:
        yield HubSpawner(process)
