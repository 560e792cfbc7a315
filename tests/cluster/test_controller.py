"""The controller against the real test control plane (scripts/testcluster).

Each test gets its own namespace (placeholder Deployments) and its own nodes, selected by a
label unique to the test, so tests never see each other's nodes. Nodes are created by hand
the way the autoscaler would create them (kwok plays the kubelet, with a boot delay).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from testkit.cluster import (
    running_on,
    wait_for,
)
from testkit.cluster_env import (
    GPU,
    GPU_TAINT,
    GPU_TOLERATION,
    REPO,
    Env,
    cleanup_cluster_rbac,
    controller,
    ical,
    now_utc,
    restricted_client,
)
from testkit.cluster_env import env as env  # noqa: PLC0414  (the fixture, imported to be used)
from testkit.planners import StaticPlanner

pytestmark = pytest.mark.cluster

# --- through the CLI (`run --once`), with a real calendar file ---------------------------


def test_scale_up_at_the_event_with_lead_and_down_after(env: Env) -> None:
    deployment = env.placeholders("user")
    start = now_utc() + timedelta(minutes=10)
    calendar = ical([("Data 8 final", start, start + timedelta(hours=1), "user: 2\nlead: 15m")])
    config = env.config({"user": "maxReplicas: 5"}, calendar=calendar)
    done = env.run(config)
    assert done.returncode == 0, done.stderr
    assert env.replicas(deployment) == 2
    assert "pool=user target=2 free=0 desired=2 current=0" in done.stderr
    messages = wait_for("the scale Event", env.scale_events, timeout=10)
    assert "from 0 to 2" in messages[0] and "Data 8 final" in messages[0]
    assert f"Data 8 final (courses/event-0@nps@{start:%Y-%m-%dT%H:%M}Z)" in messages[0]

    past = now_utc() - timedelta(hours=2)
    (env.tmp / "calendar.ics").write_text(
        ical([("Data 8 final", past, past + timedelta(hours=1), "user: 2")])
    )
    done = env.run(config)
    assert done.returncode == 0, done.stderr
    assert env.replicas(deployment) == 0
    messages = wait_for(
        "two scale Events", lambda: len(env.scale_events()) == 2 and env.scale_events(), timeout=10
    )
    assert "from 2 to 0" in messages[1] and "no active calendar event" in messages[1]


def test_headroom_from_a_half_full_node_reduces_the_count(env: Env) -> None:
    deployment = env.placeholders("user")
    half, empty = env.add_node("user"), env.add_node("user")
    env.user_pod("user", "student", cpu="2", memory="8Gi")
    assert wait_for(
        "student running", lambda: running_on(env.core, env.ns, "student"), timeout=60
    ) in (half, empty)
    now = now_utc()
    calendar = ical([("Lab", now - timedelta(minutes=1), now + timedelta(hours=1), "user: 3")])
    done = env.run(env.config({"user": ""}, calendar=calendar))
    assert done.returncode == 0, done.stderr
    assert "target=3 free=1 desired=2" in done.stderr  # floor(0.5 + 1.0) = 1
    assert env.replicas(deployment) == 2


def test_dry_run_changes_nothing(env: Env) -> None:
    deployment = env.placeholders("user")
    now = now_utc()
    calendar = ical([("Lab", now - timedelta(minutes=1), now + timedelta(hours=1), "user: 2")])
    done = env.run(env.config({"user": ""}, calendar=calendar), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would scale pool=user" in done.stderr
    assert env.replicas(deployment) == 0
    assert env.scale_events() == []


def test_a_deleted_deployment_does_not_stop_the_other_pool(env: Env) -> None:
    deployment = env.placeholders("user")
    now = now_utc()
    calendar = ical(
        [("Lab", now - timedelta(minutes=1), now + timedelta(hours=1), "user: 2\ngpu: 1")]
    )
    done = env.run(env.config({"user": "", "gpu": ""}, calendar=calendar))
    assert done.returncode == 1  # --once reports the failed pool
    assert "pool=gpu" in done.stderr and "404" in done.stderr
    assert env.replicas(deployment) == 2


# --- in process, with the real client and a planner the test drives ----------------------


def test_forbidden_pool_does_not_stop_the_other_and_rbac_is_enough(env: Env) -> None:
    user = env.placeholders("user")
    env.placeholders("gpu")
    api = restricted_client(env, allowed=[user])
    try:
        ctl = controller(
            env, env.settings({"user": "", "gpu": ""}), StaticPlanner(user=1, gpu=1), api_client=api
        )
        result = ctl.round()
    finally:
        cleanup_cluster_rbac(env)
    assert result is not None
    decisions = {d.pool: d for d in result.pools}
    assert decisions["gpu"].action == "error" and decisions["gpu"].stage == "deployment"
    assert "403" in (decisions["gpu"].error or "")
    assert decisions["user"].action == "scaled" and decisions["user"].event_error is None
    assert env.replicas(user) == 1


def test_preemption_new_node_and_no_oscillation(env: Env) -> None:
    """Placeholders roll ahead of users; a booting node and a pending placeholder never make
    the controller scale down (the only patches are 1 and 2)."""
    deployment = env.placeholders("user")
    env.add_node("user")
    env.add_node("user")
    ctl = controller(env, env.settings({"user": ""}), StaticPlanner(user=2))
    patches: list[int] = []

    def rounds(n: int) -> None:
        for _ in range(n):
            result = ctl.round()
            assert result is not None
            decision = result.pools[0]
            assert decision.error is None, decision.error
            if decision.action == "scaled":
                assert decision.desired is not None
                patches.append(decision.desired)

    rounds(1)
    assert patches == []  # two empty nodes are two warm nodes
    env.user_pod("user", "student-1", cpu="3")
    wait_for("student-1 running", lambda: running_on(env.core, env.ns, "student-1"), timeout=60)
    rounds(1)  # free = floor(0.25 + 1) = 1 -> 1 placeholder
    wait_for("a placeholder running", lambda: running_placeholders(env) == 1, timeout=60)
    rounds(1)  # its node now hosts a placeholder: free 0 -> 2, one pending
    assert patches == [1, 2]
    wait_for("a pending placeholder", lambda: pending_placeholders(env) == 1, timeout=30)
    # the autoscaler's part: a new node that boots for a few seconds
    env.add_node("user", boot_delay="6s", wait=False)
    for _ in range(4):
        rounds(1)
    wait_for("both placeholders running", lambda: running_placeholders(env) == 2, timeout=60)
    rounds(1)
    # a user arrives: preempts a placeholder, which goes pending (and would add a node)
    env.user_pod("user", "student-2", cpu="3")
    wait_for(
        "student-2 running (preempted a placeholder)",
        lambda: running_on(env.core, env.ns, "student-2"),
        timeout=60,
    )
    wait_for(
        "the preempted placeholder pending", lambda: pending_placeholders(env) == 1, timeout=30
    )
    # an empty node too small for a placeholder: one free node-equivalent, but pending
    env.add_node("user", cpu="3")
    rounds(2)
    assert patches == [1, 2]
    assert env.replicas(deployment) == 2


def test_gpu_pool_counts_gpus(env: Env) -> None:
    deployment = env.placeholders(
        "gpu", cpu="7", memory="60Gi", extra={GPU: "2"}, tolerations=[GPU_TOLERATION]
    )
    gpu: dict[str, Any] = {
        "cpu": "8",
        "memory": "64Gi",
        "taints": [GPU_TAINT],
        "extra_resources": {GPU: "2"},
    }
    busy = env.add_node("gpu", **gpu)
    env.add_node("gpu", **gpu)
    # one GPU user on the first node: little CPU, but all of its GPUs
    name = "gpu-student"
    env.user_pod("gpu", name, cpu="1", extra={GPU: "2"}, tolerations=[GPU_TOLERATION])
    assert wait_for(
        "gpu student running", lambda: running_on(env.core, env.ns, name), timeout=60
    ) in (busy, env.nodes[1])
    ctl = controller(env, env.settings({"gpu": ""}), StaticPlanner(gpu=2))
    result = ctl.round()
    assert result is not None
    decision = result.pools[0]
    assert (decision.free, decision.desired) == (1, 1), decision.log_line()
    assert env.replicas(deployment) == 1
    wait_for("the GPU placeholder running", lambda: running_placeholders(env) == 1, timeout=60)


# --- helpers -------------------------------------------------------------------------------


def placeholder_pods(env: Env) -> list[Any]:
    pods = env.core.list_namespaced_pod(env.ns, label_selector="app=placeholder-user").items
    pods += env.core.list_namespaced_pod(env.ns, label_selector="app=placeholder-gpu").items
    return [p for p in pods if not p.metadata.deletion_timestamp]


def running_placeholders(env: Env) -> int:
    return sum(1 for p in placeholder_pods(env) if p.status.phase == "Running")


def pending_placeholders(env: Env) -> int:
    return sum(
        1 for p in placeholder_pods(env) if p.status.phase == "Pending" and not p.spec.node_name
    )


def test_run_loop_serves_probes_uses_the_pod_cache_and_stops_on_sigterm(env: Env) -> None:
    import signal
    import socket
    import urllib.error
    import urllib.request

    deployment = env.placeholders("user")
    env.add_node("user")
    env.user_pod("user", "student", cpu="2", memory="8Gi")
    wait_for("student running", lambda: running_on(env.core, env.ns, "student"), timeout=60)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    now = now_utc()
    calendar = ical([("Lab", now - timedelta(minutes=1), now + timedelta(hours=1), "user: 3")])
    listen = f"metricsPort: {port}\nmetricsAddress: 127.0.0.1"
    config = env.config({"user": ""}, calendar=calendar, extra=listen)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "node_placeholder_scaler",
            "run",
            "--config",
            str(config),
            "--kubeconfig",
            str(env.cluster.kubeconfig),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(base + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    try:
        wait_for("/readyz 200", lambda: get("/readyz")[0] == 200, timeout=60)
        assert get("/healthz")[0] == 200
        wait_for(
            "3 placeholders (free 0.5 node is not a whole one)",
            lambda: env.replicas(deployment) == 3,
            timeout=30,
        )
        metrics = get("/metrics")[1]
        assert 'node_placeholder_desired_replicas{pool="user"} 3.0' in metrics
        assert 'node_placeholder_calendar_target{pool="user"} 3.0' in metrics
        assert 'node_placeholder_feed_up{calendar="courses"} 1.0' in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "pod cache:" in stderr and "stopped" in stderr
