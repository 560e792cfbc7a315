"""preflight/watch.py: the controller's pool checks, each cause told once as a Warning Event."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry

from node_placeholder_scaler.clusterfacts import PoolCheckFacts, PoolShape
from node_placeholder_scaler.kube.objects import resources
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.port import Notice
from node_placeholder_scaler.preflight.watch import PoolWatch
from testkit.unit import make_settings, utc

T0 = utc("2026-03-09T08:00")
SETTINGS = make_settings(
    "calendars: [{url: /dev/null}]\npools: {user: {nodeSelector: "
    "{pool: user}}, gpu: {nodeSelector: {pool: gpu}}}\n"
)


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.notices: list[Notice] = []
        self.fail = fail

    def record_notice(self, namespace: str, notice: Notice, now: datetime) -> None:
        if self.fail:
            raise RuntimeError("API down")
        self.notices.append(notice)


def facts(user_selector: str) -> PoolCheckFacts:
    shapes = (
        PoolShape(
            "user",
            "Deployment nps/placeholder-user (pool user)",
            {"pool": user_selector},
            resources({"cpu": "1"}),
            10,
            (),
        ),
        PoolShape("gpu", "pool gpu", {}, None, 10, ()),
    )
    return PoolCheckFacts(shapes, (), (), refused=())


def value(metrics: Metrics, pool: str, check: str) -> float | None:
    return metrics.registry.get_sample_value(
        "node_placeholder_pool_findings", {"pool": pool, "check": check}
    )


def test_each_cause_is_told_once_and_again_when_it_comes_back() -> None:
    state = {"selector": "usre"}
    recorder, metrics = Recorder(), Metrics(CollectorRegistry())
    watch = PoolWatch(
        SETTINGS,
        "nps",
        lambda: facts(state["selector"]),
        recorder,
        metrics,
        every=timedelta(minutes=10),
    )
    assert watch.maybe_run(T0, leading=True)
    [notice] = recorder.notices
    assert (notice.pool, notice.deployment, notice.reason, notice.warning) == (
        "user",
        "placeholder-user",
        "PoolSelectorMatchesNothing",
        True,
    )
    assert notice.message.startswith("pools.user.nodeSelector {pool=usre}: matches no node")
    assert "Fix: set pools.user.nodeSelector" in notice.message
    assert value(metrics, "user", "selector") == 1 and value(metrics, "gpu", "selector") == 0
    assert watch.maybe_run(T0 + timedelta(minutes=5), leading=True) is None  # not due
    assert watch.maybe_run(T0 + timedelta(minutes=10), leading=True)
    assert len(recorder.notices) == 1  # the same cause: no second Event
    state["selector"] = "user-pool"  # ... a node pool with that label would make it go away;
    watch.read = lambda: PoolCheckFacts((), (), ())  # here: nothing to find
    assert watch.maybe_run(T0 + timedelta(minutes=20), leading=True) == []
    assert value(metrics, "user", "selector") == 0
    watch.read = lambda: facts("usre")
    watch.maybe_run(T0 + timedelta(minutes=30), leading=True)
    assert len(recorder.notices) == 2  # it came back: told again


def test_a_standby_or_dry_run_sets_the_metric_and_writes_nothing() -> None:
    for leading, dry_run in ((False, False), (True, True)):
        recorder, metrics = Recorder(), Metrics(CollectorRegistry())
        watch = PoolWatch(
            SETTINGS, "nps", lambda: facts("usre"), recorder, metrics, dry_run=dry_run
        )
        watch.maybe_run(T0, leading=leading)
        assert recorder.notices == [] and value(metrics, "user", "selector") == 1


def test_a_failed_write_is_counted_and_tried_again() -> None:
    recorder, metrics = Recorder(fail=True), Metrics(CollectorRegistry())
    watch = PoolWatch(SETTINGS, "nps", lambda: facts("usre"), recorder, metrics, every=timedelta(0))
    watch.maybe_run(T0, leading=True)
    assert (
        metrics.registry.get_sample_value(
            "node_placeholder_errors_total", {"stage": "event", "pool": "user"}
        )
        == 1
    )
    recorder.fail = False
    watch.maybe_run(T0, leading=True)
    assert len(recorder.notices) == 1


def test_an_unreadable_cluster_is_no_crash() -> None:
    def broken() -> PoolCheckFacts:
        raise RuntimeError("connection refused")

    watch = PoolWatch(SETTINGS, "nps", broken, Recorder(), Metrics(CollectorRegistry()))
    assert watch.maybe_run(T0, leading=True) is None
