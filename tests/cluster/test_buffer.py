"""Backend capacityBuffer with the test cluster's real Karpenter (v1.15, CapacityBuffer gate on).

The controller (``run --once`` through the CLI, with a real calendar file) sets spec.replicas of
a CapacityBuffer ahead of an event; Karpenter keeps room for the buffer's virtual pods by adding
a user-pool node; after the event the controller sets 0 and Karpenter takes the node away. A
user pod then lands on buffer capacity without any preemption (there is no pod to preempt).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from node_placeholder_scaler.backends.capacitybuffers import GROUP, PLURAL, VERSION
from testkit.cluster import Namespace, TestCluster, wait_for
from testkit.cluster_buffers import POOL, condition, create_buffer, read_buffer
from testkit.cluster_env import Env, ical, now_utc
from testkit.manifests import POOL_LABEL, USER_POOL, pod_manifest

pytestmark = pytest.mark.cluster

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "capacitybuffers"


@pytest.fixture
def env(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> Iterator[Env]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Env(kube_api, testcluster, namespace.name, {}, Path(tmp))


def karpenter_only(cluster: TestCluster) -> None:
    if cluster.autoscaler != "karpenter":
        pytest.skip("needs the test cluster's Karpenter (CapacityBuffer support)")


def buffer_when(
    api: client.ApiClient, ns: str, name: str, kind: str, expected: tuple[str, str]
) -> dict[str, Any] | None:
    """The buffer, once its condition ``kind`` is ``expected`` (status, reason); else None."""
    body = read_buffer(api, ns, name)
    return body if condition(body, kind) == expected else None


def record(body: dict[str, Any], name: str) -> None:
    """With NPS_RECORD_FIXTURES=1: keep this real object as a unit-test fixture."""
    if os.environ.get("NPS_RECORD_FIXTURES") != "1":
        return
    body = json.loads(json.dumps(body))
    body["metadata"].pop("managedFields", None)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / f"{name}.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")


def user_nodes(core: client.CoreV1Api) -> dict[str, bool]:
    """The user pool's nodes made by Karpenter -> Ready."""
    nodes = core.list_node(label_selector=f"{POOL_LABEL}={USER_POOL},karpenter.sh/nodepool").items
    return {
        n.metadata.name: any(
            c.type == "Ready" and c.status == "True" for c in n.status.conditions or []
        )
        for n in nodes
        if n.metadata.deletion_timestamp is None
    }


def buffer_config(env: Env, calendar: str) -> Path:
    ics = env.tmp / "calendar.ics"
    ics.write_text(calendar)
    path = env.tmp / "config.yaml"
    path.write_text(
        f"namespace: {env.ns}\ninterval: 2s\ncalendars: [{{name: courses, url: {ics}}}]\n"
        "pools:\n  user: {nodeSelector: {hub.jupyter.org/pool-name: user-pool}, "
        "backend: capacityBuffer, buffer: warm-user}\n"
    )
    return path


def no_spare_user_nodes(env: Env) -> None:
    """Wait until Karpenter has taken away the user nodes earlier tests left (else the buffer
    fits on one of them, rightly, and no node is added)."""
    wait_for(
        "no user node left by earlier tests",
        lambda: not user_nodes(env.core),
        timeout=env.cluster.scale_down_unneeded + 300,
        interval=2,
    )


