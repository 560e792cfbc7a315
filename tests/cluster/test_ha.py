"""High availability on the real test control plane: several ``run`` processes, one Lease.

Three controller processes (the real CLI, each with its own loopback metrics port and
identity) in turn, with a calendar event active: exactly one writes; the leader is killed
with SIGKILL mid-event and the standby takes over after the lease; the new leader is stopped
with SIGTERM and releases the Lease, so the next standby takes over at its next retry. A watch
on the placeholder Deployment records every ``spec.replicas`` throughout; every scale Event
names the replica that wrote it (``reportingInstance``).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from kubernetes import client

from testkit.cluster import wait_for
from testkit.cluster_env import Env, env, ical, now_utc
from testkit.controller import ControllerProcess, ReplicaWatch
from testkit.results import Recording, pytest_command, store_if_asked

pytestmark = pytest.mark.cluster
__all__ = ["env"]  # the fixture, shared with test_controller

LEASE = "node-placeholder-scaler"
LEASE_SECONDS, RETRY_SECONDS = 4, 1  # short, so that the test is quick (defaults 15 s, 2 s)
ELECTION = "leaderElection: {leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s}"


def leader_gauge(process: ControllerProcess) -> float | None:
    return process.sample("node_placeholder_leader")


def patches(process: ControllerProcess) -> float:
    return sum(
        process.sample("node_placeholder_scale_patches_total", pool="user", direction=d) or 0
        for d in ("up", "down")
    )


def lease(env: Env) -> client.V1Lease:
    return client.CoordinationV1Api(env.api).read_namespaced_lease(LEASE, env.ns)


def scale_events(env: Env) -> list[tuple[str, str]]:
    """(reportingInstance, message) of every scale Event, oldest first."""
    events = env.core.list_namespaced_event(env.ns, field_selector="reason=PlaceholdersScaled")
    ordered = sorted(events.items, key=lambda e: (e.first_timestamp, e.metadata.resource_version))
    return [(e.reporting_instance, e.message) for e in ordered]


def set_target(env: Env, users: int) -> None:
    now = now_utc()
    event = ("Data 8 final", now - timedelta(minutes=5), now + timedelta(hours=1), f"user: {users}")
    (env.tmp / "calendar.ics").write_text(ical([event]))


def test_one_writer_takeover_after_kill_and_handover_on_sigterm(env: Env) -> None:
    recording = Recording("ha-takeover", pytest_command("tests/cluster/test_ha.py"))
    deployment = env.placeholders("user")
    set_target(env, 2)
    config = env.config(
        {"user": ""},
        calendar=(env.tmp / "calendar.ics").read_text(),
        extra=f"calendarRefreshInterval: 2s\n{ELECTION}",
    )
    witness = ReplicaWatch(env.api, env.ns, deployment).start()
    a, b, c = (ControllerProcess(config, env.cluster.kubeconfig, n, env.tmp) for n in "abc")
    try:
        a.start()
        wait_for("a leads", lambda: leader_gauge(a) == 1, timeout=60)
        b.start()
        wait_for("b is a ready standby", lambda: b.get("/readyz")[0] == 200, timeout=60)
        assert leader_gauge(b) == 0 and "standby (leader: a)" in b.get("/readyz")[1]
        wait_for("2 placeholders", lambda: env.replicas(deployment) == 2, timeout=30)
        time.sleep(3 * 2)  # three more rounds of both: the standby stays silent
        assert patches(a) == 1 and patches(b) == 0
        assert "action=scaled" not in b.output()

        a.kill()
        killed = time.monotonic()
        set_target(env, 3)  # only a leader can act on it now
        wait_for("b leads", lambda: leader_gauge(b) == 1, timeout=LEASE_SECONDS + 30)
        took_over = time.monotonic() - killed
        wait_for("3 placeholders", lambda: env.replicas(deployment) == 3, timeout=30)
        first_write = time.monotonic() - killed
        assert lease(env).spec.holder_identity == "b"
        assert lease(env).spec.lease_transitions == 1

        c.start()
        wait_for("c is a ready standby", lambda: c.get("/readyz")[0] == 200, timeout=60)
        stopping = time.monotonic()
        assert b.stop() == 0  # SIGTERM: the round ends, then the Lease is released
        wait_for("c leads", lambda: leader_gauge(c) == 1, timeout=LEASE_SECONDS + 30)
        handover = time.monotonic() - stopping
        set_target(env, 4)
        wait_for("4 placeholders", lambda: env.replicas(deployment) == 4, timeout=30)
        assert c.stop() == 0
        assert lease(env).spec.holder_identity in (None, "")
    finally:
        for process in (a, b, c):
            process.kill()
        witness.stop()
    print(
        f"\nHA: takeover after kill -9: leader in {took_over:.1f} s, first write in "
        f"{first_write:.1f} s (lease {LEASE_SECONDS} s, retry {RETRY_SECONDS} s); "
        f"handover on SIGTERM: {handover:.1f} s; replicas seen: {witness.values()}"
    )
    # never a scale-down blip: every value the watch saw, in order
    assert witness.values() == [0, 2, 3, 4]
    # never a second writer: each scale Event names its writer, and writers never interleave
    writers = scale_events(env)
    assert [(w, m.split(" (")[0]) for w, m in writers] == [
        ("a", "Scaled placeholders of pool user from 0 to 2"),
        ("b", "Scaled placeholders of pool user from 2 to 3"),
        ("c", "Scaled placeholders of pool user from 3 to 4"),
    ]
    log_b = b.output()
    assert log_b.index("b is now the leader") < log_b.index("action=scaled")
    assert "released the lease" in log_b and "released the lease" in c.output()
    store_if_asked(
        recording,
        "ha-takeover",
        {
            "lease_s": LEASE_SECONDS,
            "retry_s": RETRY_SECONDS,
            "interval_s": 2,
            "takeover_s": round(took_over, 2),
            "first_write_s": round(first_write, 2),
            "handover_s": round(handover, 2),
            "replicas": witness.values(),
        },
    )
