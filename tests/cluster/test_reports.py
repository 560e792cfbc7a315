"""The event reports' live path on the real test control plane.

``node-placeholder-scaler run`` (the real CLI process, calendar from a file) warms one node
for a short event; students arrive at its start and preempt the placeholder, one student asks
for a node label that no node has; the test plays the autoscaler and adds the next node
(kwok, with a boot delay). After the event's end plus the settle time the controller must have
written the report where operators look: a Kubernetes Event (reason EventReport) on the
placeholder Deployment, its metrics, and the ConfigMap that ``report`` prints, also after a
controller restart (which must not report the same event twice).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from testkit.cluster import event_messages, running_on, wait_for
from testkit.cluster_env import REPO, Env, ical
from testkit.cluster_env import env as env  # noqa: PLC0414  (the fixture, re-exported)
from testkit.manifests import pod_manifest
from testkit.ports import free_port

pytestmark = pytest.mark.cluster


@contextmanager
def controller(env: Env, config: Path, port: int) -> Iterator[None]:
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
        stdout=subprocess.DEVNULL,
        stderr=(env.tmp / "controller.log").open("ab"),
    )
    try:
        wait_for("controller serving /healthz", lambda: metrics(port) != "", timeout=60)
        yield
    except BaseException:
        print((env.tmp / "controller.log").read_text()[-6000:])  # shown when the test fails
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def metrics(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return ""


def report_events(env: Env) -> list[str]:
    return event_messages(env.core, env.ns, "EventReport", "placeholder-user")


def report_cli(env: Env, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "node_placeholder_scaler",
            "report",
            "--config",
            str(config),
            "--kubeconfig",
            str(env.cluster.kubeconfig),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )


def test_after_an_event_the_report_is_an_event_a_metric_and_survives_a_restart(env: Env) -> None:
    env.placeholders("user", cpu="3500m", memory="14Gi")
    env.add_node("user")  # an old node, nearly full: no warm room without a placeholder
    env.user_pod("user", "steady", cpu="3500m")
    wait_for(
        "the steady session running", lambda: running_on(env.core, env.ns, "steady"), timeout=60
    )
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=40)
    end = start + timedelta(seconds=20)
    calendar = ical([("Lab 1", start, end, "user: 1\nlead: 35s")])
    port = free_port()
    extra = (
        f"metricsPort: {port}\nmetricsAddress: 127.0.0.1\n"
        "reports: {waitTarget: 5s, settleTime: 10s, retention: 3}"
    )
    config = env.config({"user": ""}, calendar=calendar, extra=extra)
    selector = env.pool_label("user")
    with controller(env, config, port):
        wait_for("a pending placeholder", lambda: _placeholders(env) == (0, 1), timeout=60)
        env.add_node("user", boot_delay="4s", wait=False)  # the autoscaler's part
        wait_for("the warm placeholder running", lambda: _placeholders(env) == (1, 0), timeout=60)
        wait_for("the event's start", lambda: datetime.now(UTC) >= start, timeout=60)
        for i in range(3):  # three students preempt the placeholder and fill its node
            env.user_pod("user", f"student-{i}", cpu="1")
        blocked = {**selector, "hub.jupyter.org/node-purpose": "user"}  # no node has it
        env.core.create_namespaced_pod(
            env.ns, pod_manifest("student-typo", cpu="100m", memory="64Mi", node_selector=blocked)
        )
        wait_for(
            "the preempted placeholder Pending", lambda: _placeholders(env) == (0, 1), timeout=60
        )
        env.add_node("user", boot_delay="4s", wait=False)
        wait_for(
            "the placeholder rolled onto the new node",
            lambda: _placeholders(env) == (1, 0),
            timeout=60,
        )
        for i in range(3):
            assert running_on(env.core, env.ns, f"student-{i}")
        wait_for("the EventReport Event", lambda: report_events(env), timeout=120)
        [message] = report_events(env)
        text = metrics(port)
    assert "Lab 1" in message and "4 arrivals" in message
    assert "capacity ready in time: yes (1/1 warm at start)" in message
    assert "nodes were not the bottleneck" in message and "didn't match" in message
    assert "no advice: too few arrivals" in message
    assert 'node_placeholder_capacity_ready_in_time{pool="user"} 1.0' in text
    assert 'node_placeholder_user_wait_seconds_count{pool="user"} 4.0' in text
    assert "node_placeholder_recommended_nodes{" not in text  # too thin to advise

    printed = report_cli(env, config, "--output", "json", "--namespace", env.ns)
    assert printed.returncode == 0, printed.stderr
    [report] = json.loads(printed.stdout)["reports"]
    assert (report["arrivals"], report["asked"], report["warm_at_start"]) == (4, 1, 1)
    assert report["preempted"] == 1 and report["nodes_added"] == 2
    assert report["over_target"] == report["while_free"] == 1  # the typo student
    assert report["bottleneck"] == "not-nodes"
    assert report["node_up_s"]["max"] >= 4  # Pending placeholder -> its node Ready (boot 4 s)

    with controller(env, config, port):  # restarted: the report is still there, once
        wait_for(
            "the gauge restored from the report ConfigMap",
            lambda: 'node_placeholder_capacity_ready_in_time{pool="user"} 1.0' in metrics(port),
            timeout=60,
        )
        table = report_cli(env, config, "--namespace", env.ns, "--since", "1h")
        assert table.returncode == 0, table.stderr
        assert "Lab 1" in table.stdout and "not-nodes" in table.stdout
        assert len(report_events(env)) == 1


def _placeholders(env: Env) -> tuple[int, int]:
    """(running, pending) placeholder pods."""
    pods = env.core.list_namespaced_pod(env.ns, label_selector="app=placeholder-user").items
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    running = sum(1 for p in live if p.spec.node_name)
    return running, len(live) - running
