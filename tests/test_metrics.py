"""metrics.py on a private registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from node_placeholder_scaler.metrics import FeedStatus, Metrics
from node_placeholder_scaler.model import Plan, PoolTarget, Problem
from node_placeholder_scaler.reconcile import PoolDecision, RoundResult

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_round_metrics():
    metrics = Metrics(CollectorRegistry())
    decisions = (
        PoolDecision(
            "user", "placeholder-user", "scaled", target=3, free=1, desired=2, current=0, pending=1
        ),
        PoolDecision("gpu", "placeholder-gpu", "error", target=1, stage="deployment", error="404"),
        PoolDecision(
            "big", "placeholder-big", "scaled", target=0, desired=0, current=2, event_error="403"
        ),
    )
    metrics.initialise(["user", "gpu", "big"], ["courses"])
    metrics.observe_round(RoundResult(T0, False, decisions), 0.2, T0)
    reg = metrics.registry
    assert value(reg, "node_placeholder_desired_replicas", pool="user") == 2
    assert value(reg, "node_placeholder_headroom_nodes", pool="user") == 1
    assert value(reg, "node_placeholder_current_replicas", pool="user") == 0
    assert value(reg, "node_placeholder_pending_placeholders", pool="user") == 1
    assert value(reg, "node_placeholder_desired_replicas", pool="gpu") is None
    assert value(reg, "node_placeholder_errors_total", stage="deployment", pool="gpu") == 1
    assert value(reg, "node_placeholder_errors_total", stage="event", pool="big") == 1
    assert value(reg, "node_placeholder_errors_total", stage="scale", pool="user") == 0
    assert value(reg, "node_placeholder_scale_patches_total", pool="user", direction="up") == 1
    assert value(reg, "node_placeholder_scale_patches_total", pool="big", direction="down") == 1
    assert value(reg, "node_placeholder_reconcile_duration_seconds_count") == 1
    assert value(reg, "node_placeholder_last_round_timestamp_seconds") == T0.timestamp()


def test_plan_metrics_and_problem_kinds_reset():
    metrics = Metrics()
    user = PoolTarget("user", 3, 3, False, ())
    start = T0 + timedelta(hours=2)
    first = Plan(
        T0,
        {"user": user},
        (),
        (Problem("bad-value", "x"), Problem("bad-value", "y")),
        {"user": start},
    )
    metrics.observe_plan(first)
    reg = metrics.registry
    assert value(reg, "node_placeholder_calendar_target", pool="user") == 3
    assert value(reg, "node_placeholder_problems", kind="bad-value") == 2
    assert (
        value(reg, "node_placeholder_next_event_start_timestamp_seconds", pool="user")
        == start.timestamp()
    )
    metrics.observe_plan(Plan(T0, {"user": user}, (), (), {"user": None}))
    assert value(reg, "node_placeholder_problems", kind="bad-value") == 0
    assert value(reg, "node_placeholder_next_event_start_timestamp_seconds", pool="user") is None


def test_feed_metrics_count_each_attempt_once():
    metrics = Metrics()
    ok = FeedStatus("courses", True, T0, 30.0, "ok", T0)
    metrics.observe_feeds([ok])
    metrics.observe_feeds([ok])  # same attempt seen again
    later = T0 + timedelta(minutes=5)
    metrics.observe_feeds([FeedStatus("courses", True, T0, 300.0, "error", later)])
    reg = metrics.registry
    assert value(reg, "node_placeholder_feed_fetches_total", calendar="courses", result="ok") == 1
    assert (
        value(reg, "node_placeholder_feed_fetches_total", calendar="courses", result="error") == 1
    )
    assert value(reg, "node_placeholder_feed_staleness_seconds", calendar="courses") == 300
    assert value(reg, "node_placeholder_feed_up", calendar="courses") == 1
    assert (
        value(reg, "node_placeholder_feed_last_success_timestamp_seconds", calendar="courses")
        == T0.timestamp()
    )
