"""A class-sized event's report (seating/track.py through reports/reporter.py): the recorded
surge replayed as in test_reporting, the rounds' decisions carrying the class phase."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry

from node_placeholder_scaler.config.sections import ReportSettings
from node_placeholder_scaler.decisions import Action, PoolDecision, RoundResult
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import ClassRequest, Occurrence, Plan, PoolTarget
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.reports.advice import message
from node_placeholder_scaler.reports.record import from_json
from node_placeholder_scaler.reports.reporter import Reporter
from node_placeholder_scaler.reports.timelines import timeline_from_dict
from node_placeholder_scaler.reports.tracker import Observing, Tracker
from node_placeholder_scaler.seating.phase import ClassState, Phase
from node_placeholder_scaler.seating.track import ClassTrack, as_report, class_line, follow
from testkit.fake_stores import MemoryReportStore
from testkit.fakes import GI, FakeCluster, FakeDeployment
from testkit.replays import FIXTURES, SELECTOR, node_info, recorder, settings

FIXTURE = FIXTURES / "sweep-n4-students-only.json"


def _state(offset: float) -> ClassState:
    phase = Phase.RAMP if offset < 30 else Phase.SEATED if offset < 240 else Phase.RELEASED
    warm = 0 if offset < -40 else 3 if phase == Phase.RAMP else 2 if phase == Phase.SEATED else 0
    return ClassState(phase, warm, 100, 50, 10, 2, warm * 7, 7, "why")


def test_the_report_of_a_class_says_ramp_seated_and_released() -> None:
    data = json.loads(FIXTURE.read_text())
    pods, nodes = timeline_from_dict(data)
    w = data["window"]
    start, end = datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])
    occurrence = Occurrence(
        "course",
        w["series"],
        w["title"],
        start,
        end,
        {},
        timedelta(seconds=w["lead_s"]),
        seats={"user": 100},
    )
    cluster = FakeCluster(
        deployments={"placeholder-user": FakeDeployment(0, Resources(3900, 15 * GI))}
    )
    store, tracker = MemoryReportStore(), Tracker()
    reporter = Reporter(
        settings(),
        ReportSettings(settle=timedelta(minutes=5)),
        tracker,
        Observing(cluster),
        store=store,
        metrics=Metrics(CollectorRegistry()),
    )
    for i, pod in enumerate(pods):
        tracker.observe(f"uid-{i}", recorder(pod, i))
    for offset in range(-60, 400, 8):
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
        target = PoolTarget(
            "user",
            0,
            None,
            False,
            (occurrence,) if active else (),
            classes=(ClassRequest(occurrence, 100),) if active else (),
        )
        decision = PoolDecision(
            "user",
            "placeholder-user",
            Action.UNCHANGED,
            free=0,
            seating=_state(offset) if active else None,
            autosize="autosize advise: class profile from 2 reports",
        )
        reporter.after_round(
            Plan(now, {"user": target}, (), ()), RoundResult(now, False, (decision,)), now
        )
    [stored] = store.reports["placeholder-user"]
    report = from_json(stored)
    seen = stored["class"]
    assert report.seated == seen
    assert (seen["students"], seen["seats_per_node"], seen["peak_warm"]) == (100, 7, 3)
    assert datetime.fromisoformat(seen["ramp_from"]) - start == timedelta(seconds=-36)
    assert datetime.fromisoformat(seen["seated_at"]) - start == timedelta(seconds=36)
    assert seen["released_at"] is None  # the event ended (75 s) before the hold (240 s)
    assert report.autosize == stored["autosize"]
    assert report.autosize == "autosize advise: class profile from 2 reports"
    text = message(report)
    assert "class of 100 students (7 seats per node): ramp from" in text
    assert "(peak 3 warm nodes), seated at" in text and "no refill after" in text
    assert "capacity ready in time: no (0 warm at start)" in text  # no node count asked
    assert reporter.history("user") == [report]  # what autosize learns from next time
    assert report.advice.users_per_node == 7


def test_the_report_line_of_a_short_lead_and_an_unsized_class() -> None:
    start = datetime(2026, 9, 1, 9, 0).astimezone()
    track = ClassTrack(40)
    late = ClassState(Phase.RAMP, 2, 40, 10, 0, 0, 0, 8, "why", timedelta(seconds=90))
    track = follow(track, late, start)
    line = class_line(as_report(track))
    assert line.startswith("class of 40 students (8 seats per node): ramp from ")
    assert "the lead was 90s shorter than node-up + interval" in line
    assert "never seated" in line
    unsized = follow(ClassTrack(40), ClassState(Phase.UNSIZED, 0, 40, 10, 0, 0, 0, 0, "no"), start)
    assert class_line(as_report(unsized)) == (
        "class of 40 students (0 seats per node): not sized in some rounds: no seat size "
        "known, no warm node needed, never seated (students + warm seats stayed short)"
    )
    assert class_line(None) == ""
