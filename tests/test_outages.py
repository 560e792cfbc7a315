"""outages.py and its place in the loop: one Warning Event per failure streak of a pool, one
Normal Event when it recovers, written by the leader only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.backends.capacitybuffers import BufferState
from node_placeholder_scaler.decisions import (
    Action,
    PoolDecision,
    RoundResult,
    Stage,
)
from node_placeholder_scaler.kube.objects import event_about
from node_placeholder_scaler.leadership import GatedCluster, NotLeader
from node_placeholder_scaler.loop import Controller
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.outages import FAILED, RECOVERED, Outages, WouldScale
from node_placeholder_scaler.port import Notice
from node_placeholder_scaler.reasons import WOULD_SCALE
from node_placeholder_scaler.server import Health
from testkit.fakes import GI, T0, FakeCluster, FakeDeployment
from testkit.planners import StaticPlanner
from testkit.unit import LOOP_SETTINGS as SETTINGS

NS = "node-placeholder"


def decision(action: Action, **kw: object) -> PoolDecision:
    return PoolDecision("user", "placeholder-user", action, **kw)  # type: ignore[arg-type]


def at(seconds: int, *decisions: PoolDecision) -> RoundResult:
    return RoundResult(T0 + timedelta(seconds=seconds), False, decisions)


def test_one_warning_per_streak_and_one_recovery_naming_the_outage() -> None:
    outages = Outages()
    down = decision(
        Action.ERROR, stage=Stage.DEPLOYMENT, error="get deployment: no answer", current=None
    )
    first = outages.observe(at(0, decision(Action.UNCHANGED, current=2, desired=2)))
    assert first == []
    warnings = [outages.observe(at(s, down)) for s in (30, 60, 90, 120)]
    assert [len(w) for w in warnings] == [1, 0, 0, 0]
    warning = warnings[0][0]
    assert (warning.reason, warning.warning) == (FAILED, True)
    assert warning.message == (
        "Pool user: deployment failed: get deployment: no answer. Placeholders left as they are; "
        "retried every round"
    )
    back = outages.observe(at(150, decision(Action.UNCHANGED, current=2, desired=2)))
    assert back == [
        Notice(
            "user",
            "placeholder-user",
            RECOVERED,
            "Pool user: recovered after 4 failed round(s) over 120 s (first error: deployment: "
            "get deployment: no answer); now 2 replicas, desired 2",
            False,
        )
    ]
    assert outages.observe(at(180, decision(Action.UNCHANGED, current=2, desired=2))) == []


def test_left_alone_neither_opens_nor_closes_a_streak() -> None:
    outages = Outages()
    outages.observe(at(0, decision(Action.ERROR, stage=Stage.SCALE, error="denied", current=2)))
    assert outages.observe(at(30, decision(Action.LEFT_ALONE))) == []
    assert "user" in outages.open
    assert outages.observe(at(60, decision(Action.LEFT_ALONE))) == []


def test_the_warning_event_is_a_warning_on_the_deployment_even_without_a_uid() -> None:
    involved = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "placeholder-user",
        "namespace": "ns",
        "uid": "",
    }
    body = event_about(involved, FAILED, "Pool user: ...", T0, warning=True, instance="pod-a")
    assert body["type"] == "Warning" and body["reportingInstance"] == "pod-a"
    assert body["involvedObject"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "placeholder-user",
        "namespace": "ns",
    }


@dataclass
class Sink:
    written: list[Notice] = field(default_factory=list)

    def record_notice(self, namespace: str, notice: Notice, now: datetime) -> None:
        self.written.append(notice)


def test_the_loop_writes_the_streak_events_and_a_standby_writes_none() -> None:
    fake = FakeCluster(
        namespace=NS, deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))}
    )
    fake.fail("get deployment", "placeholder-user", 403, "forbidden")
    sink, leading = Sink(), [True]
    metrics = Metrics(CollectorRegistry())
    controller = Controller(
        SETTINGS,
        fake,
        fake,
        StaticPlanner(user=2),
        metrics,
        Health(SETTINGS.interval, T0),
        NS,
        clock=lambda: T0,
        leader=Leader(leading),
        notices=sink,
    )
    for _ in range(3):
        controller.round()
    assert [n.reason for n in sink.written] == [FAILED]
    fake.heal("get deployment", "placeholder-user")
    controller.round()
    assert [n.reason for n in sink.written] == [FAILED, RECOVERED]
    assert fake.scales == [("placeholder-user", 2)]
    fake.fail("get deployment", "placeholder-user", 403, "forbidden")
    leading[0] = False
    controller.round()
    assert [n.reason for n in sink.written] == [FAILED, RECOVERED]  # a standby tells nothing


@dataclass
class Leader:
    leading: list[bool]

    def is_leader(self) -> bool:
        return self.leading[0]


def test_a_lost_lease_stops_the_warning_too() -> None:
    fake = FakeCluster(namespace=NS)
    gated = GatedCluster(fake, lambda: False)
    with pytest.raises(NotLeader, match="not the leader"):
        gated.record_notice(NS, Notice("user", "placeholder-user", FAILED, "x", True), T0)
    assert fake.events == [] and fake.calls == []  # not even the Deployment's uid was read


def test_a_dry_run_tells_each_change_it_would_make_once_and_writes_no_replicas() -> None:
    """run --dry-run: a WouldScale Event per new would-be change (not one per round), the
    would_scale gauge, and no scale patch."""
    fake = FakeCluster(
        namespace=NS, deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))}
    )
    sink, planner = Sink(), StaticPlanner(user=2)
    metrics = Metrics(CollectorRegistry())
    controller = Controller(
        SETTINGS,
        fake,
        fake,
        planner,
        metrics,
        Health(SETTINGS.interval, T0),
        NS,
        dry_run=True,
        clock=lambda: T0,
        notices=sink,
    )
    for _ in range(3):
        controller.round()
    assert [(n.reason, n.warning) for n in sink.written] == [(WOULD_SCALE.name, False)]
    assert sink.written[0].message.startswith(
        "Dry run: would scale placeholders of pool user from 0 to 2 (calendar target 2"
    )
    assert fake.scales == []
    gauge = metrics.registry.get_sample_value("node_placeholder_would_scale", {"pool": "user"})
    assert gauge == 1
    planner.targets["user"] = 3  # a new would-be change: told again
    controller.round()
    assert [n.message.split(" (")[0] for n in sink.written][1:] == [
        "Dry run: would scale placeholders of pool user from 0 to 3"
    ]
    planner.targets["user"] = 0  # nothing to change: gauge 0, nothing told
    controller.round()
    assert len(sink.written) == 2
    assert metrics.registry.get_sample_value("node_placeholder_would_scale", {"pool": "user"}) == 0


def test_would_scale_forgets_a_pool_that_settled() -> None:
    would = WouldScale()
    change = decision(Action.WOULD_SCALE, current=0, desired=2, target=2)
    assert len(would.observe(at(0, change))) == 1
    assert would.observe(at(30, decision(Action.UNCHANGED, current=0, desired=0))) == []
    assert len(would.observe(at(60, change))) == 1  # the same change again after a pause


def test_a_buffer_pool_gets_no_would_scale_event() -> None:
    """A buffer pool has no Deployment to put the Event on: its log line and gauge tell."""
    state = BufferState("buffer-user", None, {}, None)
    change = decision(Action.WOULD_SCALE, current=0, desired=2, target=2, buffer=state)
    assert WouldScale().observe(at(0, change)) == []