def test_buffer_warms_ahead_of_the_event_and_lets_go_after_it(env: Env) -> None:
    karpenter_only(env.cluster)
    no_spare_user_nodes(env)
    record(create_buffer(env.api, env.ns, "warm-user"), "new")  # before any status
    wait_for(
        "Karpenter resolving the new buffer",
        lambda: (
            condition(read_buffer(env.api, env.ns, "warm-user"), "ReadyForProvisioning")
            == ("True", "Resolved")
        ),
        timeout=60,
    )
    before = set(user_nodes(env.core))
    boot = env.cluster.boot_delay
    # The event starts in 1 min with a 5 min lead (warm now) and ends a little after the boot.
    start = now_utc() + timedelta(minutes=1)
    end = max(start + timedelta(minutes=1), now_utc() + timedelta(seconds=boot + 120))
    config = buffer_config(env, ical([("Data 8 lab", start, end, "user: 1\nlead: 5m")]))
    out = env.run(config)
    assert out.returncode == 0, out.stderr
    assert "pool=user target=1 free=- desired=1 current=0" in out.stderr
    assert "action=scaled" in out.stderr
    body = read_buffer(env.api, env.ns, "warm-user")
    assert body["spec"]["replicas"] == 1
    events = env.core.list_namespaced_event(env.ns, field_selector="reason=BufferScaled").items
    assert [e.involved_object.kind for e in events] == ["CapacityBuffer"]

    def new_ready() -> list[str]:
        return [n for n, ready in user_nodes(env.core).items() if n not in before and ready]

    # Karpenter reports RequiresNewCapacity only until its NodeClaim exists: then the chunk
    # "fits existing capacity" (the launching node), long before that node is Ready.
    wait_for(
        "Karpenter adding a node for the buffer",
        lambda: (
            condition(read_buffer(env.api, env.ns, "warm-user"), "Provisioning")
            == ("False", "RequiresNewCapacity")
            or set(user_nodes(env.core)) - before
        ),
        timeout=60,
    )
    requires = read_buffer(env.api, env.ns, "warm-user")
    if condition(requires, "Provisioning") == ("False", "RequiresNewCapacity"):
        record(requires, "karpenter-requires-new")
    [warm] = wait_for("a new Ready user node for the buffer", new_ready, timeout=boot + 180)
    fits = wait_for(
        "the buffer fitting existing capacity",
        lambda: buffer_when(
            env.api, env.ns, "warm-user", "Provisioning", ("True", "FitsExistingCapacity")
        ),
        timeout=120,
    )
    record(fits, "karpenter-fits")
    # The warm node holds no pod of ours: the room is kept by virtual pods only.
    pods = env.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={warm}").items
    assert [p.metadata.name for p in pods if p.metadata.namespace == env.ns] == []

    wait_for("the event's end", lambda: now_utc() > end, timeout=boot + 300, interval=2)
    out = env.run(config)
    assert out.returncode == 0, out.stderr
    assert "desired=0 current=1" in out.stderr
    assert read_buffer(env.api, env.ns, "warm-user")["spec"]["replicas"] == 0
    empty = wait_for(
        "Karpenter seeing the empty buffer",
        lambda: buffer_when(env.api, env.ns, "warm-user", "Provisioning", ("False", "BufferEmpty")),
        timeout=60,
    )
    record(empty, "karpenter-empty")
    wait_for(
        "Karpenter taking the warm node away after the event",
        lambda: warm not in user_nodes(env.core),
        timeout=env.cluster.scale_down_unneeded + 240,
        interval=2,
    )


def test_user_pod_lands_on_buffer_capacity_without_preemption(env: Env) -> None:
    karpenter_only(env.cluster)
    no_spare_user_nodes(env)
    before = set(user_nodes(env.core))
    create_buffer(env.api, env.ns, "warm-user", replicas=1)

    def new_ready() -> list[str]:
        return [n for n, ready in user_nodes(env.core).items() if n not in before and ready]

    [warm] = wait_for(
        "a Ready node for the buffer", new_ready, timeout=env.cluster.boot_delay + 180
    )
    student = pod_manifest("student", cpu="3", memory="8Gi", node_selector=POOL)
    on_warm = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [warm]}]}
    student["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [on_warm]}
        }
    }
    env.core.create_namespaced_pod(env.ns, student)
    wait_for(
        "the student running on the warm node",
        lambda: env.core.read_namespaced_pod("student", env.ns).status.phase == "Running",
        timeout=60,
    )
    assert env.core.read_namespaced_pod("student", env.ns).spec.node_name == warm
    preempted = [
        e
        for e in env.core.list_event_for_all_namespaces(field_selector="reason=Preempted").items
        if e.last_timestamp is None or e.last_timestamp.timestamp() > now_utc().timestamp() - 600
    ]
    assert [
        e.involved_object.name for e in preempted if e.involved_object.namespace == env.ns
    ] == []
    # Refill: the chunk the student took is kept again elsewhere (Karpenter adds a node).
    wait_for(
        "Karpenter refilling the buffer on another node",
        lambda: [n for n in new_ready() if n != warm],
        timeout=env.cluster.boot_delay + 180,
    )
    client.CustomObjectsApi(env.api).patch_namespaced_custom_object(
        GROUP,
        VERSION,
        env.ns,
        PLURAL,
        "warm-user",
        {"spec": {"replicas": 0}},
        _content_type="application/merge-patch+json",
    )


def test_a_missing_pod_template_is_reported_per_pool(env: Env) -> None:
    karpenter_only(env.cluster)
    create_buffer(env.api, env.ns, "warm-user", template="no-such-template")
    broken = wait_for(
        "Karpenter marking the buffer not ready",
        lambda: buffer_when(
            env.api, env.ns, "warm-user", "ReadyForProvisioning", ("False", "PodTemplateNotFound")
        ),
        timeout=60,
    )
    record(broken, "karpenter-template-missing")
    start = now_utc() + timedelta(minutes=1)
    out = env.run(buffer_config(env, ical([("Lab", start, start + timedelta(hours=1), "user: 2")])))
    assert out.returncode == 1
    assert "stage=buffer" in out.stderr and "PodTemplateNotFound" in out.stderr
    warnings = env.core.list_namespaced_event(env.ns, field_selector="reason=BufferNotReady").items
    assert len(warnings) == 1 and warnings[0].type == "Warning"
