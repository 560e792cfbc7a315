"""metrics.py on a private registry."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from node_placeholder_scaler.decisions import (
    POOL_STAGES,
    ROUND_STAGES,
    Action,
    Direction,
    PoolDecision,
    RoundResult,
    Stage,
)
from node_placeholder_scaler.feeds.book import CalendarBook
from node_placeholder_scaler.feeds.types import FeedStatus, FetchResult
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import Plan, PoolTarget, Problem, ProblemKind
from node_placeholder_scaler.reports.record import EventReport, ReportAdvice
from testkit.ics import Event, calendar
from testkit.unit import make_settings

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_round_metrics():
    metrics = Metrics(CollectorRegistry())
    decisions = (
        PoolDecision(
            "user",
            "placeholder-user",
            Action.SCALED,
            target=3,
            free=1,
            desired=2,
            current=0,
            pending=1,
        ),
        PoolDecision(
            "gpu", "placeholder-gpu", Action.ERROR, target=1, stage=Stage.DEPLOYMENT, error="404"
        ),
        PoolDecision(
            "big",
            "placeholder-big",
            Action.SCALED,
            target=0,
            desired=0,
            current=2,
            event_error="403",
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
        (Problem(ProblemKind.BAD_VALUE, "x"), Problem(ProblemKind.BAD_VALUE, "y")),
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


def test_feed_gauges_follow_the_statuses_and_fetches_are_counted_as_told():
    metrics = Metrics()
    ok = FeedStatus("courses", True, T0, 30.0, "ok", T0)
    metrics.fetched("courses", FetchResult.OK)
    metrics.observe_feeds([ok])
    metrics.observe_feeds([ok])  # a round reads the statuses: it counts no fetch
    later = T0 + timedelta(minutes=5)
    metrics.fetched("courses", FetchResult.TIMEOUT)
    metrics.observe_feeds([FeedStatus("courses", True, T0, 300.0, "timeout", later)])
    reg = metrics.registry
    assert value(reg, "node_placeholder_feed_fetches_total", calendar="courses", result="ok") == 1
    assert (
        value(reg, "node_placeholder_feed_fetches_total", calendar="courses", result="timeout") == 1
    )
    assert value(reg, "node_placeholder_feed_staleness_seconds", calendar="courses") == 300
    assert value(reg, "node_placeholder_feed_up", calendar="courses") == 1
    assert (
        value(reg, "node_placeholder_feed_last_success_timestamp_seconds", calendar="courses")
        == T0.timestamp()
    )


def series(registry: CollectorRegistry, name: str, label: str) -> set[str]:
    """The values of ``label`` among the samples of ``name``."""
    return {
        sample.labels[label]
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name
    }


def test_initialise_creates_exactly_every_value_of_every_vocabulary():
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user", "gpu"], ["courses"])
    reg = metrics.registry
    assert set(ROUND_STAGES) | set(POOL_STAGES) == set(Stage)
    assert series(reg, "node_placeholder_errors_total", "stage") == set(Stage)
    for stage in ROUND_STAGES:
        assert value(reg, "node_placeholder_errors_total", stage=stage, pool="") == 0
    for pool in ("user", "gpu"):
        for stage in POOL_STAGES:
            assert value(reg, "node_placeholder_errors_total", stage=stage, pool=pool) == 0
        for direction in Direction:
            assert (
                value(reg, "node_placeholder_scale_patches_total", pool=pool, direction=direction)
                == 0
            )
    assert series(reg, "node_placeholder_scale_patches_total", "direction") == set(Direction)
    assert series(reg, "node_placeholder_problems", "kind") == set(ProblemKind)
    for kind in ProblemKind:
        assert value(reg, "node_placeholder_problems", kind=kind) == 0
    assert series(reg, "node_placeholder_feed_fetches_total", "result") == set(FetchResult)
    for result in FetchResult:
        assert (
            value(reg, "node_placeholder_feed_fetches_total", calendar="courses", result=result)
            == 0
        )


def test_fetch_results_the_feeds_report_are_created_up_front(tmp_path):
    """Each result a real refresh comes to is a series at 0 before it happens, then 1."""
    broken = tmp_path / "broken.ics"
    broken.write_bytes(b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:notadate\n")
    good = tmp_path / "good.ics"
    good.write_bytes(calendar([Event("Lab", T0, T0 + timedelta(hours=1), "user: 3")]))
    big = tmp_path / "big.ics"
    big.write_bytes(b"x" * 2048)
    settings = make_settings(
        "maxFeedBytes: 1024\ncalendars:\n"
        f"  - {{name: good, url: {good}}}\n"
        f"  - {{name: missing, url: {tmp_path / 'missing.ics'}}}\n"
        f"  - {{name: broken, url: {broken}}}\n"
        f"  - {{name: big, url: {big}}}\n"
        "pools: {user: {}}\n"
    )
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["good", "missing", "broken", "big"])
    reg = metrics.registry
    name = "node_placeholder_feed_fetches_total"
    book = CalendarBook(settings, sink=metrics)
    book.refresh(T0, force=True)
    statuses = book.statuses(T0)  # the one FeedStatus type, as the loop hands it to metrics
    assert len({s.last_result for s in statuses}) == 4, statuses
    for status in statuses:  # each fetch counted as it happened, by its typed result
        assert value(reg, name, calendar=status.name, result=status.last_result) == 1
    book.refresh(T0 + timedelta(seconds=1), force=True)  # two fetches before the next round
    metrics.observe_feeds(book.statuses(T0))
    for status in statuses:  # the good feed's second fetch: "unchanged"
        assert (
            sum(value(reg, name, calendar=status.name, result=r) or 0 for r in FetchResult) == 2
        ), status.name


DASHBOARD = Path(__file__).parent.parent / "helm/node-placeholder-scaler/files/dashboard.json"
MATCHER = re.compile(r'\b(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
VOCABULARIES: dict[str, set[str]] = {
    "stage": set(Stage),
    "direction": set(Direction),
    "action": set(Action),
    "result": set(FetchResult),
    "kind": set(ProblemKind),
}


def unknown_label_values(expr: str) -> list[str]:
    """``label="value"`` matchers (a regex matcher: each alternative) naming no vocabulary value."""
    unknown = []
    for label, op, text in MATCHER.findall(expr):
        if label not in VOCABULARIES or text.startswith("$"):
            continue
        values = text.split("|") if op in ("=~", "!~") else [text]
        unknown += [f"{label}={v}" for v in values if v not in VOCABULARIES[label]]
    return unknown


def expressions(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for child in node.values() for e in expressions(child)]
    if isinstance(node, list):
        return [e for child in node for e in expressions(child)]
    return []


def test_dashboard_names_only_label_values_that_exist():
    exprs = expressions(json.loads(DASHBOARD.read_text()))
    assert any("node_placeholder_errors_total" in e for e in exprs)
    assert [u for e in exprs for u in unknown_label_values(e)] == []


def test_unknown_label_values_finds_phantoms():
    expr = (
        'sum(rate(node_placeholder_feed_fetches_total{result=~"ok|error", job=~"$job"}[5m]))'
        ' + node_placeholder_errors_total{stage="plan", pool="user"}'
        ' + node_placeholder_scale_patches_total{direction="up"}'
        ' + node_placeholder_problems{kind!="feed-eror"}'
    )
    assert unknown_label_values(expr) == ["result=error", "stage=plan", "kind=feed-eror"]


PAGE = Path(__file__).parent.parent / "docs" / "reference" / "metrics.md"


def test_the_metrics_page_lists_exactly_the_exported_metrics_with_their_labels():
    """docs/reference/metrics.md (generated from the registry) against what a registry that
    saw a round, a feed and a report exports."""
    rows = re.findall(
        r"^\| `node_placeholder_(\w+)` \| \w+ \| ([^|]*) \|", PAGE.read_text(), flags=re.MULTILINE
    )
    listed = {name: set(re.findall(r"`(\w+)`", labels)) for name, labels in rows}
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["courses"], buffer_pools=["user"])
    user = PoolTarget("user", 3, 3, False, ())
    metrics.observe_plan(Plan(T0, {"user": user}, (), (), {"user": T0}))
    decision = PoolDecision(
        "user", "placeholder-user", Action.SCALED, target=3, free=1, desired=2, current=0
    )
    metrics.observe_round(RoundResult(T0, False, (decision,)), 0.1, T0)
    would = replace(decision, action=Action.WOULD_SCALE)
    metrics.observe_round(RoundResult(T0, True, (would,)), 0.1, T0)  # a dry run's gauge
    metrics.observe_feeds([FeedStatus("courses", True, T0, 1.0, "ok", T0)])
    metrics.observe_report(
        "user", EventReport("user", "s", "Lab", T0, T0, advice=ReportAdvice(nodes=4))
    )
    exported = {}
    for family in metrics.registry.collect():
        name = family.name.removeprefix("node_placeholder_")
        name += "_total" if family.type == "counter" else ""
        labels = {k for s in family.samples for k in s.labels if k not in ("le",)}
        exported[name] = labels
    assert listed == exported
