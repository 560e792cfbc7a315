"""Class-sized requests live, with the test cluster's real Karpenter, for both backends.

``node-placeholder-scaler run`` (the real CLI process, calendar from a file) reads an event
``user: 24 students``; fewer come (0.5 CPU, 1 Gi: 7 per node-sized placeholder), evenly over
40 s from its start, so warm room for those who do not come is left to release. (With
placeholders, a refill node Karpenter launched between a preemption and the round that lowered
the Deployment holds free seats too: only 10 come, so some warm room is left whatever it did.)
The controller must warm a ramp (one node first, more as the arrivals come near, not all
four at the lead), stop refilling once students + free + warm seats cover the class (the warm
count never rises again), and release what is left once the hold has passed; the scale
Events, the class gauges and the event report say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from test_buffer import karpenter_only, no_spare_user_nodes
from test_reports import controller, metrics

from testkit.cluster import event_messages, running_on, wait_for
from testkit.cluster_buffers import create_buffer, read_buffer
from testkit.cluster_env import PLACEHOLDER_CLASS, Env, ical
from testkit.cluster_env import env as env  # noqa: PLC0414  (the fixture, re-exported)
from testkit.manifests import POOL_LABEL, USER_POOL, pod_manifest
from testkit.ports import free_port

pytestmark = pytest.mark.cluster

POOL = {POOL_LABEL: USER_POOL}
STUDENTS, SPREAD, HOLD = 24, 40.0, 50.0  # a class of 24 arriving over 40 s; hold 50 s
COME, COME_BUFFER = 10, 18  # the students who come
PER_NODE = 7  # 3500m / 500m


@dataclass
class Sample:
    at: datetime
    warm: int  # placeholder replicas, or buffer replicas
    phase: str
    seated: int = 0  # the class gauges: students seated, free seats beside them
    free: int = 0


@dataclass
class Run:
    start: datetime
    samples: list[Sample] = field(default_factory=list)

    def phases(self) -> list[str]:
        return [s.phase for s in self.samples]


def _phase(text: str) -> str:
    found = re.search(r'node_placeholder_class_phase\{phase="(\w+)",pool="user"\} 1\.0', text)
    return found[1] if found else "?"


def _seats(text: str, kind: str) -> int:
    found = re.search(
        rf'node_placeholder_class_seats\{{kind="{kind}",pool="user"\}} ([0-9.]+)', text
    )
    return round(float(found[1])) if found else 0


def _config(env: Env, start: datetime, extra_pool: str) -> tuple[Path, int, float]:
    end = start + timedelta(seconds=HOLD + 15)
    (env.tmp / "calendar.ics").write_text(
        ical([("Data 8", start, end, f"Data 8 lab\nuser: {STUDENTS} students\nlead: 60s")])
    )
    node_up = round(env.cluster.boot_delay + env.cluster.scan_interval + 10)
    port = free_port()
    path = env.tmp / "config.yaml"
    path.write_text(
        f"namespace: {env.ns}\ninterval: 2s\ncalendarRefreshInterval: 2s\n"
        f"metricsPort: {port}\nmetricsAddress: 127.0.0.1\n"
        f"calendars: [{{name: courses, url: {env.tmp / 'calendar.ics'}}}]\n"
        "reports: {waitTarget: 5s, settleTime: 10s}\n"
        "pools:\n  user: {nodeSelector: {hub.jupyter.org/pool-name: user-pool}, maxReplicas: 8, "
        f"seatCpu: 0.5, seatMemory: 1Gi, arrivalSpread: {SPREAD:.0f}s, nodeUp: {node_up}s, "
        f"hold: {HOLD:.0f}s{extra_pool}}}\n"
    )
    return path, port, node_up


def _students_and_samples(
    env: Env, run: Run, port: int, warm: Callable[[], int], came: int
) -> None:
    """Create the ``came`` students on their schedule; sample the warm count and phase every
    second until the release has been seen."""
    offsets = [SPREAD * i / came for i in range(came)]
    created = 0

    def step() -> bool:
        nonlocal created
        now = datetime.now(UTC)
        while created < came and now >= run.start + timedelta(seconds=offsets[created]):
            env.core.create_namespaced_pod(
                env.ns,
                pod_manifest(f"student-{created}", cpu="500m", memory="1Gi", node_selector=POOL),
            )
            created += 1
        text = metrics(port)
        run.samples.append(
            Sample(now, warm(), _phase(text), _seats(text, "seated"), _seats(text, "free"))
        )
        return run.samples[-1].phase == "released" and created == came

    wait_for(
        "the class released after its hold",
        step,
        timeout=(run.start - datetime.now(UTC)).total_seconds() + HOLD + 120,
        interval=1,
    )


def _ramp_bound(run: Run, node_up: float, at: datetime) -> int:
    """The most warm nodes the rule asks for at ``at``: the arrivals expected by one node-up
    time and one interval later (2 s), with 5 s of slack for the round's own timing."""
    ahead = (at - run.start).total_seconds() + node_up + 2 + 5
    needed = STUDENTS * min(1.0, max(0.0, ahead / SPREAD))
    return math.ceil(needed / PER_NODE)


