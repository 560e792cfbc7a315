"""The event report as pure functions over recorded pod/node timelines.

The fixtures in tests/fixtures/timelines/ are real recordings of the surge benchmark on the
test cluster (bench/surge_timeline.py wrote them from bench/results/*.json); each carries the
benchmark's own measured waits, the ground truth the report must match.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from node_placeholder_scaler.reports.advice import message, recommend, summary
from node_placeholder_scaler.reports.measurement import Measurement, measure, most_in_window
from node_placeholder_scaler.reports.record import from_json, to_json
from node_placeholder_scaler.reports.timelines import (
    NodeTimeline,
    PodTimeline,
    Window,
    selects_pool,
    timeline_from_dict,
    timeline_to_dict,
)

TIMELINES = Path(__file__).parent / "fixtures" / "timelines"
RECORDED = sorted(TIMELINES.glob("*.json"))
# every student was scheduled: the report's waits and the benchmark's are the same numbers
# (a student never scheduled waits until the window's end for the benchmark, until its
# deletion or the report for the report)
ALL_SCHEDULED = [p for p in RECORDED if "blocked" not in p.stem]
POOL = {"hub.jupyter.org/pool-name": "user-pool"}
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def window_of(data: dict[str, Any]) -> Window:
    w = data["window"]
    return Window(
        w["pool"],
        w["series"],
        w["title"],
        datetime.fromisoformat(w["start"]),
        datetime.fromisoformat(w["end"]),
        timedelta(seconds=w["lead_s"]),
        w["asked"],
    )


def measured(data: dict[str, Any], **kwargs: Any) -> Measurement:
    pods, nodes = timeline_from_dict(data)
    target = kwargs.pop("target_s", 30.0 * data["time_scale"])
    return measure(
        window_of(data), pods, nodes, datetime.fromisoformat(data["at"]), target_s=target, **kwargs
    )


@pytest.mark.parametrize("path", ALL_SCHEDULED, ids=[p.stem for p in ALL_SCHEDULED])
def test_waits_match_the_benchmarks_own_measurement(path: Path) -> None:
    data = load(path)
    m = measured(data)
    truth = data["bench_waits_cluster_s"]
    assert m.arrivals == data["bench_students"]
    assert m.wait is not None
    assert m.wait.p50 == pytest.approx(truth["p50"], abs=1.0)
    assert m.wait.p95 == pytest.approx(truth["p95"], abs=1.0)
    assert m.wait.max == pytest.approx(truth["max_wait"], abs=1.0)


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_timelines_survive_a_json_round_trip(path: Path) -> None:
    pods, nodes = timeline_from_dict(load(path))
    assert timeline_from_dict(json.loads(json.dumps(timeline_to_dict(pods, nodes)))) == (
        pods,
        nodes,
    )


def test_too_few_warm_nodes_are_flagged_and_a_larger_number_advised() -> None:
    data = load(TIMELINES / "sweep-n4-students-only.json")
    m = measured(data)
    assert m.over_target > 0
    assert not m.capacity_ready_in_time
    assert m.bottleneck == "nodes"
    advice = recommend(m, data["users_per_node"], interval_s=7.5)
    assert advice.nodes is not None and advice.nodes > data["window"]["asked"]


def test_the_recorded_surge_with_four_warm_nodes() -> None:
    """`user: 4` for 100 students: the four nodes were warm at the start, the students
    preempted all four placeholders, 19 nodes were added, and 41 students waited longer than
    the (compressed) 30 s target for them."""
    data = load(TIMELINES / "ours-n4.json")
    m = measured(data)
    assert (m.warm_at_start, m.asked_ready, m.preempted, m.nodes_added) == (4, True, 4, 19)
    assert m.over_target == 42 and m.while_free == 0
    assert not m.capacity_ready_in_time and m.bottleneck == "nodes"
    assert m.peak_concurrent == 106  # the class and the 6 sessions that were there before
    assert m.node_up is not None and m.node_up.p50 == 32.0  # boot 30 s + the autoscaler
    advice = recommend(m, data["users_per_node"], interval_s=7.5)
    assert advice.nodes == 10 and advice.lead_s is None  # the lead was long enough


@pytest.mark.parametrize("name", ["ours-n4.json", "ours-n8.json", "ours-n9.json", "ours-n10.json"])
def test_the_controllers_live_report_agrees_with_the_recorded_timeline(name: str) -> None:
    """The controller measured the run from its own pod watch; the benchmark's sampler
    recorded it independently. Both give the same report."""
    data = load(TIMELINES / name)
    [live] = data["live_reports"]
    m = measured(data, target_s=live["target_s"])
    offline = to_json(summary(m, recommend(m, data["users_per_node"], interval_s=8)))
    for key in (
        "arrivals",
        "wait_s",
        "over_target",
        "while_free",
        "warm_at_start",
        "preempted",
        "capacity_ready_in_time",
        "bottleneck",
    ):
        assert offline[key] == live[key], key
    assert offline["advice"]["nodes"] == live["advice"]["nodes"]


@pytest.mark.parametrize("name", ["ours-n4.json", "ours-n13-blocked.json"])
def test_a_report_stored_by_the_controller_reads_back_unchanged(name: str) -> None:
    """The codec on recorded live reports: every key the controller stored comes back with
    its value (a report of an earlier release has fewer keys; they read as empty)."""
    [live] = load(TIMELINES / name)["live_reports"]
    report = from_json(live)
    assert report.pool and report.series == live["series"] and report.start.tzinfo
    again = to_json(report)
    assert {k: live[k] for k in again} == again  # the recording adds the Event's text
    assert message(report) == live["event_message"]
    older = {k: v for k, v in live.items() if k not in ("arrival_curve", "ready_wait_s")}
    assert from_json(older).arrival_curve.most is None and from_json(older).ready_wait_s is None
    with pytest.raises(ValueError, match="series and start"):
        from_json({"pool": "user"})


def test_students_blocked_by_a_node_selector_typo_are_not_a_node_shortage() -> None:
    """`user: 13` (plenty) and every 4th student asks for a label no node has: 25 students
    never start although placeholders stay free. The controller said so live, and the advice
    leaves them out of the arrival curve (no node would help them)."""
    data = load(TIMELINES / "ours-n13-blocked.json")
    [live] = data["live_reports"]
    assert (live["bottleneck"], live["while_free"], live["over_target"]) == ("not-nodes", 25, 25)
    assert live["capacity_ready_in_time"] is True
    m = measured(data)
    assert (m.arrivals, m.scheduled, m.over_target, m.while_free) == (100, 75, 25, 25)
    assert m.bottleneck == "not-nodes" and m.capacity_ready_in_time
    assert any("didn't match Pod's node affinity/selector" in r for r in m.reasons)
    assert len(m.demand_times) == 75
    advice = recommend(m, data["users_per_node"], interval_s=8)
    assert advice.nodes is not None and advice.nodes <= 10


def test_the_live_advice_over_four_recorded_runs_stays_in_a_narrow_band() -> None:
    """The same class asked for 4, 8, 9 and 10 nodes in four runs: the controller advised
    10 to 12 every time (more when that run's nodes came up slower), never the whole class."""
    advised = {
        n: load(TIMELINES / f"ours-n{n}.json")["live_reports"][0]["advice"]["nodes"]
        for n in (4, 8, 9, 10)
    }
    assert all(10 <= a <= 12 for a in advised.values()), advised


def test_the_advice_does_not_depend_much_on_what_the_event_asked_for() -> None:
    """The same class under N = 4, 8 and 13: the arrival curve and node-up times are the
    class's and the cluster's, so the advice lands in a narrow band whatever was asked."""
    advised = []
    for n in (4, 8, 13):
        data = load(TIMELINES / f"sweep-n{n}-students-only.json")
        advice = recommend(measured(data), data["users_per_node"], interval_s=7.5)
        assert advice.nodes is not None
        advised.append(advice.nodes)
    assert max(advised) - min(advised) <= 4
    assert all(9 <= n <= 15 for n in advised)  # 15: every student of the class (100 / 7)


def _pod(name: str, created: float, scheduled: float | None, **kw: Any) -> PodTimeline:
    at = lambda s: None if s is None else T0 + timedelta(seconds=s)  # noqa: E731
    fields: dict[str, Any] = {"placeholder": False, "targets_pool": True, "node": None}
    fields.update(kw)
    for key in ("deleted", "ready"):
        if key in fields:
            fields[key] = at(fields[key])
    return PodTimeline(name, "hub", at(created), scheduled=at(scheduled), **fields)  # type: ignore[arg-type]


def _window(asked: int = 2) -> Window:
    return Window(
        "user", "uid-1", "Data 8", T0, T0 + timedelta(minutes=10), timedelta(minutes=5), asked
    )


def test_only_user_pods_of_the_pool_arrive_and_only_inside_the_window() -> None:
    nodes = [NodeTimeline("pool-a", T0 - timedelta(hours=1), T0 - timedelta(hours=1))]
    pods = [
        _pod("student", 10, 11, node="pool-a"),
        _pod("early", -400, -399, node="pool-a"),  # before start - lead
        _pod("late", 700, 701, node="pool-a"),  # after end
        _pod("other-pool", 10, 11, node="elsewhere", targets_pool=False),
        _pod("pending-here", 20, None),  # pending, its nodeSelector names the pool
        _pod("pending-elsewhere", 20, None, targets_pool=False),
        _pod("ds", 10, 10, node="pool-a", owner_kind="DaemonSet"),
        _pod("static", 10, 10, node="pool-a", mirror=True, owner_kind="Node"),
        _pod("placeholder-x", 10, 10, node="pool-a", placeholder=True),
    ]
    m = measure(_window(), pods, nodes, T0 + timedelta(minutes=20))
    assert m.arrivals == 2
    assert m.waits == (1.0, 1180.0)  # the pending one waits until the report time
    assert m.scheduled == 1


def test_waits_while_placeholders_ran_mean_nodes_were_not_the_bottleneck() -> None:
    nodes = [NodeTimeline("pool-a", T0 - timedelta(hours=1), T0 - timedelta(hours=1))]
    blocked = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    pods = [_pod("ph", -300, -250, node="pool-a", placeholder=True)]
    pods += [_pod(f"s{i}", i, None, unschedulable=blocked) for i in range(5)]
    m = measure(_window(asked=1), pods, nodes, T0 + timedelta(minutes=20))
    assert m.warm_at_start == 1 and m.asked_ready
    assert m.over_target == m.while_free == 5
    assert m.bottleneck == "not-nodes"
    assert m.reasons == ("node(s) didn't match Pod's node affinity/selector.",)
    assert m.capacity_ready_in_time  # the warm nodes were there; students waited for another reason


def test_node_up_runs_from_the_pending_placeholder_to_the_node_ready() -> None:
    pods = [
        _pod("ph-1", 0, 100, node="new-1", placeholder=True),
        _pod("ph-2", 5, 130, node="new-2", placeholder=True),
    ]
    nodes = [
        NodeTimeline("new-1", T0 + timedelta(seconds=10), T0 + timedelta(seconds=95)),
        NodeTimeline("new-2", T0 + timedelta(seconds=12), T0 + timedelta(seconds=125)),
    ]
    m = measure(_window(), pods, nodes, T0 + timedelta(minutes=20))
    assert m.node_ups == (95.0, 120.0)
    assert m.nodes_added == 2


@pytest.mark.parametrize(
    ("offsets", "width", "most"),
    [
        ([], 10.0, 0),
        ([0, 1, 2, 30, 31], 5.0, 3),
        ([0, 10, 20, 30], 10.0, 2),  # both ends of the window count
        ([0, 0, 0, 100], 0.0, 3),
    ],
)
def test_arrival_curve_is_the_most_arrivals_in_any_window(
    offsets: list[float], width: float, most: int
) -> None:
    assert most_in_window([T0 + timedelta(seconds=o) for o in offsets], width) == most


@pytest.mark.parametrize(
    ("selector", "affinity", "expected"),
    [
        (POOL, (), True),
        ({**POOL, "hub.jupyter.org/node-purpose": "user"}, (), True),  # asks for more: still ours
        ({"hub.jupyter.org/pool-name": "gpu-pool"}, (), False),
        ({}, ((("hub.jupyter.org/pool-name", "In", ("user-pool", "other")),),), True),
        ({}, ((("hub.jupyter.org/pool-name", "NotIn", ("user-pool",)),),), False),
        ({}, (), False),
    ],
)
def test_a_pod_targets_the_pool_by_node_selector_or_required_affinity(
    selector: dict[str, str], affinity: Any, expected: bool
) -> None:
    assert selects_pool(selector, affinity, POOL) is expected


def test_thin_data_gives_no_advice() -> None:
    nodes = [NodeTimeline("pool-a", T0 - timedelta(hours=1), T0 - timedelta(hours=1))]
    few = [_pod(f"s{i}", i, i + 1, node="pool-a") for i in range(3)]
    m = measure(_window(), few, nodes, T0 + timedelta(minutes=20))
    advice = recommend(m, 7)
    assert advice.nodes is None and "too few arrivals" in advice.why
    many = [_pod(f"s{i}", i, i + 1, node="pool-a") for i in range(30)]
    m = measure(_window(), many, nodes, T0 + timedelta(minutes=20))
    advice = recommend(m, 7)
    assert advice.nodes is None and "no node was added" in advice.why
    late = [replace(p, scheduled=p.created + timedelta(minutes=2)) for p in many]
    advice = recommend(measure(_window(), late, nodes, T0 + timedelta(minutes=20)), 7)
    assert advice.nodes is None and advice.why == "no node was added: the node-up time is unknown"
