"""Class-sized requests end to end without a cluster: the grammar, the plan, one round against
the in-memory fake (placeholders), the log line, the Event text and the metrics."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.config.settings import ConfigError, load_settings
from node_placeholder_scaler.ical.descriptions import parse_description
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import ClassRequest, Occurrence, Plan, PoolTarget
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.plantext import plan_dict, plan_table
from node_placeholder_scaler.reconcile import reconcile_once
from node_placeholder_scaler.reports.record import EventReport, from_json
from testkit.buffer_pools import NAMESPACE, fake_with
from testkit.fakes import GI, T0, FakeCluster, FakeDeployment, node, placeholder_pods, pod
from testkit.ics import Event, calendar
from testkit.unit import book_for

MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "requests", "seats", "problems"),
    [
        ("user: 120 students", {}, {"user": 120}, []),
        ("User:  24   Students", {}, {"user": 24}, []),
        ("user: 3\nuser: 120 students", {"user": 3}, {"user": 120}, []),
        ("user: 120 students\nuser: 90 students", {}, {"user": 90}, ["duplicate"]),
        ("user: 120 student", {}, {}, [("bad-value", "user: 120 students")]),
        ("user: 120 studnets", {}, {}, [("bad-value", "user: 120 students")]),
        ("usr: 120 students", {}, {}, [("unknown-pool", "user: 120 students")]),
        ("user 120 students", {}, {}, [("near-miss", "user: 120 students")]),
        ("user: 3 nodes", {}, {}, [("bad-value", "user: 3")]),  # the node form as before
        ("user: many students", {}, {}, ["bad-value"]),
        ("user: 1234567 students", {}, {}, ["bad-value"]),
        ("Capacity: 120 students", {}, {}, []),  # free text: nothing near a pool
    ],
)
def test_grammar(text, requests, seats, problems):
    parsed = parse_description(text, ["user", "gpu"])
    assert dict(parsed.requests) == requests
    assert dict(parsed.seats) == seats
    found = [
        p.kind if isinstance(want, str) else (p.kind, p.suggestion)
        for p, want in zip(parsed.problems, problems, strict=False)
    ]
    assert found == problems
    assert len(parsed.problems) == len(problems)


@pytest.mark.parametrize(
    ("text", "arrival", "problems"),
    [
        ("user: 40 students\narrival: 90s", timedelta(seconds=90), []),
        ("Arrival: 1h", timedelta(hours=1), []),
        ("arrival: soon", None, [("bad-arrival", None)]),
        ("arrival: 0s", None, [("bad-arrival", "arrival: 1m")]),
        ("arrival: 2d", timedelta(hours=24), [("bad-arrival", "arrival: 1d")]),
    ],
)
def test_an_arrival_line_gives_the_classes_spread(text, arrival, problems):
    parsed = parse_description(text, ["user"])
    assert parsed.arrival == arrival
    assert [(p.kind, p.suggestion) for p in parsed.problems] == problems


def test_the_plan_carries_the_class_from_an_ics_feed(tmp_path):
    start = T0
    feed = tmp_path / "c.ics"
    feed.write_bytes(
        calendar(
            [
                Event(
                    "Data 8",
                    start,
                    start + 60 * MIN,
                    "Data 8\nuser: 120 students\nlead: 20m\narrival: 15m",
                ),
                Event("Lab", start, start + 60 * MIN, "user: 2"),
            ]
        )
    )
    book = book_for(
        f"calendars: [{{name: c, url: {feed}, pools: [user]}}]\n"
        "pools: {user: {minReplicas: 1}, gpu: {}}\n",
        start - timedelta(days=1),
    )
    before, opened = book.plan(start - 21 * MIN), book.plan(start - 20 * MIN)
    assert (before.pools["user"].target, before.pools["user"].classes) == (1, ())
    assert opened.pools["user"].target == 0  # a class alone: sized by the round, not minReplicas
    assert len(opened.pools["user"].classes) == 1
    user = book.plan(start).pools["user"]
    assert user.target == 2  # the node form of Lab; the class is sized by the round
    assert [(c.occurrence.summary, c.seats, c.spread) for c in user.classes] == [
        ("Data 8", 120, 15 * MIN)
    ]
    assert sorted(user.event_names) == ["Data 8", "Lab"]


def test_a_class_for_a_pool_outside_the_allow_list_is_refused(tmp_path):
    feed = tmp_path / "c.ics"
    feed.write_bytes(calendar([Event("GPU class", T0, T0 + 60 * MIN, "gpu: 30 students")]))
    book = book_for(
        f"calendars: [{{name: c, url: {feed}, pools: [user]}}]\npools: {{user: {{}}, gpu: {{}}}}\n",
        T0 - timedelta(days=1),
    )
    plan = book.plan(T0)
    assert plan.pools["gpu"].classes == ()
    assert [p.kind for p in plan.problems] == ["not-allowed"]


CONFIG = """
namespace: node-placeholder
interval: 30s
leadTime: 5m
calendars: [{name: courses, url: /dev/null}]
pools:
  user: {nodeSelector: {pool: user}, maxReplicas: 20, seatCpu: 0.5, seatMemory: 1.5Gi,
         arrivalSpread: 10m, nodeUp: 2m30s, hold: 12m}