def _judge(run: Run, node_up: float, *, buffer: bool = False) -> None:
    """Ramp, no refill once seated, release: from the samples."""
    for s in run.samples:
        print(
            f"{(s.at - run.start).total_seconds():+6.1f}s warm={s.warm} phase={s.phase} "
            f"seated={s.seated} free={s.free}"
        )
    phases = run.phases()
    assert "ramp" in phases and "seated" in phases and phases[-1] == "released"
    ramp = [s for s in run.samples if s.phase == "ramp"]
    whole = math.ceil(STUDENTS / PER_NODE)
    assert ramp[0].warm < whole, ramp[0]  # not the whole class at the lead
    over = [s for s in ramp if s.warm > _ramp_bound(run, node_up, s.at)]
    assert not over, over  # the ramp follows the arrivals one node-up time ahead
    assert max(s.warm for s in run.samples) >= 3  # ...but it grew with the arrivals
    first = phases.index("seated")
    seated = [s.warm for s in run.samples[first:] if s.phase == "seated"]
    assert all(b <= a for a, b in pairwise(seated)), seated  # no refill
    assert run.samples[-1].warm == 0
    if not buffer:
        assert seated[-1] > 0  # room for those who did not come
        return
    # A buffer's chunks are virtual: students spread over its nodes, and the room left beside
    # them (where a node-sized chunk no longer fits) is counted as free seats, so the buffer
    # is lowered by it instead of booting a node for each displaced chunk.
    beside = [s for s in run.samples[first:] if s.phase == "seated"]
    assert any(s.free > 0 for s in beside), beside
    last = beside[-1]  # room for those who did not come: chunks or free seats beside students
    assert last.seated + last.free + last.warm * PER_NODE >= STUDENTS, last


def _report(messages: Callable[[], list[str]]) -> str:
    [text] = wait_for("the EventReport Event", messages, timeout=120)
    print(text)
    assert "class of 24 students (7 seats per node)" in text
    assert "ramp from" in text and "seated at" in text and "released at" in text
    return text


def test_a_class_warms_a_ramp_stops_refilling_and_releases_with_placeholders(env: Env) -> None:
    if env.cluster.autoscaler != "karpenter":
        pytest.skip("needs the test cluster's Karpenter")
    no_spare_user_nodes(env)
    name = "placeholder-user"
    pod = pod_manifest(
        name,
        cpu="3500m",
        memory="14Gi",
        priority_class=PLACEHOLDER_CLASS,
        node_selector=POOL,
        labels={"app": name},
    )
    env.apps.create_namespaced_deployment(
        env.ns,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
            },
        },
    )
    run = Run(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=75))
    config, port, node_up = _config(env, run.start, "")
    with controller(env, config, port):
        _students_and_samples(env, run, port, lambda: env.replicas(name), COME)
        scaled = env.scale_events()
        text = _report(lambda: event_messages(env.core, env.ns, "EventReport", name))
    _judge(run, node_up)
    assert any("class phase ramp: " in m for m in scaled)
    assert any("class phase seated: " in m and "no refill" in m for m in scaled)
    assert any("class phase released: arrival window (hold 50s)" in m for m in scaled)
    wait_for(
        "every student running",
        lambda: all(running_on(env.core, env.ns, f"student-{i}") for i in range(COME)),
        timeout=120,
    )
    assert f"{COME} arrivals" in text


def test_a_class_warms_a_ramp_stops_refilling_and_releases_with_a_buffer(env: Env) -> None:
    karpenter_only(env.cluster)
    no_spare_user_nodes(env)
    create_buffer(env.api, env.ns, "warm-user")
    run = Run(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=75))
    config, port, node_up = _config(
        env, run.start, f", backend: capacityBuffer, buffer: warm-user, seatsPerNode: {PER_NODE}"
    )

    def replicas() -> int:
        return int(read_buffer(env.api, env.ns, "warm-user")["spec"].get("replicas") or 0)

    with controller(env, config, port):
        _students_and_samples(env, run, port, replicas, COME_BUFFER)
        scaled = event_messages(env.core, env.ns, "BufferScaled", "warm-user")
        text = _report(lambda: event_messages(env.core, env.ns, "EventReport", "warm-user"))
    _judge(run, node_up, buffer=True)
    assert any("class phase seated: " in m for m in scaled)
    # the release changes the buffer (and is told in its Event) only if chunks were left
    if [s for s in run.samples if s.phase == "seated"][-1].warm > 0:
        assert any("class phase released: " in m for m in scaled)
    wait_for(
        "every student running",
        lambda: all(running_on(env.core, env.ns, f"student-{i}") for i in range(COME_BUFFER)),
        timeout=120,
    )
    assert f"{COME_BUFFER} arrivals" in text
