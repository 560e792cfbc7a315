"""The live path of the event reports (reports/tracker.py, reporter.py) without a cluster: a
recorded surge is replayed into the Tracker as the pod watch would feed it, the rounds see the
pool's nodes through the fake cluster, and the Reporter writes the report when the occurrence
has settled. The cluster test (tests/cluster/test_reports.py) runs the same path against the
real thing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.config.sections import ReportSettings
from node_placeholder_scaler.decisions import Action, PoolDecision, RoundResult, Stage
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import Occurrence, Plan, PoolTarget
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.reports.reporter import Reporter
from node_placeholder_scaler.reports.timelines import timeline_from_dict
from node_placeholder_scaler.reports.tracker import Observing, Tracker
from testkit.fake_stores import MemoryReportStore
from testkit.fakes import GI, FakeCluster, FakeDeployment
from testkit.replays import FIXTURES, SELECTOR, node_info, recorder, settings

FIXTURE = FIXTURES / "sweep-n4-students-only.json"


def plan(at: datetime, occurrence: Occurrence | None) -> Plan:
    target = PoolTarget(
        "user",
        4 if occurrence else 0,
        4 if occurrence else None,
        False,
        (occurrence,) if occurrence else (),
    )
    return Plan(at, {"user": target}, (), ())


def replay(
    data: dict[str, Any], store: MemoryReportStore, metrics: Metrics, rounds: Sequence[float]
) -> FakeCluster:
    """The recorded surge, round by round (seconds from the event's start)."""
    pods, nodes = timeline_from_dict(data)
    w = data["window"]
    start, end = datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])
    occurrence = Occurrence(
        "course",
        w["series"],
        w["title"],
        start,
        end,
        {"user": w["asked"]},
        timedelta(seconds=w["lead_s"]),
    )
    cluster = FakeCluster(
        deployments={"placeholder-user": FakeDeployment(4, Resources(3900, 15 * GI))}
    )
    tracker = Tracker()
    reporter = Reporter(
        settings(),
        ReportSettings(wait_target=timedelta(seconds=7.5), settle=timedelta(minutes=5)),
        tracker,
        Observing(cluster),
        store=store,
        metrics=metrics,
    )
    reporter.restore()
    for i, pod in enumerate(pods):
        tracker.observe(f"uid-{i}", recorder(pod, i))
    for offset in rounds:
        now = start + timedelta(seconds=offset)
        cluster.nodes = [
            node_info(n, now)
            for n in nodes
            if n.created <= now and (n.deleted is None or n.deleted > now)
        ]
        reporter.observing.read_placeholders("node-placeholder", "placeholder-user")
        active = start - occurrence.lead <= now < end  # type: ignore[operator]
        if active:
            reporter.observing.list_nodes(SELECTOR)
        free = 0 if active else None
        result = RoundResult(
            now, False, (PoolDecision("user", "placeholder-user", Action.UNCHANGED, free=free),)
        )
        reporter.after_round(plan(now, occurrence if active else None), result, now)
    return cluster


def test_a_replayed_surge_is_reported_once_it_has_settled() -> None:
    data = json.loads(FIXTURE.read_text())
    store, metrics = MemoryReportStore(), Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["course"])
    cluster = replay(data, store, metrics, rounds=range(-60, 400, 8))
    [report] = store.reports["placeholder-user"]
    truth = data["bench_waits_cluster_s"]
    assert report["arrivals"] == 100
    assert report["wait_s"]["p95"] == pytest.approx(truth["p95"], abs=1)
    assert report["wait_s"]["max"] == pytest.approx(truth["max_wait"], abs=1)
    assert report["capacity_ready_in_time"] is False
    assert report["advice"]["users_per_node"] == 7  # 3900m / 500m
    assert report["advice"]["nodes"] > 4
    [(deployment, reason, message)] = cluster.events
    assert (deployment, reason) == ("placeholder-user", "EventReport")
    assert "capacity ready in time: no" in message and "next time ask for user:" in message
    sample = metrics.registry.get_sample_value
    assert (
        sample("node_placeholder_recommended_nodes", {"pool": "user"})
        == (report["advice"]["nodes"])
    )
    assert sample("node_placeholder_capacity_ready_in_time", {"pool": "user"}) == 0
    assert sample("node_placeholder_user_wait_seconds_count", {"pool": "user"}) == 100


def test_a_restart_restores_the_gauges_and_does_not_report_twice() -> None:
    data = json.loads(FIXTURE.read_text())
    store = MemoryReportStore()
    replay(data, store, Metrics(CollectorRegistry()), rounds=range(-60, 400, 8))
    again = Metrics(CollectorRegistry())
    cluster = replay(data, store, again, rounds=range(300, 420, 8))  # restarted after the end
    assert len(store.reports["placeholder-user"]) == 1 and cluster.events == []
    sample = again.registry.get_sample_value
    assert (
        sample("node_placeholder_recommended_nodes", {"pool": "user"})
        == (store.reports["placeholder-user"][0]["advice"]["nodes"])
    )


def test_a_store_failure_is_counted_and_the_controller_goes_on() -> None:
    data = json.loads(FIXTURE.read_text())
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["course"])
    refusing = MemoryReportStore(forbidden={"create", "update"})
    replay(data, refusing, metrics, rounds=range(-60, 400, 8))
    assert (
        metrics.registry.get_sample_value(
            "node_placeholder_errors_total", {"stage": Stage.REPORT, "pool": "user"}
        )
        == 1
    )