"""


def _round(fake: FakeCluster, at, seats: int = 24, nodes: int = 0, lead=None):
    settings = load_settings(CONFIG, "config.yaml", {})
    occurrence = Occurrence(
        "courses", "d8", "Data 8", T0, T0 + 60 * MIN, lead=lead, seats={"user": seats}
    )
    target = PoolTarget(
        "user",
        nodes,
        nodes or None,
        False,
        (occurrence,),
        classes=(ClassRequest(occurrence, seats, T0 - (lead or 5 * MIN)),),
    )
    result = reconcile_once(
        fake, Plan(at, {"user": target}, (occurrence,), ()), settings, "node-placeholder"
    )
    return result, result.pools[0]


def _fake(replicas: int) -> FakeCluster:
    # a placeholder reserves 3.5 CPU / 14Gi: 7 seats of 0.5 CPU / 1.5Gi... memory: 9; cpu: 7
    return FakeCluster(
        deployments={"placeholder-user": FakeDeployment(replicas, Resources(3500, 14 * GI))}
    )


def test_a_round_ramps_logs_and_writes_the_phase(caplog):
    fake = _fake(0)
    caplog.set_level(logging.INFO)
    result, decision = _round(fake, T0 - 2 * MIN)  # 24 x 1m/10m expected by T0 + 1m -> 3 seats
    assert decision.seating is not None and decision.seating.phase == "ramp"
    assert (decision.desired, fake.scales) == (1, [("placeholder-user", 1)])
    assert "phase=ramp students=24 needed=3 seated=0" in caplog.text
    assert fake.events[0][2].endswith(
        "; class phase ramp: 3 of 24 students expected by now + node-up 3m; 0 seated, "
        "0 free seats, 7 seats per node"
    )
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], [])
    metrics.observe_round(result, 0.1, T0)
    value = metrics.registry.get_sample_value
    assert value("node_placeholder_class_phase", {"pool": "user", "phase": "ramp"}) == 1
    assert value("node_placeholder_class_phase", {"pool": "user", "phase": "none"}) == 0
    assert value("node_placeholder_class_seats", {"pool": "user", "kind": "needed"}) == 3


def test_students_who_bound_lower_the_placeholders_and_a_preempted_one_is_not_refilled():
    fake = _fake(4)
    fake.nodes = [node(f"n{i}", age=timedelta(minutes=3)) for i in range(4)]
    deployment = fake.deployments["placeholder-user"]
    deployment.pods = placeholder_pods("placeholder-user", ["n1", "n2", "n3", None])
    # 7 students arrived since the window opened: 6 on n0, one preempted n1's placeholder
    students = [
        replace(pod(f"s{i}", "n0", cpu=0.5, memory_gi=1.5), created=T0 + MIN) for i in range(6)
    ]
    fake.pods = [*students, replace(pod("s6", "n1", cpu=0.5, memory_gi=1.5), created=T0)]
    deployment.pods[0] = replace(deployment.pods[0], node=None, phase="Pending")
    _, decision = _round(fake, T0 + 5 * MIN)
    state = decision.seating
    assert state is not None
    # seats per node from a node's room (4 CPU / 0.5 = 8; the placeholder's 3.5 CPU would say
    # 7); seated 7; free seats: n0 8 less 6 = 2, n1 7 (its placeholder is gone) = 9;
    # 7 + 9 + 4 x 8 >= 24: seated; room kept for the whole class: 24 - 7 - 9 = 8 seats, 1 node
    assert (state.seated, state.free, state.booting, state.seats_per_node) == (7, 9, 32, 8)
    assert state.phase == "seated" and (decision.current, decision.desired) == (4, 1)
    assert fake.scales == [("placeholder-user", 1)]


def test_a_buffer_pool_counts_the_room_left_beside_students_as_free_seats():
    # A CapacityBuffer's chunks are virtual: the scheduler spreads students over the buffer's
    # nodes, and a node with a student no longer fits a node-sized chunk (the autoscaler boots
    # a new node for it). Its room is free seats; only the empty nodes hold chunks.
    settings = load_settings(
        CONFIG.replace("maxReplicas: 20,", "maxReplicas: 20, backend: capacityBuffer,"),
        "config.yaml",
        {},
    )
    fake = fake_with(("karpenter-fits", 3), None)
    fake.nodes = [node(f"n{i}", age=timedelta(minutes=3)) for i in range(4)]
    on = ["n0", "n0", "n0", "n1"]  # 4 students: n0 keeps 5 seats, n1 7; n2, n3 are empty
    fake.pods = [
        replace(pod(f"s{i}", n, cpu=0.5, memory_gi=1.5), created=T0 + MIN) for i, n in enumerate(on)
    ]
    occurrence = Occurrence("courses", "d8", "Data 8", T0, T0 + 60 * MIN, seats={"user": 24})
    target = PoolTarget(
        "user",
        0,
        None,
        False,
        (occurrence,),
        classes=(ClassRequest(occurrence, 24, T0 - 5 * MIN),),
    )
    plan = Plan(T0 + 2 * MIN, {"user": target}, (occurrence,), ())
    [decision] = reconcile_once(fake, plan, settings, NAMESPACE).pools
    state = decision.seating
    assert state is not None
    # 4 seated + 12 free + 3 chunks x 8 seats >= 24: seated; 24 - 4 - 12 = 8 seats: one chunk
    assert (state.phase, state.seated, state.free, state.booting) == ("seated", 4, 12, 24)
    assert (decision.current, decision.desired) == (3, 1)
    assert fake.scales == [("buffer-user", 1)]


def test_after_the_hold_everything_is_released():
    fake = _fake(3)
    _, decision = _round(fake, T0 + 12 * MIN)
    assert decision.seating is not None and decision.seating.phase == "released"
    assert fake.scales == [("placeholder-user", 0)]
    assert (
        "class phase released: arrival window (hold 12m) passed at 09:12 UTC" in (fake.events[0][2])
    )


def test_node_form_and_class_add_up_and_the_class_alone_ignores_headroom_grace():
    fake = _fake(0)
    _, decision = _round(fake, T0 - 2 * MIN, nodes=2)
    assert decision.desired == 3  # 2 nodes asked + 1 for the first 3 students


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("seatMemory: lots", "pools.user.seatMemory: expected a memory size"),
        ("seatsPerNode: 0", "pools.user.seatsPerNode"),
        ("autosize: always", "pools.user.autosize"),
        ("nodeUp: 0s", "pools.user.nodeUp"),
    ],
)
def test_bad_class_settings_name_the_key(body, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_settings(
            "calendars: [{url: /dev/null}]\npools: {user: {" + body + "}}\n", "config.yaml", {}
        )


def _history(pool: str) -> list[EventReport]:
    return [
        from_json(
            {
                "series": "courses/d8",
                "start": "2026-11-16T09:00:00+00:00",
                "arrivals": 60,
                "arrival_curve": {"window_s": 60, "most": 30},
                "advice": {"users_per_node": 5, "nodes": 4},
            }
        )
    ]


@pytest.mark.parametrize(
    ("mode", "below", "asked", "desired"),
    [
        ("off", "never", 2, 2),
        ("advise", "never", 2, 2),
        ("apply", "never", 2, 4),
        ("apply", "never", 6, 6),  # never below the explicit request...
        ("apply", "allowed", 6, 4),  # ...unless the operator allows it
    ],
)
def test_autosize_of_a_node_request(mode, below, asked, desired, caplog):
    settings = load_settings(
        CONFIG.replace(
            "hold: 12m}", f"hold: 12m, autosize: {mode}, autosizeBelowRequest: {below}}}"
        ),
        "config.yaml",
        {},
    )
    occurrence = Occurrence("courses", "d8", "Data 8", T0, T0 + 60 * MIN, {"user": asked})
    target = PoolTarget("user", asked, asked, False, (occurrence,))
    fake = _fake(0)
    caplog.set_level(logging.INFO)
    result = reconcile_once(
        fake,
        Plan(T0, {"user": target}, (occurrence,), ()),
        settings,
        "node-placeholder",
        history=_history,
    )
    assert result.pools[0].desired == desired
    if mode == "off":
        assert result.pools[0].autosize is None
    else:
        assert f"autosize {mode}: " in fake.events[0][2]
        assert "from 1 report of the series, node-up p90 1m" in caplog.text


def test_autosize_apply_sizes_a_class_from_the_series():
    settings = load_settings(
        CONFIG.replace("hold: 12m}", "hold: 12m, autosize: apply}"), "config.yaml", {}
    )
    occurrence = Occurrence("courses", "d8", "Data 8", T0, T0 + 60 * MIN, seats={"user": 24})
    target = PoolTarget(
        "user", 0, None, False, (occurrence,), classes=(ClassRequest(occurrence, 24),)
    )
    fake = _fake(0)
    result = reconcile_once(
        fake,
        Plan(T0, {"user": target}, (occurrence,), ()),
        settings,
        "node-placeholder",
        history=_history,
    )
    state = result.pools[0].seating
    # learned: 5 seats per node, spread 60 x 60 / 30 = 2m, node-up 1m (+ 30s interval):
    # at T0, 24 x 1m30s / 2m = 18 expected -> 4 nodes of 5
    assert state is not None and state.seats_per_node == 5 and state.needed == 18
    assert result.pools[0].desired == 4
    assert "(autosized: 1 report of the series" in state.why


def test_plan_output_names_the_class(tmp_path):
    feed = tmp_path / "c.ics"
    feed.write_bytes(calendar([Event("Data 8", T0, T0 + 60 * MIN, "user: 120 students")]))
    book = book_for(
        f"calendars: [{{name: c, url: {feed}}}]\npools: {{user: {{}}}}\n", T0 - timedelta(days=1)
    )
    plan = book.plan(T0)
    assert "0 + a class of 120 students" in plan_table(plan, ZoneInfo("UTC"))
    assert plan_dict(plan)["events"][0]["seats"] == {"user": 120}


def test_a_lead_shorter_than_the_node_up_time_is_told():
    fake = _fake(0)
    _, decision = _round(fake, T0 - MIN, lead=MIN)  # due at T0 - 3m (node-up 2m30s + 30s)
    state = decision.seating
    assert state is not None and state.late == 2 * MIN and state.phase == "ramp"
    assert decision.desired == 1  # it still warms what the time left allows
    assert fake.events[0][2].endswith(
        "; the lead is 2m shorter than node-up + interval: the first arrivals may wait"
    )
